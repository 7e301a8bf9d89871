//! Integrations: sealed credentials, idempotent batch import, checksum-only import, the
//! local-folder sync, audit, isolation.

use std::path::Path;

use serde_json::{Value, json};

use crate::fixtures;
use crate::helpers::{TestApp, TestUser, assert_code, sha256_hex};

const CANARY_ACCESS: &str = "canary-access-7f3a9c";
const CANARY_REFRESH: &str = "canary-refresh-91be2d";

const CREATE: &str = "mutation($input: CreateIntegrationInput!) { createIntegration(input: $input) {
    integration { id integrationType name status syncCursor lastSyncAt lastError hasCredentials config } } }";

async fn create(app: &TestApp, user: &TestUser, input: Value) -> Value {
    app.gql(CREATE, json!({ "input": input }), Some(&user.access_token))
        .await
}

pub(crate) async fn cloud(app: &TestApp, user: &TestUser) -> String {
    let res = create(
        app,
        user,
        json!({ "integrationType": "photo_cloud", "name": "My cloud",
                "credentials": { "accessToken": CANARY_ACCESS, "refreshToken": CANARY_REFRESH, "scopes": ["photos.read"], "expiresAt": "2030-01-01T00:00:00Z" } }),
    )
    .await;
    res["data"]["createIntegration"]["integration"]["id"]
        .as_str()
        .expect("created")
        .to_string()
}

/// A multipart `importMedia` call; `files[i]` is the file of item `i` when present.
pub(crate) async fn import(
    app: &TestApp,
    user: &TestUser,
    integration: &str,
    items: Vec<Value>,
    files: Vec<Option<Vec<u8>>>,
    cursor: Option<&str>,
) -> Value {
    let query = "mutation($input: ImportMediaInput!) { importMedia(input: $input) {
        imported skipped media { id filename hash source { id } metadata } integration { syncCursor } } }";
    let mut items = items;
    let mut map = serde_json::Map::new();
    let mut form = reqwest::multipart::Form::new();
    let mut parts = Vec::new();
    for (i, file) in files.into_iter().enumerate() {
        if let Some(bytes) = file {
            items[i]["file"] = Value::Null;
            let key = parts.len().to_string();
            map.insert(
                key.clone(),
                json!([format!("variables.input.items.{i}.file")]),
            );
            parts.push((key, bytes));
        }
    }
    let operations = json!({ "query": query, "variables": { "input": { "integrationId": integration, "items": items, "syncCursor": cursor } } });
    form = form
        .text("operations", operations.to_string())
        .text("map", Value::Object(map).to_string());
    for (key, bytes) in parts {
        form = form.part(
            key,
            reqwest::multipart::Part::bytes(bytes).file_name("item.bin"),
        );
    }
    app.client
        .post(app.url("/graphql"))
        .bearer_auth(&user.access_token)
        .multipart(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn cursor_of(app: &TestApp, user: &TestUser, id: &str) -> Value {
    app.ok(
        "query($id: ID!) { node(id: $id) { ... on Integration { syncCursor } } }",
        json!({ "id": id }),
        &user.access_token,
    )
    .await["node"]["syncCursor"]
        .clone()
}

#[tokio::test]
async fn credentials_are_sealed_and_never_readable() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann@example.com").await;
    let res = create(
        &app,
        &ann,
        json!({ "integrationType": "photo_cloud", "name": "My cloud", "config": { "account": "ann" },
                "credentials": { "accessToken": CANARY_ACCESS, "refreshToken": CANARY_REFRESH, "scopes": ["a", "b"] } }),
    )
    .await;
    let i = &res["data"]["createIntegration"]["integration"];
    assert_eq!(i["status"], "ACTIVE", "{res}");
    assert_eq!(i["hasCredentials"], true);
    assert_eq!(i["config"]["account"], "ann");
    let id = i["id"].as_str().unwrap().to_string();
    // Nothing of the secret in any answer, even introspecting the whole object.
    let everything = app
        .gql(
            "query($id: ID!) { node(id: $id) { ... on Integration { id integrationType name status syncCursor lastSyncAt lastError hasCredentials config createdAt } }
              viewer { integrations { edges { node { hasCredentials config } } } auditLog { edges { node { action details } } } } }",
            json!({ "id": id }),
            Some(&ann.access_token),
        )
        .await
        .to_string();
    assert!(
        !res.to_string().contains("canary") && !everything.contains("canary"),
        "{everything}"
    );
    // The schema has no way to read them: no output field of the type names a token.
    let schema = hypernet::graphql::sdl();
    let integration_type = schema
        .split("type Integration ")
        .nth(1)
        .unwrap()
        .split('}')
        .next()
        .unwrap();
    assert!(
        !integration_type.contains("Token") && !integration_type.contains("scopes"),
        "{integration_type}"
    );
    // Nor in any column in clear.
    for column in ["access_token", "refresh_token", "scopes"] {
        let leaks = app
            .sql_i64(&format!("SELECT COUNT(*) FROM integration_secrets WHERE {column} LIKE '%canary%' OR {column} LIKE '%photos%'"))
            .await;
        assert_eq!(leaks, 0, "{column}");
    }
    assert_eq!(app.sql_i64("SELECT COUNT(*) FROM integration_secrets WHERE key_id IS NOT NULL AND access_token IS NOT NULL").await, 1);

    // Replace, then remove the credentials.
    let set = "mutation($id: ID!, $c: CredentialsInput) { setIntegrationCredentials(input: { id: $id, credentials: $c }) { integration { hasCredentials } } }";
    let data = app
        .ok(
            set,
            json!({ "id": id, "c": { "accessToken": "another-canary" } }),
            &ann.access_token,
        )
        .await;
    assert_eq!(
        data["setIntegrationCredentials"]["integration"]["hasCredentials"],
        true
    );
    let data = app
        .ok(set, json!({ "id": id, "c": null }), &ann.access_token)
        .await;
    assert_eq!(
        data["setIntegrationCredentials"]["integration"]["hasCredentials"],
        false
    );
    assert_eq!(
        app.sql_i64("SELECT COUNT(*) FROM integration_secrets")
            .await,
        0
    );
    let actions = app
        .sql_i64("SELECT COUNT(*) FROM audit_log WHERE action IN ('integration.created', 'integration.credentials_set', 'integration.credentials_removed')")
        .await;
    assert_eq!(actions, 3);
}

