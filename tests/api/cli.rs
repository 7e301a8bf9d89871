//! The `hypernet` binary: `schema`, `migrate`, and the operator's `user` commands.

use std::process::{Command, Output};

use hypernet::config::RegistrationMode;
use serde_json::json;

use crate::helpers::{PASSWORD, TestApp, assert_code};

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "hypernet failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

#[test]
fn schema_prints_the_sdl() {
    let out = Command::new(env!("CARGO_BIN_EXE_hypernet"))
        .arg("schema")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        hypernet::graphql::sdl()
    );
}

#[tokio::test]
async fn migrate_status_lists_applied_migrations() {
    let app = TestApp::spawn().await;
    let out = stdout(&app.cli(&["migrate", "status"], None).await);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines.len(),
        <migration::Migrator as migration::MigratorTrait>::migrations().len(),
        "{out}"
    );
    assert!(lines.iter().all(|l| l.starts_with("applied")), "{out}");

    stdout(&app.cli(&["migrate", "down", "-n", "1"], None).await);
    let out = stdout(&app.cli(&["migrate", "status"], None).await);
    assert!(out.lines().last().unwrap().starts_with("pending"), "{out}");
    stdout(&app.cli(&["migrate", "up"], None).await);
    let out = stdout(&app.cli(&["migrate", "status"], None).await);
    assert!(out.lines().all(|l| l.starts_with("applied")), "{out}");
}

#[tokio::test]
async fn operators_manage_accounts_from_the_command_line() {
    let app = TestApp::spawn_with(|c| c.registration = RegistrationMode::FirstOnly).await;
    stdout(
        &app.cli(
            &["user", "create", "Op@Example.com", "--admin"],
            Some(&format!("{PASSWORD}\n")),
        )
        .await,
    );

    // The operator's account counts as the first: registration is now closed.
    let res = app
        .gql(
            "mutation { register(input: { email: \"late@example.com\", password: \"long enough pass\" }) { accessToken } }",
            json!({}),
            None,
        )
        .await;
    assert_code(&res, "FORBIDDEN");

    let login = app.login("op@example.com", PASSWORD).await;
    let token = login["data"]["login"]["accessToken"]
        .as_str()
        .expect("login")
        .to_string();
    let refresh_token = login["data"]["login"]["refreshToken"]
        .as_str()
        .unwrap()
        .to_string();
    let res = app
        .gql(
            "{ viewer { isAdmin storageQuota } }",
            json!({}),
            Some(&token),
        )
        .await;
    assert_eq!(res["data"]["viewer"]["isAdmin"], true);

    stdout(
        &app.cli(&["user", "set-quota", "op@example.com", "5000"], None)
            .await,
    );
    let res = app
        .gql("{ viewer { storageQuota } }", json!({}), Some(&token))
        .await;
    assert_eq!(res["data"]["viewer"]["storageQuota"], 5000);

    stdout(
        &app.cli(
            &["user", "set-password", "op@example.com"],
            Some("another long password\n"),
        )
        .await,
    );
    assert_code(
        &app.login("op@example.com", PASSWORD).await,
        "UNAUTHENTICATED",
    );
    assert!(
        app.login("op@example.com", "another long password").await["data"]["login"].is_object()
    );
    let res = app
        .gql(
            "mutation($t: String!) { refreshSession(input: { refreshToken: $t }) { accessToken } }",
            json!({ "t": refresh_token }),
            None,
        )
        .await;
    assert_code(&res, "UNAUTHENTICATED");

    // Bad input is refused with a message and a failing exit code.
    let out = app
        .cli(
            &["user", "create", "op@example.com"],
            Some(&format!("{PASSWORD}\n")),
        )
        .await;
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
    let out = app
        .cli(&["user", "create", "short@example.com"], Some("short\n"))
        .await;
    assert!(!out.status.success());
    let out = app
        .cli(&["user", "set-quota", "nobody@example.com", "1"], None)
        .await;
    assert!(!out.status.success());
}
