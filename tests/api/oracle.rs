//! graphql-js, the reference implementation, as an oracle of order and merging: the harness
//! in `tests/js/oracle.mjs` executes a document with graphql-js over `schema.graphql`,
//! reading each response key from the server's answer, and says whether the server's
//! answer is the JSON text graphql-js would give. It runs as one Node process per test,
//! spoken to in JSON lines.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

pub struct Oracle {
    _child: Child,
    input: ChildStdin,
    output: Lines<BufReader<ChildStdout>>,
    next_id: u64,
}

fn js_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/js")
}

impl Oracle {
    /// Starts the harness, installing its pinned packages first if they are not there.
    pub async fn start() -> Self {
        let dir = js_dir();
        if !dir.join("node_modules/graphql").exists() {
            let status = Command::new("npm")
                .args(["ci", "--silent", "--no-audit", "--no-fund"])
                .current_dir(&dir)
                .status()
                .await
                .expect(
                    "npm (Node.js) is needed for the graphql-js oracle: apt-get install nodejs npm",
                );
            assert!(status.success(), "npm ci in tests/js failed");
        }
        let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("schema.graphql");
        let mut child = Command::new("node")
            .arg(dir.join("oracle.mjs"))
            .arg(schema)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("node (Node.js 20) is needed for the graphql-js oracle");
        let input = child.stdin.take().expect("stdin");
        let output = BufReader::new(child.stdout.take().expect("stdout")).lines();
        Self {
            _child: child,
            input,
            output,
            next_id: 0,
        }
    }

    /// The harness's verdict on `query` as the server at `url` answers it: `{"ok": true}` or
    /// what differs (see `tests/js/oracle.mjs`).
    pub async fn check(
        &mut self,
        url: &str,
        token: Option<&str>,
        query: &str,
        variables: &Value,
    ) -> Value {
        self.next_id += 1;
        let line = json!({ "id": self.next_id, "url": url, "token": token,
                           "query": query, "variables": variables, "operationName": null });
        self.input
            .write_all(format!("{line}\n").as_bytes())
            .await
            .expect("write to the oracle");
        self.input.flush().await.expect("flush the oracle");
        let answer = self
            .output
            .next_line()
            .await
            .expect("read the oracle")
            .expect("the oracle stopped");
        serde_json::from_str(&answer).expect("the oracle's answer is JSON")
    }
}