#[tokio::test]
async fn secrets_rotate_to_a_new_key_and_refuse_misplaced_ciphertext() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann@example.com").await;
    let a = cloud(&app, &ann).await;
    let _b = cloud(&app, &ann).await;
    let before = app
        .sql_i64("SELECT COUNT(DISTINCT key_id) FROM integration_secrets")
        .await;
    assert_eq!(before, 1);
    let key_before = std::fs::read_to_string(app.data_dir.path().join("secrets_key")).unwrap();
    let out = app.cli(&["secrets", "rotate"], None).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("re-sealed 2 rows"));
    let key_after = std::fs::read_to_string(app.data_dir.path().join("secrets_key")).unwrap();
    assert_ne!(key_before, key_after);
    assert!(app.data_dir.path().join("secrets_key.previous").exists());
    // Rotating again works: the new key opens what the rotation sealed.
    let out = app.cli(&["secrets", "rotate"], None).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // A ciphertext copied to another row does not open there: rotation refuses and changes nothing.
    let a_uuid = uuid_of(&a);
    let copy = if app.is_postgres() {
        format!(
            "UPDATE integration_secrets SET access_token = (SELECT access_token FROM integration_secrets WHERE integration_id = '{a_uuid}') WHERE integration_id <> '{a_uuid}'"
        )
    } else {
        format!(
            "UPDATE integration_secrets SET access_token = (SELECT access_token FROM integration_secrets WHERE integration_id = X'{}') WHERE integration_id <> X'{}'",
            a_uuid.simple(),
            a_uuid.simple()
        )
    };
    app.sql(&copy).await.unwrap();
    let key_now = std::fs::read_to_string(app.data_dir.path().join("secrets_key")).unwrap();
    let out = app.cli(&["secrets", "rotate"], None).await;
    assert!(
        !out.status.success(),
        "a misplaced ciphertext must not open"
    );
    assert_eq!(
        std::fs::read_to_string(app.data_dir.path().join("secrets_key")).unwrap(),
        key_now,
        "the key stays"
    );
}

