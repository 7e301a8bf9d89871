//! `TestApp`: the real server on port 0 with a database of its own.

use std::time::Duration;

use hypernet::App;
use hypernet::config::{Config, RegistrationMode};
use hypernet::db::Db;
use sea_orm::{ConnectionTrait, Database, DbBackend};
use serde_json::{Value, json};

use crate::ordered::Json;

pub const PASSWORD: &str = "correct horse battery staple";

/// How long a test server trusts a session it checked: long, so that the tests that count
/// statements see one check per session at most; hardening.rs sets the production default
/// where revocation is what it tests.
pub const TEST_SESSION_CHECK_SECS: u64 = 600;

/// The role test servers connect to PostgreSQL as: it owns nothing and is no superuser, so
/// row-level security applies to everything they do, as in a deployment that follows the
/// README. The tests' own role (the URL's) owns the schema and migrates it.
pub const SERVER_ROLE: &str = "hypernet_test_server";

pub struct TestApp {
    pub address: String,
    /// The URL of this test's own database, as the server connects to it.
    pub database_url: String,
    /// The URL the schema's owner connects with (on SQLite, the same file).
    pub owner_database_url: String,
    pub client: reqwest::Client,
    /// The database as its owner sees it, for the tests' own SQL: above row-level security on
    /// PostgreSQL (a superuser); on SQLite, the server's pool.
    pub db: Db,
    /// The server's own pool.
    pub pool: Db,
    pub data_dir: tempfile::TempDir,
    /// Dropped with the app: the test database goes with it.
    _postgres: Option<PostgresDb>,
}

/// A registered, signed-in user.
pub struct TestUser {
    pub id: String,
    pub access_token: String,
    pub refresh_token: String,
}

struct PostgresDb {
    admin_url: String,
    name: String,
}

impl PostgresDb {
    /// A new database on the PostgreSQL of `admin_url` (and the server's role, if missing).
    async fn create(admin_url: &str) -> Self {
        let name = format!("hn_test_{}", uuid::Uuid::now_v7().simple());
        let admin = Database::connect(admin_url)
            .await
            .expect("connect to PostgreSQL");
        admin
            .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
            .await
            .expect("create a test database");
        ensure_server_role(&admin).await;
        admin.close().await.ok();
        Self {
            admin_url: admin_url.to_string(),
            name,
        }
    }
}

impl Drop for PostgresDb {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let sql = format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name);
        // Drop runs inside the test's runtime: use a thread with a runtime of its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async {
                if let Ok(db) = Database::connect(&admin_url).await {
                    let _ = db.execute_unprepared(&sql).await;
                    let _ = db.close().await;
                }
            });
        })
        .join();
    }
}

/// `url` with `user` as its user (and no password: the test server trusts loopback).
fn with_user(url: &str, user: &str) -> String {
    let scheme_end = url.find("://").map(|i| i + 3).unwrap_or(0);
    let rest = &url[scheme_end..];
    let host = rest.rfind('@').map_or(rest, |at| &rest[at + 1..]);
    format!("{}{user}@{host}", &url[..scheme_end])
}

/// Creates the server's role on the PostgreSQL of `admin` unless it exists.
async fn ensure_server_role(admin: &sea_orm::DatabaseConnection) {
    // Concurrent tests may race to create it: either error means it is there.
    admin
        .execute_unprepared(&format!(
            "DO $$ BEGIN CREATE ROLE {SERVER_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS;
             EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
        ))
        .await
        .expect("create the server's role");
}

/// The database as its owner sees it: another pool on the owner's URL (PostgreSQL), else
/// the server's.
async fn owner_db(config: &Config, owner_url: &str, server: &Db) -> Db {
    if config.owner_database_url.is_none() {
        return server.clone();
    }
    let config = Config {
        database_url: Some(owner_url.to_string()),
        owner_database_url: None,
        db_max_connections: 4,
        ..config.clone()
    };
    let orm = hypernet::db::connect(&config).await.expect("owner pool");
    hypernet::db::open(&config, orm)
        .await
        .expect("owner pool")
        .0
}

/// The URL of database `name` on the server of `url`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_part = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{host_part}/{name}?{q}"),
        None => format!("{host_part}/{name}"),
    }
}

/// An empty database and data directory (a restore's target), dropped with it.
pub struct Target {
    /// The URL a server connects to it with.
    pub database_url: String,
    /// The URL its schema's owner connects with (on SQLite, the same file).
    pub owner_database_url: String,
    pub data_dir: tempfile::TempDir,
    _postgres: Option<PostgresDb>,
}

