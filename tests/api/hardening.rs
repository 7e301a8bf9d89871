//! Hardening (issue 15): input PostgreSQL cannot store, ...

use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_code};

fn field_of(res: &Value) -> &str {
    res["errors"][0]["extensions"]["field"]
        .as_str()
        .unwrap_or_else(|| panic!("no field named: {res}"))
}

#[tokio::test]
async fn nul_characters_are_bad_input_with_the_field_named_before_anything_runs() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann@example.com").await;
    let token = Some(ann.access_token.as_str());
    let media = app
        .upload_ok(&ann.access_token, "a.gif", crate::fixtures::gif(4, 4))
        .await;
    let id = media["id"].clone();

    // Before sign-in, in a variable.
    let login =
        "mutation($e: String!) { login(input: { email: $e, password: \"x\" }) { accessToken } }";
    let res = app.gql(login, json!({ "e": "a\u{0}@x.test" }), None).await;
    assert_code(&res, "BAD_USER_INPUT");
    assert_eq!(field_of(&res), "e");
    assert!(res["data"].is_null(), "{res}");

    // In a literal of the document.
    let res = app
        .gql(
            "mutation { createAlbum(input: { name: \"a\\u0000b\" }) { album { id } } }",
            json!({}),
            token,
        )
        .await;
    assert_code(&res, "BAD_USER_INPUT");
    assert_eq!(field_of(&res), "input.name");

    // Deep in an input object, a JSON value and a JSON key.
    let update =
        "mutation($input: UpdateMediaInput!) { updateMedia(input: $input) { media { id } } }";
    for (metadata, field) in [
        (json!({ "note": "x\u{0}" }), "input.metadata.note"),
        (json!({ "a\u{0}": 1 }), "input.metadata.a\\0"),
        (
            json!({ "list": ["ok", "no\u{0}"] }),
            "input.metadata.list.1",
        ),
    ] {
        let res = app
            .gql(
                update,
                json!({ "input": { "id": id, "metadata": metadata } }),
                token,
            )
            .await;
        assert_code(&res, "BAD_USER_INPUT");
        assert_eq!(field_of(&res), field, "{res}");
    }

    // Filters: nothing to store, but PostgreSQL refuses them as parameters too.
    for filter in [
        json!({ "filenameContains": "a\u{0}" }),
        json!({ "metadataContains": { "k": "\u{0}" } }),
    ] {
        let res = app
            .gql(
                "query($f: MediaFilterInput) { viewer { media(filter: $f) { totalCount } } }",
                json!({ "f": filter }),
                token,
            )
            .await;
        assert_code(&res, "BAD_USER_INPUT");
    }

    // Nothing was written, and text without NUL still works.
    assert_eq!(app.sql_i64("SELECT COUNT(*) FROM albums").await, 0);
    let res = app
        .gql(
            update,
            json!({ "input": { "id": id, "metadata": { "note": "fine" } } }),
            token,
        )
        .await;
    assert!(res["errors"].is_null(), "{res}");
}