fn uuid_of(global_id: &str) -> uuid::Uuid {
    use base64::Engine;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(global_id)
        .unwrap();
    let text = String::from_utf8(raw).unwrap();
    uuid::Uuid::parse_str(text.split_once(':').unwrap().1).unwrap()
}

#[tokio::test]
async fn import_is_idempotent_batched_and_all_or_nothing() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann@example.com").await;
    let id = cloud(&app, &ann).await;
    let known = app
        .upload_ok(&ann.access_token, "known.png", fixtures::png(31, 31))
        .await;
    let a = fixtures::jpeg(40, 30, Some(&fixtures::iphone()));
    let b = fixtures::png(41, 41);
    let items = vec![
        json!({ "externalId": "ext-a", "filename": "a.jpg", "metadata": { "album": "Paris" } }),
        json!({ "externalId": "ext-b", "filename": "b.png", "sha256": sha256_hex(&b) }),
        json!({ "externalId": "ext-known", "filename": "known.png", "sha256": known["hash"] }),
    ];
    let res = import(
        &app,
        &ann,
        &id,
        items.clone(),
        vec![Some(a.clone()), Some(b.clone()), None],
        Some("cursor-1"),
    )
    .await;
    let out = &res["data"]["importMedia"];
    assert_eq!(out["imported"], 3, "{res}");
    assert_eq!(out["skipped"], 0);
    assert_eq!(out["integration"]["syncCursor"], "cursor-1");
    let media = out["media"].as_array().unwrap();
    assert_eq!(media[0]["filename"], "a.jpg");
    assert_eq!(
        media[0]["metadata"]["camera"], "iPhone 15",
        "through the same pipeline (EXIF)"
    );
    assert_eq!(media[0]["metadata"]["album"], "Paris");
    assert_eq!(media[0]["source"]["id"], id.as_str());
    assert_eq!(
        media[2]["id"], known["id"],
        "known bytes are linked, not sent again"
    );
    assert_eq!(
        app.sql_i64(
            "SELECT COUNT(*) FROM media WHERE source_type = 'photo_cloud' AND source_id = 'ext-a'"
        )
        .await,
        1
    );
    let ext = app.sql_i64("SELECT COUNT(*) FROM links WHERE link_type = 'source' AND (metadata ->> 'external_id') IN ('ext-a', 'ext-b', 'ext-known')").await;
    assert_eq!(ext, 3);

    // The same batch again: everything is skipped, no bytes needed.
    let res = import(
        &app,
        &ann,
        &id,
        items.clone(),
        vec![None, None, None],
        Some("cursor-2"),
    )
    .await;
    assert_eq!(res["data"]["importMedia"]["imported"], 0, "{res}");
    assert_eq!(res["data"]["importMedia"]["skipped"], 3);
    assert_eq!(cursor_of(&app, &ann, &id).await, "cursor-2");

    // One bad item fails the whole batch; the cursor does not move.
    let bad = vec![
        json!({ "externalId": "ext-c", "filename": "c.png" }),
        json!({ "externalId": "ext-d", "filename": "d.bin" }),
    ];
    let res = import(
        &app,
        &ann,
        &id,
        bad,
        vec![
            Some(fixtures::png(42, 42)),
            Some(b"not media at all".to_vec()),
        ],
        Some("cursor-3"),
    )
    .await;
    assert_code(&res, "BAD_USER_INPUT");
    assert_eq!(cursor_of(&app, &ann, &id).await, "cursor-2");
    assert_eq!(
        app.sql_i64("SELECT COUNT(*) FROM media WHERE source_id = 'ext-c'")
            .await,
        0
    );
    assert!(
        !app.blob_exists(&sha256_hex(&fixtures::png(42, 42))),
        "no bytes were kept"
    );
    for (items, files) in [
        (
            vec![json!({ "externalId": "ext-e", "filename": "e.png" })],
            vec![None],
        ),
        (
            vec![
                json!({ "externalId": "ext-f", "filename": "f.png", "sha256": sha256_hex(b"unknown") }),
            ],
            vec![None],
        ),
        (
            vec![
                json!({ "externalId": "x", "filename": "x.png" }),
                json!({ "externalId": "x", "filename": "y.png" }),
            ],
            vec![Some(fixtures::png(43, 43)), Some(fixtures::png(44, 44))],
        ),
        (
            vec![json!({ "externalId": "g", "filename": "g.png", "sha256": sha256_hex(b"other") })],
            vec![Some(fixtures::png(45, 45))],
        ),
    ] {
        let res = import(&app, &ann, &id, items, files, Some("cursor-4")).await;
        assert_code(&res, "BAD_USER_INPUT");
    }
    assert_eq!(cursor_of(&app, &ann, &id).await, "cursor-2");

    // Two items with the same bytes (a source holding a copy twice) do not break the batch.
    let twin = fixtures::png(46, 46);
    let res = import(
        &app,
        &ann,
        &id,
        vec![
            json!({ "externalId": "twin-1", "filename": "t1.png" }),
            json!({ "externalId": "twin-2", "filename": "t2.png" }),
        ],
        vec![Some(twin.clone()), Some(twin.clone())],
        Some("cursor-5"),
    )
    .await;
    let out = &res["data"]["importMedia"];
    assert_eq!(
        (out["imported"].as_i64(), out["skipped"].as_i64()),
        (Some(1), Some(1)),
        "{res}"
    );
    assert_eq!(out["media"][0]["id"], out["media"][1]["id"]);
    let res = import(
        &app,
        &ann,
        &id,
        vec![json!({ "externalId": "twin-2", "filename": "t2.png", "sha256": sha256_hex(&twin) })],
        vec![None],
        None,
    )
    .await;
    assert!(
        res["errors"].is_null(),
        "importing the twin again is harmless: {res}"
    );
    app.ok(
        "mutation($ids: [ID!]!) { deleteMedia(input: { ids: $ids }) { deletedIds } }",
        json!({ "ids": [out["media"][0]["id"]] }),
        &ann.access_token,
    )
    .await;

    // The library knows where media came from.
    let data = app
        .ok(
            "query($i: ID!) { viewer { media(filter: { fromIntegration: $i }) { totalCount } }
              node(id: $i) { ... on Integration { media { totalCount } links(direction: IN) { totalCount } } } }",
            json!({ "i": id }),
            &ann.access_token,
        )
        .await;
    assert_eq!(data["viewer"]["media"]["totalCount"], 3);
    assert_eq!(data["node"]["media"]["totalCount"], 3);
    assert_eq!(data["node"]["links"]["totalCount"], 3);
}