impl Target {
    /// The environment of a `hypernet` process on this target.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        let mut env = vec![
            ("DATABASE_URL", self.database_url.clone()),
            (
                "HYPERNET_DATA_DIR",
                self.data_dir.path().display().to_string(),
            ),
        ];
        if self._postgres.is_some() {
            env.push((
                "HYPERNET_OWNER_DATABASE_URL",
                self.owner_database_url.clone(),
            ));
        }
        env
    }
}

impl TestApp {
    /// A new, empty database on this app's backend and an empty data directory.
    pub async fn empty_target(&self) -> Target {
        let data_dir = tempfile::tempdir().expect("temp dir");
        if !self.is_postgres() {
            let url = format!(
                "sqlite://{}?mode=rwc",
                data_dir.path().join("hypernet.db").display()
            );
            return Target {
                database_url: url.clone(),
                owner_database_url: url,
                data_dir,
                _postgres: None,
            };
        }
        let url = std::env::var("HYPERNET_TEST_DATABASE_URL").expect("a PostgreSQL test run");
        let postgres = PostgresDb::create(&url).await;
        Target {
            database_url: with_database(&with_user(&url, SERVER_ROLE), &postgres.name),
            owner_database_url: with_database(&url, &postgres.name),
            data_dir,
            _postgres: Some(postgres),
        }
    }

    /// The test defaults for another server on this backend: on `data_dir` and the database
    /// of these URLs, with no maintenance sweep.
    fn server_config(
        &self,
        data_dir: &std::path::Path,
        database_url: &str,
        owner_database_url: &str,
    ) -> Config {
        let mut config = Config::defaults();
        config.bind = "127.0.0.1:0".parse().unwrap();
        config.data_dir = data_dir.to_path_buf();
        config.registration = RegistrationMode::Open;
        config.db_max_connections = 8;
        config.jwt_secret = None;
        config.maintenance_interval_secs = 0;
        config.session_check_secs = TEST_SESSION_CHECK_SECS;
        config.database_url = Some(database_url.to_string());
        config.owner_database_url = self.is_postgres().then(|| owner_database_url.to_string());
        config
    }

    /// A server on `target` (which must outlive it), and the tests' view of its database.
    pub async fn serve_target(&self, target: &Target) -> Self {
        self.serve_target_with(target, |_| {}).await
    }

    /// As [`serve_target`](Self::serve_target), configured by `configure`.
    pub async fn serve_target_with(
        &self,
        target: &Target,
        configure: impl FnOnce(&mut Config),
    ) -> Self {
        let mut config = self.server_config(
            target.data_dir.path(),
            &target.database_url,
            &target.owner_database_url,
        );
        configure(&mut config);
        let app = App::build(config.clone()).await.expect("build app");
        let address = format!("http://127.0.0.1:{}", app.port());
        let pool = app.db().clone();
        let db = owner_db(&config, &target.owner_database_url, &pool).await;
        tokio::spawn(app.run(std::future::pending()));
        TestApp {
            db,
            pool,
            database_url: target.database_url.clone(),
            owner_database_url: target.owner_database_url.clone(),
            ..self.elsewhere(address)
        }
    }

