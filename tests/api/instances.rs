//! Two `hypernet serve` processes on one database and one store, behind nginx (Debian's, on
//! loopback; `.ci/run` installs it): what one instance starts, the other finishes; what one
//! knows (the login throttle, persisted documents, signing keys), the other knows; the
//! maintenance sweep runs on one at a time; a rolling restart loses no request.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_code, comes_up, patch_chunk, sha256_hex};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One instance: a `hypernet serve` child process on a port of its own.
struct Instance {
    port: u16,
    child: Option<tokio::process::Child>,
    env: Vec<(&'static str, String)>,
}

impl Instance {
    async fn start(port: u16, env: Vec<(&'static str, String)>, client: &reqwest::Client) -> Self {
        let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_hypernet"))
            .arg("serve")
            .envs(env.iter().cloned())
            .env("HYPERNET_BIND", format!("127.0.0.1:{port}"))
            .env("RUST_LOG", "warn")
            .kill_on_drop(true)
            .spawn()
            .expect("start an instance");
        let ready = format!("http://127.0.0.1:{port}/readyz");
        assert!(
            comes_up(client, &ready, 300).await,
            "instance on {port} did not start"
        );
        Self {
            port,
            child: Some(child),
            env,
        }
    }

    /// Stops it as a service manager does (SIGTERM), and waits for it to exit.
    async fn stop(&mut self) {
        let mut child = self.child.take().expect("running");
        let pid = child.id().expect("pid").to_string();
        let status = tokio::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .await
            .unwrap();
        assert!(status.success());
        let exited = tokio::time::timeout(Duration::from_secs(30), child.wait())
            .await
            .expect("the instance stops")
            .unwrap();
        assert!(exited.success(), "{exited}");
    }

    async fn restart(&mut self, client: &reqwest::Client) {
        let started = Self::start(self.port, self.env.clone(), client).await;
        self.child = started.child;
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

/// nginx in the foreground, round-robin over the instances; a request an instance refused or
/// reset while stopping is retried on the next one (the README's deployment page).
struct Proxy {
    child: tokio::process::Child,
    _dir: tempfile::TempDir,
}

impl Proxy {
    async fn start(port: u16, upstreams: &[u16], client: &reqwest::Client) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let servers: String = upstreams
            .iter()
            .map(|p| format!("        server 127.0.0.1:{p} max_fails=0;\n"))
            .collect();
        let root = dir.path().display();
        let conf = format!(
            "daemon off;
user root root;
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {root}/body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
    upstream hypernet {{
{servers}    }}
    server {{
        listen 127.0.0.1:{port};
        client_max_body_size 0;
        location / {{
            proxy_pass http://hypernet;
            proxy_http_version 1.1;
            proxy_request_buffering off;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            # A stopping instance finishes what it has read; a request it refused or reset
            # before reading was never run, so even a mutation may go to the other.
            proxy_next_upstream error timeout non_idempotent;
            proxy_next_upstream_tries 2;
        }}
    }}
}}
"
        );
        let path = dir.path().join("nginx.conf");
        std::fs::write(&path, conf).unwrap();
        let child = tokio::process::Command::new("nginx")
            .arg("-c")
            .arg(&path)
            .arg("-p")
            .arg(dir.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start nginx");
        let health = format!("http://127.0.0.1:{port}/healthz");
        assert!(
            comes_up(client, &health, 100).await,
            "nginx did not start: {}",
            std::fs::read_to_string(dir.path().join("error.log")).unwrap_or_default()
        );
        Self { child, _dir: dir }
    }
}

impl Drop for Proxy {
    /// SIGTERM to the master, which stops its workers (a SIGKILL would leave them running).
    fn drop(&mut self) {
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
        }
    }
}

fn nginx_installed() -> bool {
    std::process::Command::new("nginx")
        .arg("-v")
        .output()
        .is_ok_and(|o| o.status.success())
}

async fn operations_on(client: &reqwest::Client, instance: &Instance) -> f64 {
    let text = client
        .get(instance.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .filter(|l| l.starts_with("hypernet_graphql_operation_duration_seconds_count{"))
        .filter_map(|l| l.rsplit_once(' ')?.1.parse::<f64>().ok())
        .sum()
}

async fn post(client: &reqwest::Client, url: &str, body: Value, token: Option<&str>) -> Value {
    let mut req = client.post(url).json(&body);
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    let res = req.send().await.expect("request");
    assert!(res.status().is_success(), "{}", res.status());
    res.json().await.expect("json")
}

async fn holder(app: &TestApp) -> String {
    let holders = app
        .strings("SELECT holder FROM leases WHERE name = 'maintenance'")
        .await;
    assert_eq!(holders.len(), 1, "{holders:?}");
    holders[0].clone()
}

/// The holder of the maintenance lease, checked to stay the same for `secs` seconds.
async fn steady_holder(app: &TestApp, secs: u64) -> String {
    let first = holder(app).await;
    for _ in 0..secs * 5 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(holder(app).await, first, "the lease changed hands");
    }
    first
}

#[tokio::test]
async fn two_instances_behind_a_proxy_share_everything_and_restart_in_turn() {
    if !nginx_installed() {
        // `.ci/run` installs nginx and sets this, so that the test cannot pass by not running.
        assert!(
            std::env::var_os("HYPERNET_TEST_REQUIRE_PROXY").is_none(),
            "nginx is not installed"
        );
        eprintln!("nginx is not installed: the two-instance test runs in .ci/run");
        return;
    }
    let app = TestApp::spawn_with(|c| c.maintenance_interval_secs = 0).await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let (port_a, port_b) = (free_port(), free_port());
    let proxy_port = free_port();
    // One database, one store, one signing key; each instance its own data dir.
    let mut env: Vec<(&'static str, String)> = vec![
        ("DATABASE_URL", app.database_url.clone()),
        (
            "HYPERNET_JWT_SECRET",
            "a shared signing key of the deployment".into(),
        ),
        ("HYPERNET_SECRETS_KEY", "ab".repeat(32)),
        ("HYPERNET_REGISTRATION", "open".into()),
        ("HYPERNET_MAINTENANCE_INTERVAL_SECS", "1".into()),
        ("HYPERNET_SHUTDOWN_GRACE_SECS", "10".into()),
        ("HYPERNET_TRUST_FORWARDED_FOR", "true".into()),
    ];
    env.extend(app.owner_env());
    let shared_blobs = tempfile::tempdir().unwrap();
    match std::env::var("HYPERNET_TEST_S3_URL") {
        Ok(bucket) => env.push((
            "HYPERNET_STORAGE_URL",
            format!("{bucket}/{}", uuid::Uuid::now_v7().simple()),
        )),
        Err(_) => env.push((
            "HYPERNET_STORAGE_URL",
            format!("file://{}", shared_blobs.path().display()),
        )),
    }
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let with_dir = |dir: &tempfile::TempDir| {
        let mut env = env.clone();
        env.push(("HYPERNET_DATA_DIR", dir.path().display().to_string()));
        env.push((
            "HYPERNET_PUBLIC_URL",
            format!("http://127.0.0.1:{proxy_port}"),
        ));
        env
    };
    let mut a = Instance::start(port_a, with_dir(&dir_a), &client).await;
    let mut b = Instance::start(port_b, with_dir(&dir_b), &client).await;
    let _proxy = Proxy::start(proxy_port, &[port_a, port_b], &client).await;
    let proxied = format!("http://127.0.0.1:{proxy_port}/graphql");

    // Requests through the proxy reach both instances.
    let register = json!({
        "query": "mutation($i: RegisterInput!) { register(input: $i) { accessToken } }",
        "variables": { "i": { "email": "ann@example.com", "password": crate::helpers::PASSWORD } },
    });
    let res = post(&client, &proxied, register, None).await;
    let token = res["data"]["register"]["accessToken"]
        .as_str()
        .unwrap_or_else(|| panic!("{res}"))
        .to_string();
    for _ in 0..10 {
        let res = post(
            &client,
            &proxied,
            json!({ "query": "{ viewer { email } }" }),
            Some(&token),
        )
        .await;
        assert_eq!(res["data"]["viewer"]["email"], "ann@example.com");
    }
    let (on_a, on_b) = (
        operations_on(&client, &a).await,
        operations_on(&client, &b).await,
    );
    assert!(on_a >= 4.0 && on_b >= 4.0, "{on_a} / {on_b}");

    // A resumable upload begun on one instance is continued and completed on the other.
    let bytes = crate::fixtures::jpeg(640, 480, None);
    let begun = post(
        &client,
        &a.url("/graphql"),
        json!({
            "query": "mutation($i: BeginUploadInput!) { beginUpload(input: $i) { upload { id uploadUrl } } }",
            "variables": { "i": { "sha256": sha256_hex(&bytes), "size": bytes.len(), "mimeType": "image/jpeg", "filename": "two.jpg" } },
        }),
        Some(&token),
    )
    .await;
    let upload = begun["data"]["beginUpload"]["upload"].clone();
    let path = upload["uploadUrl"]
        .as_str()
        .unwrap()
        .trim_start_matches(&format!("http://127.0.0.1:{proxy_port}"))
        .to_string();
    let half = bytes.len() / 2;
    for (instance, offset, chunk) in [(&a, 0, &bytes[..half]), (&b, half, &bytes[half..])] {
        let res = patch_chunk(&client, &instance.url(&path), &token, offset, chunk).await;
        assert_eq!(res.status(), 204);
    }
    let done = post(
        &client,
        &b.url("/graphql"),
        json!({
            "query": "mutation($id: ID!) { completeUpload(input: { uploadId: $id }) { media { id hash contentUrl } } }",
            "variables": { "id": upload["id"] },
        }),
        Some(&token),
    )
    .await;
    let media = done["data"]["completeUpload"]["media"].clone();
    assert_eq!(media["hash"], sha256_hex(&bytes), "{done}");

    // A signed content URL minted by one is honoured by the other, without a token.
    let minted = post(
        &client,
        &a.url("/graphql"),
        json!({ "query": "query($id: ID!) { node(id: $id) { ... on Media { contentUrl } } }", "variables": { "id": media["id"] } }),
        Some(&token),
    )
    .await;
    let url = minted["data"]["node"]["contentUrl"].as_str().unwrap();
    let path = url.trim_start_matches(&format!("http://127.0.0.1:{proxy_port}"));
    let res = client.get(b.url(path)).send().await.unwrap();
    assert_eq!(res.status(), 200, "{url}");
    assert_eq!(sha256_hex(&res.bytes().await.unwrap()), sha256_hex(&bytes));

    // A persisted query registered on one runs by its hash on the other.
    let query = "query Mine { viewer { email } }";
    let pq =
        json!({ "persistedQuery": { "version": 1, "sha256Hash": sha256_hex(query.as_bytes()) } });
    let res = post(
        &client,
        &a.url("/graphql"),
        json!({ "query": query, "extensions": pq }),
        Some(&token),
    )
    .await;
    assert_eq!(res["data"]["viewer"]["email"], "ann@example.com");
    let res = post(
        &client,
        &b.url("/graphql"),
        json!({ "extensions": pq }),
        Some(&token),
    )
    .await;
    assert_eq!(res["data"]["viewer"]["email"], "ann@example.com", "{res}");

    // Failed logins on either instance count together.
    let login = |password: String| {
        json!({
            "query": "mutation($i: LoginInput!) { login(input: $i) { accessToken } }",
            "variables": { "i": { "email": "ann@example.com", "password": password } },
        })
    };
    for i in 0..5 {
        let instance = if i % 2 == 0 { &a } else { &b };
        let res = post(
            &client,
            &instance.url("/graphql"),
            login(format!("wrong guess {i}")),
            None,
        )
        .await;
        assert_code(&res, "UNAUTHENTICATED");
    }
    for instance in [&a, &b] {
        let res = post(
            &client,
            &instance.url("/graphql"),
            login("wrong guess 5".into()),
            None,
        )
        .await;
        assert_code(&res, "RATE_LIMITED");
    }

    // The sweep runs on one instance at a time: the lease stays with its holder, and goes to
    // the other when the holder stops.
    steady_holder(&app, 3).await;
    a.stop().await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let with_b = steady_holder(&app, 2).await;
    a.restart(&client).await;
    assert_eq!(
        steady_holder(&app, 3).await,
        with_b,
        "a restarted instance took the lease"
    );
    b.stop().await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let with_a = steady_holder(&app, 2).await;
    assert_ne!(with_a, with_b);
    b.restart(&client).await;

    // A rolling restart under load: every request through the proxy is answered.
    let stop = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(AtomicUsize::new(0));
    let mut load = Vec::new();
    for _ in 0..4 {
        let (client, proxied, token) = (client.clone(), proxied.clone(), token.clone());
        let (stop, answered) = (stop.clone(), answered.clone());
        load.push(tokio::spawn(async move {
            while !stop.load(Ordering::SeqCst) {
                let res = post(
                    &client,
                    &proxied,
                    json!({ "query": "{ viewer { email } }" }),
                    Some(&token),
                )
                .await;
                assert_eq!(res["data"]["viewer"]["email"], "ann@example.com", "{res}");
                answered.fetch_add(1, Ordering::SeqCst);
            }
        }));
    }
    // And a resumable upload goes on through the proxy, a chunk at a time, meanwhile.
    let uploading = {
        let (client, proxied, token) = (client.clone(), proxied.clone(), token.clone());
        let origin = format!("http://127.0.0.1:{proxy_port}");
        tokio::spawn(async move {
            let bytes = crate::fixtures::jpeg(1200, 900, None);
            let begun = post(
                &client,
                &proxied,
                json!({
                    "query": "mutation($i: BeginUploadInput!) { beginUpload(input: $i) { upload { id uploadUrl } } }",
                    "variables": { "i": { "sha256": sha256_hex(&bytes), "size": bytes.len(), "mimeType": "image/jpeg", "filename": "rolling.jpg" } },
                }),
                Some(&token),
            )
            .await;
            let upload = begun["data"]["beginUpload"]["upload"].clone();
            let url = upload["uploadUrl"].as_str().unwrap().to_string();
            assert!(url.starts_with(&origin), "{url}");
            let step = bytes.len().div_ceil(8);
            for offset in (0..bytes.len()).step_by(step) {
                let end = (offset + step).min(bytes.len());
                let res = patch_chunk(&client, &url, &token, offset, &bytes[offset..end]).await;
                assert_eq!(res.status(), 204, "chunk at {offset}");
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
            let done = post(
                &client,
                &proxied,
                json!({
                    "query": "mutation($id: ID!) { completeUpload(input: { uploadId: $id }) { media { hash } } }",
                    "variables": { "id": upload["id"] },
                }),
                Some(&token),
            )
            .await;
            assert_eq!(
                done["data"]["completeUpload"]["media"]["hash"],
                sha256_hex(&bytes),
                "{done}"
            );
        })
    };
    for instance in [&mut a, &mut b] {
        tokio::time::sleep(Duration::from_millis(500)).await;
        instance.stop().await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        instance.restart(&client).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::SeqCst);
    for task in load {
        task.await.expect("no request was lost");
    }
    uploading
        .await
        .expect("the upload went through the restarts");
    assert!(answered.load(Ordering::SeqCst) > 20);
}

#[tokio::test]
async fn instances_starting_together_migrate_once() {
    let app = TestApp::spawn().await;
    let target = app.empty_target().await;
    let env = target.env();
    let (first, second, third) = tokio::join!(
        app.cli_on(&env, &["migrate", "up"]),
        app.cli_on(&env, &["migrate", "up"]),
        app.cli_on(&env, &["migrate", "up"]),
    );
    for out in [&first, &second, &third] {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let status = app.cli_on(&env, &["migrate", "status"]).await;
    let status = String::from_utf8_lossy(&status.stdout);
    assert_eq!(
        status.lines().filter(|l| l.starts_with("applied")).count(),
        <migration::Migrator as migration::MigratorTrait>::migrations().len(),
        "{status}"
    );
}