#[tokio::test]
async fn batches_are_bounded() {
    let app = TestApp::spawn_with(|c| c.max_import_batch = 2).await;
    let ann = app.register("ann@example.com").await;
    let id = cloud(&app, &ann).await;
    let known = app
        .upload_ok(&ann.access_token, "k.png", fixtures::png(12, 12))
        .await;
    let items: Vec<Value> = (0..3).map(|i| json!({ "externalId": format!("e{i}"), "filename": "k.png", "sha256": known["hash"] })).collect();
    let res = import(&app, &ann, &id, items, vec![None, None, None], None).await;
    assert_code(&res, "BAD_USER_INPUT");
    let res = import(&app, &ann, &id, vec![], vec![], None).await;
    assert_code(&res, "BAD_USER_INPUT");
}

#[tokio::test]
async fn deleting_an_integration_keeps_its_media() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann@example.com").await;
    let id = cloud(&app, &ann).await;
    let res = import(
        &app,
        &ann,
        &id,
        vec![json!({ "externalId": "1", "filename": "a.png" })],
        vec![Some(fixtures::png(51, 51))],
        None,
    )
    .await;
    let media_id = res["data"]["importMedia"]["media"][0]["id"]
        .as_str()
        .expect("imported")
        .to_string();
    let data = app
        .ok(
            "mutation($id: ID!) { deleteIntegration(input: { id: $id }) { deletedId } }",
            json!({ "id": id }),
            &ann.access_token,
        )
        .await;
    assert_eq!(data["deleteIntegration"]["deletedId"], id.as_str());
    assert_eq!(
        app.sql_i64("SELECT COUNT(*) FROM integration_secrets")
            .await,
        0,
        "secrets go at once"
    );
    let data = app
        .ok("query($i: ID!, $m: ID!) { i: node(id: $i) { id } m: node(id: $m) { ... on Media { id source { id } } } viewer { integrations { totalCount } } }", json!({ "i": id, "m": media_id }), &ann.access_token)
        .await;
    assert!(data["i"].is_null());
    assert_eq!(data["m"]["id"], media_id.as_str());
    assert!(
        data["m"]["source"].is_null(),
        "the source link is hidden with the integration"
    );
    assert_eq!(data["viewer"]["integrations"]["totalCount"], 0);
    assert_eq!(
        app.sql_i64("SELECT COUNT(*) FROM audit_log WHERE action = 'integration.deleted'")
            .await,
        1
    );
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