    /// Runs `hypernet` with `env` (a target's) rather than this app's database.
    pub async fn cli_on(
        &self,
        env: &[(&'static str, String)],
        args: &[&str],
    ) -> std::process::Output {
        tokio::process::Command::new(env!("CARGO_BIN_EXE_hypernet"))
            .args(args)
            .envs(env.iter().cloned())
            .env("RUST_LOG", "warn")
            .output()
            .await
            .expect("run hypernet")
    }
}

impl TestApp {
    /// A second server on this one's database and data directory, configured by
    /// `configure` (it keeps neither alive: `self` does).
    pub async fn spawn_beside(&self, configure: impl FnOnce(&mut Config)) -> Self {
        self.spawn_beside_until(configure, std::future::pending())
            .await
    }

    /// As [`spawn_beside`](Self::spawn_beside), stopping (as on SIGTERM) when `shutdown`
    /// completes.
    pub async fn spawn_beside_until(
        &self,
        configure: impl FnOnce(&mut Config),
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Self {
        let mut config = self.server_config(
            self.data_dir.path(),
            &self.database_url,
            &self.owner_database_url,
        );
        configure(&mut config);
        let app = App::build(config).await.expect("build app");
        let address = format!("http://127.0.0.1:{}", app.port());
        let pool = app.db().clone();
        tokio::spawn(app.run(shutdown));
        TestApp {
            pool,
            ..self.elsewhere(address)
        }
    }

    /// The server at `address` (started by the test itself, say as another process) on this
    /// one's database.
    pub fn elsewhere(&self, address: String) -> Self {
        TestApp {
            address,
            database_url: self.database_url.clone(),
            owner_database_url: self.owner_database_url.clone(),
            client: self.client.clone(),
            db: self.db.clone(),
            pool: self.pool.clone(),
            data_dir: tempfile::tempdir().expect("temp dir"),
            _postgres: None,
        }
    }

    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// Starts the server with the test defaults (open registration, a fresh database),
    /// changed by `configure`.
    pub async fn spawn_with(configure: impl FnOnce(&mut Config)) -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let _ = tracing_subscriber::fmt()
            .with_test_writer()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_default_env()
                    .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,sqlx=error")),
            )
            .try_init();
        let data_dir = tempfile::tempdir().expect("temp dir");
        let mut config = Config::defaults();
        config.bind = "127.0.0.1:0".parse().unwrap();
        config.data_dir = data_dir.path().to_path_buf();
        config.registration = RegistrationMode::Open;
        config.db_max_connections = 8;
        config.jwt_secret = None;
        config.session_check_secs = TEST_SESSION_CHECK_SECS;
        let postgres = match std::env::var("HYPERNET_TEST_DATABASE_URL") {
            Ok(url) if !url.is_empty() => {
                let postgres = PostgresDb::create(&url).await;
                let name = &postgres.name;
                config.database_url = Some(with_database(&with_user(&url, SERVER_ROLE), name));
                config.owner_database_url = Some(with_database(&url, name));
                Some(postgres)
            }
            _ => {
                config.database_url = None;
                None
            }
        };
        configure(&mut config);
        let database_url = config.effective_database_url();
        let owner_database_url = config
            .owner_database_url
            .clone()
            .unwrap_or_else(|| database_url.clone());
        let app = App::build(config.clone()).await.expect("build app");
        let address = format!("http://127.0.0.1:{}", app.port());
        let pool = app.db().clone();
        let db = owner_db(&config, &owner_database_url, &pool).await;
        tokio::spawn(app.run(std::future::pending()));
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        TestApp {
            address,
            database_url,
            owner_database_url,
            client,
            db,
            pool,
            data_dir,
            _postgres: postgres,
        }
    }

    pub fn backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }

