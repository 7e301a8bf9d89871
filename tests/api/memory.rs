//! The memory bound: a 200 MB upload keeps the server's peak memory flat. The server runs as
//! its own process so that its peak RSS (VmHWM) is its own.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use bytes::Bytes;
use serde_json::{Value, json};

use crate::fixtures;
use crate::helpers::{PASSWORD, TestApp};

const UPLOAD_BYTES: u64 = 200 * 1024 * 1024;
/// How much the peak may grow while 200 MB pass through.
const ALLOWED_GROWTH: u64 = 64 * 1024 * 1024;

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM");
    kb * 1024
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_200_mb_upload_keeps_peak_memory_flat() {
    // A database and data dir of its own (the in-process server is not used).
    let app = TestApp::spawn().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(env!("CARGO_BIN_EXE_hypernet"))
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .env("DATABASE_URL", &app.database_url)
        .envs(app.owner_env())
        .env("HYPERNET_DATA_DIR", app.data_dir.path())
        .env("HYPERNET_REGISTRATION", "open")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let server = Server(child);
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(300))
        .build()
        .unwrap();
    let mut up = false;
    for _ in 0..100 {
        if client.get(format!("{base}/healthz")).send().await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(up, "the server did not start");

    let res: Value = client
        .post(format!("{base}/graphql"))
        .json(&json!({ "query": format!(
            "mutation {{ register(input: {{ email: \"big@example.com\", password: \"{PASSWORD}\" }}) {{ accessToken }} }}"
        ) }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = res["data"]["register"]["accessToken"]
        .as_str()
        .expect("registered")
        .to_string();

    // Warm up the upload path with a small file so that one-time allocations are in the base.
    let small = fixtures::mp4(320, 240, 1000, 64 * 1024);
    let warm = upload(
        &client,
        &base,
        &token,
        small.len() as u64,
        vec![Bytes::from(small)],
    )
    .await;
    assert!(warm["data"]["uploadMedia"]["media"].is_object(), "{warm}");
    let before = peak_rss(server.0.id());

    let head = fixtures::mp4_head(3840, 2160, 600_000, UPLOAD_BYTES);
    let total = head.len() as u64 + UPLOAD_BYTES;
    let chunk = Bytes::from(vec![0u8; 1024 * 1024]);
    let mut parts = vec![Bytes::from(head)];
    parts.extend(std::iter::repeat_n(
        chunk,
        (UPLOAD_BYTES / (1024 * 1024)) as usize,
    ));
    let res = upload(&client, &base, &token, total, parts).await;
    let media = &res["data"]["uploadMedia"]["media"];
    assert_eq!(media["size"], total, "{res}");
    assert_eq!(media["mimeType"], "video/mp4");
    assert_eq!(media["durationMs"], 600_000);
    let after = peak_rss(server.0.id());
    let growth = after.saturating_sub(before);
    eprintln!(
        "peak RSS before {} MiB, after {} MiB",
        before >> 20,
        after >> 20
    );
    assert!(
        growth < ALLOWED_GROWTH,
        "peak RSS grew by {} MiB while 200 MB were uploaded",
        growth >> 20
    );
}

/// A multipart upload whose file part is streamed from `parts` (never whole in this process
/// either).
async fn upload(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    len: u64,
    parts: Vec<Bytes>,
) -> Value {
    let operations = json!({
        "query": "mutation($input: UploadMediaInput!) { uploadMedia(input: $input) { media { size mimeType durationMs } } }",
        "variables": { "input": { "file": null } }
    });
    let stream = futures_util::stream::iter(parts.into_iter().map(Ok::<_, std::io::Error>));
    let part =
        reqwest::multipart::Part::stream_with_length(reqwest::Body::wrap_stream(stream), len)
            .file_name("movie.mp4")
            .mime_str("video/mp4")
            .unwrap();
    let form = reqwest::multipart::Form::new()
        .text("operations", operations.to_string())
        .text("map", json!({ "0": ["variables.input.file"] }).to_string())
        .part("0", part);
    client
        .post(format!("{base}/graphql"))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}