#[tokio::test]
async fn local_folders_are_confined_to_the_import_roots() {
    let roots = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let allowed = roots.path().join("photos");
    std::fs::create_dir_all(&allowed).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(outside.path(), roots.path().join("escape")).unwrap();
    let root = roots.path().to_path_buf();
    let app = TestApp::spawn_with(move |c| c.import_roots = vec![root]).await;
    let ann = app.register("ann@example.com").await;
    let bad_paths = vec![
        outside.path().display().to_string(),
        format!(
            "{}/photos/../../{}",
            roots.path().display(),
            outside.path().file_name().unwrap().to_string_lossy()
        ),
        format!("{}/escape", roots.path().display()),
        format!("{}/missing", roots.path().display()),
        "photos".to_string(),
        String::new(),
    ];
    for path in bad_paths {
        let res = create(
            &app,
            &ann,
            json!({ "integrationType": "local_folder", "name": "F", "config": { "path": path } }),
        )
        .await;
        assert_code(&res, "BAD_USER_INPUT");
    }
    let res = create(
        &app,
        &ann,
        json!({ "integrationType": "local_folder", "name": "F", "config": {} }),
    )
    .await;
    assert_code(&res, "BAD_USER_INPUT");
    let res = create(&app, &ann, json!({ "integrationType": "local_folder", "name": "F", "config": { "path": allowed.display().to_string() } })).await;
    let id = res["data"]["createIntegration"]["integration"]["id"]
        .as_str()
        .expect("created")
        .to_string();
    let res = app
        .gql(
            "mutation($id: ID!, $c: JSON) { updateIntegration(input: { id: $id, config: $c }) { integration { id } } }",
            json!({ "id": id, "c": { "path": outside.path().display().to_string() } }),
            Some(&ann.access_token),
        )
        .await;
    assert_code(&res, "BAD_USER_INPUT");
    // With no roots configured, no folder is allowed.
    let app2 = TestApp::spawn().await;
    let bob = app2.register("bob@example.com").await;
    let res = create(&app2, &bob, json!({ "integrationType": "local_folder", "name": "F", "config": { "path": allowed.display().to_string() } })).await;
    assert_code(&res, "BAD_USER_INPUT");
}

const SYNC: &str = "mutation($id: ID!) { syncIntegration(input: { id: $id }) {
    imported skipped failed errors integration { status lastError lastSyncAt syncCursor } } }";