    /// The environment that makes a `hypernet` process migrate as the schema's owner, as
    /// this server did (nothing on SQLite).
    pub fn owner_env(&self) -> Vec<(&'static str, String)> {
        if self.is_postgres() {
            vec![(
                "HYPERNET_OWNER_DATABASE_URL",
                self.owner_database_url.clone(),
            )]
        } else {
            Vec::new()
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.backend() == DbBackend::Postgres
    }

    /// The address of `path` on this server; URLs the server minted (absolute) pass as they are.
    pub fn url(&self, path: &str) -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            path.to_string()
        } else {
            format!("{}{}", self.address, path)
        }
    }

    /// POSTs one GraphQL operation.
    async fn post_graphql(
        &self,
        query: &str,
        variables: Value,
        token: Option<&str>,
    ) -> reqwest::Response {
        let mut req = self
            .client
            .post(self.url("/graphql"))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        req.send().await.expect("request")
    }

    /// POSTs one GraphQL operation and returns the response body.
    pub async fn gql(&self, query: &str, variables: Value, token: Option<&str>) -> Value {
        let res = self.post_graphql(query, variables, token).await;
        res.json().await.expect("json body")
    }

    /// POSTs one GraphQL operation and returns the response body as the server wrote it,
    /// keys in order.
    /// POSTs one operation and reads the answer with its keys in order. The cost every
    /// answer reports (`extensions.cost`, checked in door.rs) is left out, so that tests can
    /// compare the rest as text.
    pub async fn gql_ordered(&self, query: &str, variables: Value, token: Option<&str>) -> Json {
        let res = self.post_graphql(query, variables, token).await;
        let mut json = Json::parse(&res.text().await.expect("body"));
        if let Json::Object(fields) = &mut json {
            fields.retain(|(key, value)| key != "extensions" || value.keys() != ["cost"]);
        }
        json
    }

    /// POSTs any JSON body to `/graphql`.
    pub async fn post_json(&self, body: Value, token: Option<&str>) -> reqwest::Response {
        let mut req = self.client.post(self.url("/graphql")).json(&body);
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        req.send().await.expect("request")
    }

    pub async fn register(&self, email: &str) -> TestUser {
        let res = self
            .gql(
                "mutation($input: RegisterInput!) { register(input: $input) {
                    accessToken refreshToken user { id email } } }",
                json!({ "input": { "email": email, "password": PASSWORD } }),
                None,
            )
            .await;
        let payload = &res["data"]["register"];
        assert!(payload.is_object(), "register failed: {res}");
        TestUser {
            id: payload["user"]["id"].as_str().unwrap().to_string(),
            access_token: payload["accessToken"].as_str().unwrap().to_string(),
            refresh_token: payload["refreshToken"].as_str().unwrap().to_string(),
        }
    }

    pub async fn login(&self, email: &str, password: &str) -> Value {
        self.gql(
            "mutation($input: LoginInput!) { login(input: $input) {
                accessToken refreshToken expiresAt user { id email } } }",
            json!({ "input": { "email": email, "password": password } }),
            None,
        )
        .await
    }

    /// The value of the counter `name` on `/metrics`.
    pub async fn metric(&self, name: &str) -> u64 {
        let text = self
            .client
            .get(self.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("{name} in /metrics"))
    }

    /// SQL statements the server has sent so far (from `/metrics`).
    pub async fn statements(&self) -> u64 {
        self.metric("hypernet_sql_statements_total").await
    }

    /// The first column of every row `sql` returns, as text, read as the schema's owner.
    pub async fn strings(&self, sql: &str) -> Vec<String> {
        self.db
            .query_all_raw(sea_orm::Statement::from_string(
                self.backend(),
                sql.to_string(),
            ))
            .await
            .unwrap()
            .iter()
            .map(|row| row.try_get_by_index::<String>(0).unwrap())
            .collect()
    }

    /// [`Self::statements`] once the server has sent none for 300 ms: background work an
    /// earlier request started (thumbnails of uploads) would otherwise be counted with the
    /// next request's.
    pub async fn settled_statements(&self) -> u64 {
        let mut last = self.statements().await;
        for _ in 0..100 {
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            let now = self.statements().await;
            if now == last {
                return now;
            }
            last = now;
        }
        panic!("the server never stopped sending statements");
    }

    /// Runs raw SQL on the test database.
    pub async fn sql(&self, sql: &str) -> Result<(), sea_orm::DbErr> {
        self.db.execute_unprepared(sql).await.map(|_| ())
    }

    /// The single number a `SELECT` of one integer column returns.
    pub async fn sql_i64(&self, sql: &str) -> i64 {
        let row = self
            .db
            .query_one_raw(sea_orm::Statement::from_string(
                self.backend(),
                sql.to_string(),
            ))
            .await
            .expect("query")
            .expect("one row");
        row.try_get_by_index::<i64>(0).expect("an integer")
    }
}

pub const UPLOAD: &str = "mutation($input: UploadMediaInput!) { uploadMedia(input: $input) {
    deduplicated media { id filename mediaType mimeType size width height durationMs hash takenAt metadata contentUrl } } }";

impl TestApp {
    /// Uploads `bytes` as `filename` through the GraphQL multipart request, with `input`'s
    /// other fields.
    pub async fn upload(&self, token: &str, filename: &str, bytes: Vec<u8>, input: Value) -> Value {
        let mut input = input;
        input["file"] = Value::Null;
        let operations = json!({ "query": UPLOAD, "variables": { "input": input } });
        let form = reqwest::multipart::Form::new()
            .text("operations", operations.to_string())
            .text("map", json!({ "0": ["variables.input.file"] }).to_string())
            .part(
                "0",
                reqwest::multipart::Part::bytes(bytes)
                    .file_name(filename.to_string())
                    .mime_str("application/octet-stream")
                    .unwrap(),
            );
        let res = self
            .client
            .post(self.url("/graphql"))
            .bearer_auth(token)
            .multipart(form)
            .send()
            .await
            .expect("upload request");
        res.json().await.expect("json body")
    }

    /// Uploads and returns the media object, failing the test on an error.
    pub async fn upload_ok(&self, token: &str, filename: &str, bytes: Vec<u8>) -> Value {
        let res = self.upload(token, filename, bytes, json!({})).await;
        let media = res["data"]["uploadMedia"]["media"].clone();
        assert!(media.is_object(), "upload failed: {res}");
        media
    }