#[tokio::test]
async fn a_folder_syncs_new_and_changed_files_only() {
    let roots = tempfile::tempdir().unwrap();
    let folder = roots.path().join("phone");
    write(
        &folder.join("DCIM/a.jpg"),
        &fixtures::jpeg(30, 20, Some(&fixtures::iphone())),
    );
    write(&folder.join("DCIM/b.png"), &fixtures::png(33, 33));
    write(
        &folder.join("clips/c.mp4"),
        &fixtures::mp4(64, 48, 1000, 100),
    );
    write(&folder.join("notes.txt"), b"shopping list");
    write(&folder.join("copies/b-again.png"), &fixtures::png(33, 33));
    let mut broken = fixtures::jpeg(50, 50, None);
    broken.truncate(broken.len() / 2);
    write(&folder.join("broken.jpg"), &broken);
    let root = roots.path().to_path_buf();
    let app = TestApp::spawn_with(move |c| c.import_roots = vec![root]).await;
    let ann = app.register("ann@example.com").await;
    let res = create(&app, &ann, json!({ "integrationType": "local_folder", "name": "Phone", "config": { "path": folder.display().to_string() } })).await;
    let id = res["data"]["createIntegration"]["integration"]["id"]
        .as_str()
        .expect("created")
        .to_string();

    let data = app.ok(SYNC, json!({ "id": id }), &ann.access_token).await;
    let run = &data["syncIntegration"];
    assert_eq!(run["imported"], 3, "{data}");
    assert_eq!(
        run["skipped"], 2,
        "the text file, and a second copy of b.png"
    );
    assert_eq!(run["failed"], 1, "the broken file");
    assert!(run["errors"][0].as_str().unwrap().contains("broken.jpg"));
    assert_eq!(run["integration"]["status"], "ACTIVE");
    assert!(
        run["integration"]["lastSyncAt"].is_string()
            && run["integration"]["syncCursor"].is_string()
    );
    assert_eq!(app.sql_i64("SELECT COUNT(*) FROM links WHERE link_type = 'source' AND (metadata ->> 'external_id') = 'DCIM/a.jpg'").await, 1);

    // Nothing new: nothing imported.
    let data = app.ok(SYNC, json!({ "id": id }), &ann.access_token).await;
    assert_eq!(data["syncIntegration"]["imported"], 0, "{data}");
    // A new file and a changed one.
    write(&folder.join("DCIM/d.png"), &fixtures::png(34, 34));
    write(&folder.join("DCIM/b.png"), &fixtures::png(35, 35));
    let data = app.ok(SYNC, json!({ "id": id }), &ann.access_token).await;
    assert_eq!(data["syncIntegration"]["imported"], 2, "{data}");
    let data = app
        .ok(
            "query($i: ID!) { viewer { media(filter: { fromIntegration: $i }) { totalCount } } }",
            json!({ "i": id }),
            &ann.access_token,
        )
        .await;
    assert_eq!(
        data["viewer"]["media"]["totalCount"], 4,
        "the old b.png stays in the library; the integration points to the new one"
    );

    // A sync already running blocks a second one.
    let lease = if app.is_postgres() {
        "now() + interval '10 minutes'"
    } else {
        "strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now', '+10 minutes')"
    };
    app.sql(&format!(
        "UPDATE integrations SET sync_lease_until = {lease}"
    ))
    .await
    .unwrap();
    let res = app
        .gql(SYNC, json!({ "id": id }), Some(&ann.access_token))
        .await;
    assert_code(&res, "CONFLICT");
    app.sql("UPDATE integrations SET sync_lease_until = NULL")
        .await
        .unwrap();

    // The folder disappears: ERROR with the reason, nothing imported.
    std::fs::rename(&folder, roots.path().join("gone")).unwrap();
    let data = app.ok(SYNC, json!({ "id": id }), &ann.access_token).await;
    let run = &data["syncIntegration"];
    assert_eq!(run["imported"], 0);
    assert_eq!(run["integration"]["status"], "ERROR");
    assert!(
        run["integration"]["lastError"]
            .as_str()
            .unwrap()
            .contains("folder")
    );
    assert!(app.sql_i64("SELECT COUNT(*) FROM audit_log WHERE action IN ('integration.synced', 'integration.sync_failed')").await >= 4);

    // Other types do not sync on the server.
    let cloud_id = cloud(&app, &ann).await;
    assert_code(
        &app.gql(SYNC, json!({ "id": cloud_id }), Some(&ann.access_token))
            .await,
        "BAD_USER_INPUT",
    );
}