    /// Files under the data dir's `sub` folder (blobs, tmp), recursively.
    pub fn files_under(&self, sub: &str) -> Vec<std::path::PathBuf> {
        fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            if let Ok(entries) = std::fs::read_dir(dir) {
                for e in entries.flatten() {
                    let p = e.path();
                    if p.is_dir() {
                        walk(&p, out);
                    } else {
                        out.push(p);
                    }
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.data_dir.path().join(sub), &mut out);
        out
    }

    /// Where the bytes with this SHA-256 are stored (on the local disk store).
    pub fn blob_path(&self, sha256: &str) -> std::path::PathBuf {
        self.data_dir.path().join(format!(
            "blobs/sha256/{}/{}/{sha256}",
            &sha256[0..2],
            &sha256[2..4]
        ))
    }

    /// Whether the bytes with this SHA-256 are stored.
    pub fn blob_exists(&self, sha256: &str) -> bool {
        self.blob_path(sha256).exists()
    }

    /// Media bytes stored (content-addressed blobs), thumbnails included.
    pub fn blob_count(&self) -> usize {
        self.files_under("blobs/sha256").len()
    }
}

impl TestApp {
    /// Runs an operation that must succeed and returns its `data`.
    pub async fn ok(&self, query: &str, variables: Value, token: &str) -> Value {
        let res = self.gql(query, variables, Some(token)).await;
        assert!(res["errors"].is_null(), "unexpected errors: {res}");
        res["data"].clone()
    }

    pub async fn create_album(&self, token: &str, name: &str) -> String {
        let data = self
            .ok(
                "mutation($name: String!) { createAlbum(input: { name: $name }) { album { id } } }",
                json!({ "name": name }),
                token,
            )
            .await;
        data["createAlbum"]["album"]["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Uploads `n` distinct small PNGs and returns their ids.
    pub async fn photos(&self, token: &str, n: usize) -> Vec<String> {
        let mut ids = Vec::new();
        for i in 0..n {
            let bytes = crate::fixtures::png(8 + i as u32, 8 + (i as u32 % 5));
            let media = self.upload_ok(token, &format!("p{i}.png"), bytes).await;
            ids.push(media["id"].as_str().unwrap().to_string());
        }
        ids
    }

    pub async fn add_to_album(&self, token: &str, album: &str, media: &[String]) -> Value {
        self.ok(
            "mutation($a: ID!, $m: [ID!]!) { addMediaToAlbum(input: { albumId: $a, mediaIds: $m }) { album { id mediaCount } } }",
            json!({ "a": album, "m": media }),
            token,
        )
        .await["addMediaToAlbum"]["album"]
            .clone()
    }

    pub async fn link(&self, token: &str, from: &str, to: &str, link_type: &str) -> String {
        let data = self
            .ok(
                "mutation($f: ID!, $t: ID!, $k: String!) { createLink(input: { fromId: $f, toId: $t, linkType: $k }) { link { id } } }",
                json!({ "f": from, "t": to, "k": link_type }),
                token,
            )
            .await;
        data["createLink"]["link"]["id"]
            .as_str()
            .unwrap()
            .to_string()
    }
}

impl TestApp {
    /// Runs the `hypernet` binary on this app's database and data dir, without blocking the
    /// test's runtime (the server under test runs on it).
    pub async fn cli(&self, args: &[&str], stdin: Option<&str>) -> std::process::Output {
        use tokio::io::AsyncWriteExt;
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_hypernet"))
            .args(args)
            .env("DATABASE_URL", &self.database_url)
            .envs(self.owner_env())
            .env("HYPERNET_DATA_DIR", self.data_dir.path())
            .env("RUST_LOG", "warn")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run hypernet");
        if let Some(input) = stdin {
            let mut pipe = child.stdin.take().expect("stdin");
            pipe.write_all(input.as_bytes()).await.expect("write stdin");
        }
        drop(child.stdin.take());
        child.wait_with_output().await.expect("hypernet output")
    }
}

/// SHA-256 in hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// The `extensions.code` of the first error, or a panic showing the response.
pub fn error_code(res: &Value) -> &str {
    res["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("expected an error with a code, got {res}"))
}

pub fn assert_code(res: &Value, code: &str) {
    assert_eq!(error_code(res), code, "unexpected response: {res}");
}

/// Whether `url` answers with a success within `tries` tenths of a second (a server or proxy
/// the test started, coming up).
pub async fn comes_up(client: &reqwest::Client, url: &str, tries: usize) -> bool {
    for _ in 0..tries {
        if let Ok(res) = client.get(url).send().await
            && res.status().is_success()
        {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// A chunk of a resumable upload at `offset` (tus `PATCH`), to the absolute `url`.
pub async fn patch_chunk(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    offset: usize,
    chunk: &[u8],
) -> reqwest::Response {
    client
        .patch(url)
        .bearer_auth(token)
        .header("content-type", "application/offset+octet-stream")
        .header("upload-offset", offset.to_string())
        .header("tus-resumable", "1.0.0")
        .body(chunk.to_vec())
        .send()
        .await
        .unwrap()
}