#[tokio::test]
async fn a_second_user_reaches_no_integration_of_the_first() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann@example.com").await;
    let bob = app.register("bob@example.com").await;
    let id = cloud(&app, &ann).await;
    let b = Some(bob.access_token.as_str());
    let res = app
        .gql(
            "query($i: ID!) { node(id: $i) { id } viewer { integrations { totalCount } } }",
            json!({ "i": id }),
            b,
        )
        .await;
    assert!(res["data"]["node"].is_null());
    assert_eq!(res["data"]["viewer"]["integrations"]["totalCount"], 0);
    for (query, vars) in [
        (
            "mutation($i: ID!) { updateIntegration(input: { id: $i, name: \"x\" }) { integration { id } } }",
            json!({ "i": id }),
        ),
        (
            "mutation($i: ID!) { setIntegrationCredentials(input: { id: $i, credentials: { accessToken: \"x\" } }) { integration { id } } }",
            json!({ "i": id }),
        ),
        (
            "mutation($i: ID!) { deleteIntegration(input: { id: $i }) { deletedId } }",
            json!({ "i": id }),
        ),
        (
            "mutation($i: ID!) { syncIntegration(input: { id: $i }) { imported } }",
            json!({ "i": id }),
        ),
        (
            "mutation($i: ID!) { importMedia(input: { integrationId: $i, items: [{ externalId: \"1\", filename: \"a.png\", sha256: \"0000000000000000000000000000000000000000000000000000000000000000\" }] }) { imported } }",
            json!({ "i": id }),
        ),
        (
            "query($i: ID!) { viewer { media(filter: { fromIntegration: $i }) { totalCount } } }",
            json!({ "i": id }),
        ),
    ] {
        let res = app.gql(query, vars, b).await;
        assert_code(&res, "NOT_FOUND");
    }
    let data = app
        .ok(
            "query($i: ID!) { node(id: $i) { ... on Integration { name hasCredentials } } }",
            json!({ "i": id }),
            &ann.access_token,
        )
        .await;
    assert_eq!(
        data["node"],
        json!({ "name": "My cloud", "hasCredentials": true })
    );
}

#[tokio::test]
async fn secrets_never_reach_the_logs() {
    // The server as its own process, logging everything it logs.
    let app = TestApp::spawn().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_hypernet"))
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .env("DATABASE_URL", &app.database_url)
        .envs(app.owner_env())
        .env("HYPERNET_DATA_DIR", app.data_dir.path())
        .env("HYPERNET_REGISTRATION", "open")
        .env(
            "RUST_LOG",
            "trace,sqlx=trace,sea_orm=trace,h2=info,hyper=info",
        )
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    for _ in 0..100 {
        if client.get(format!("{base}/healthz")).send().await.is_ok() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let post = |body: Value, token: Option<String>| {
        let client = client.clone();
        let url = format!("{base}/graphql");
        async move {
            let mut req = client.post(url).json(&body);
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            req.send().await.unwrap().json::<Value>().await.unwrap()
        }
    };
    let res = post(json!({ "query": "mutation { register(input: { email: \"logs@example.com\", password: \"a long passphrase\" }) { accessToken } }" }), None).await;
    let token = res["data"]["register"]["accessToken"]
        .as_str()
        .unwrap()
        .to_string();
    let create = json!({
        "query": "mutation($input: CreateIntegrationInput!) { createIntegration(input: $input) { integration { id } } }",
        "variables": { "input": { "integrationType": "photo_cloud", "name": "C", "credentials": { "accessToken": CANARY_ACCESS, "refreshToken": CANARY_REFRESH } } }
    });
    let res = post(create, Some(token.clone())).await;
    assert!(
        res["data"]["createIntegration"]["integration"]["id"].is_string(),
        "{res}"
    );
    // A failing call with a secret in it, too.
    let bad = json!({
        "query": "mutation($input: CreateIntegrationInput!) { createIntegration(input: $input) { integration { id } } }",
        "variables": { "input": { "integrationType": "Bad Type", "name": "C", "credentials": { "accessToken": CANARY_ACCESS } } }
    });
    let res = post(bad, Some(token)).await;
    assert!(!res.to_string().contains("canary"));
    child.kill().await.unwrap();
    let out = child.wait_with_output().await.unwrap();
    let logs = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(logs.len() > 1000, "the server logged at trace level");
    assert!(!logs.contains("canary"), "a secret reached the logs");
}
