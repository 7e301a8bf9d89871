//! The planned executor checked against two references, over generated documents on a
//! seeded graph: async-graphql's own resolvers (a second server on the same database with
//! `HYPERNET_EXECUTOR=resolvers`), byte for byte; and graphql-js, for key order and the
//! merging of fields.
//!
//! `HYPERNET_DIFF_DOCS` sets how many documents (default 1500), `HYPERNET_DIFF_SEED` the
//! first seed (default: from the clock, printed); a failure prints the seed, the document
//! and the command that replays it.

use hypernet::config::ExecutorMode;
use serde_json::{Value, json};

use crate::docgen::{World, generate};
use crate::helpers::{TestApp, TestUser, sha256_hex};
use crate::oracle::Oracle;
use crate::ordered::Json;

const DEFAULT_DOCS: u64 = 1500;

fn id_of(v: &Value) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("no id: {v}"))
        .to_string()
}

/// A graph with a bit of everything: photos with thumbnails, albums (one with a chosen
/// cover, one in the trash), links of several types both ways, an integration that brought
/// some photos, media in the trash, and a second user whose ids must never resolve.
async fn seed(app: &TestApp) -> (TestUser, World) {
    let ann = app.register("ann@example.com").await;
    let t = &ann.access_token;
    let mut media = Vec::new();
    let mut hashes = Vec::new();
    for i in 0..8u32 {
        let bytes = crate::fixtures::png(9 + i, 7 + i % 3);
        hashes.push(sha256_hex(&bytes));
        let m = app.upload_ok(t, &format!("photo-{i}.png"), bytes).await;
        media.push(id_of(&m["id"]));
    }
    let mut albums = Vec::new();
    for (name, members) in [("Summer", 0..5), ("Winter", 3..8), ("Old", 1..3)] {
        let album = app.create_album(t, name).await;
        app.add_to_album(t, &album, &media[members]).await;
        albums.push(album);
    }
    app.ok(
        "mutation($a: ID!, $m: ID!) { updateAlbum(input: { id: $a, coverMediaId: $m }) { album { id } } }",
        json!({ "a": albums[1], "m": media[6] }),
        t,
    )
    .await;
    let mut links = Vec::new();
    for (from, to, kind) in [
        (0, 1, "similar_to"),
        (1, 2, "similar_to"),
        (2, 0, "similar_to"),
        (3, 4, "duplicate_of"),
        (5, 3, "favourite_of"),
    ] {
        links.push(app.link(t, &media[from], &media[to], kind).await);
    }
    links.push(app.link(t, &albums[0], &albums[1], "next_to").await);
    let integration = id_of(
        &app.ok(
            "mutation { createIntegration(input: { integrationType: \"photo_cloud\", name: \"Cloud\",
               credentials: { accessToken: \"a\" } }) { integration { id } } }",
            json!({}),
            t,
        )
        .await["createIntegration"]["integration"]["id"],
    );
    let items: Vec<Value> = (0..3)
        .map(|i| json!({ "externalId": format!("c{i}"), "filename": "c.png", "sha256": hashes[i] }))
        .collect();
    app.ok(
        "mutation($i: ID!, $items: [ImportItemInput!]!) { importMedia(input: { integrationId: $i, items: $items }) { imported } }",
        json!({ "i": integration, "items": items }),
        t,
    )
    .await;
    // Tags: two on several photos, one on none, one in the trash.
    let mut tags = Vec::new();
    for name in ["Beach", "family", "Unused", "Old tag"] {
        let data = app
            .ok(
                "mutation($n: String!) { createTag(input: { name: $n }) { tag { id } } }",
                json!({ "n": name }),
                t,
            )
            .await;
        tags.push(id_of(&data["createTag"]["tag"]["id"]));
    }
    for (tag, on) in [(0, 0..4), (1, 2..7), (3, 0..2)] {
        app.ok(
            "mutation($t: [ID!]!, $m: [ID!]!) { tagMedia(input: { tagIds: $t, mediaIds: $m }) { tags { id } } }",
            json!({ "t": [tags[tag]], "m": media[on] }),
            t,
        )
        .await;
    }
    app.ok(
        "mutation($t: ID!) { deleteTag(input: { id: $t }) { deletedId } }",
        json!({ "t": tags[3] }),
        t,
    )
    .await;
    // The trash: a media and an album.
    app.ok(
        "mutation($m: [ID!]!) { deleteMedia(input: { ids: $m }) { deletedIds } }",
        json!({ "m": [media[7]] }),
        t,
    )
    .await;
    app.ok(
        "mutation($a: ID!) { deleteAlbum(input: { id: $a }) { deletedId } }",
        json!({ "a": albums[2] }),
        t,
    )
    .await;

    let bob = app.register("bob@example.com").await;
    let bobs = app
        .upload_ok(&bob.access_token, "bob.png", crate::fixtures::png(31, 17))
        .await;
    let bobs_album = app.create_album(&bob.access_token, "Bob's").await;
    // What is in the trash resolves like another user's objects: to nothing.
    let trashed = vec![
        media.pop().expect("eight photos"),
        albums.pop().expect("three albums"),
        tags.pop().expect("four tags"),
    ];
    let bobs_tag = id_of(
        &app.ok(
            "mutation { createTag(input: { name: \"Beach\" }) { tag { id } } }",
            json!({}),
            &bob.access_token,
        )
        .await["createTag"]["tag"]["id"],
    );
    let world = World {
        user: ann.id.clone(),
        media,
        albums,
        links,
        integrations: vec![integration],
        tags,
        foreign: [
            vec![id_of(&bobs["id"]), bobs_album, bobs_tag, bob.id],
            trashed,
        ]
        .concat(),
        link_types: [
            "similar_to",
            "duplicate_of",
            "favourite_of",
            "next_to",
            "contains",
            "source",
            "variant_of",
            "tagged",
        ]
        .map(String::from)
        .to_vec(),
    };
    (ann, world)
}

/// What two answers must share: the data as text, key order included, and the same
/// errors (message and code; which of two sibling errors a null reports may differ).
fn compare(planned: &Json, reference: &Json) -> Result<(), String> {
    let data = (
        planned.at("data").to_string(),
        reference.at("data").to_string(),
    );
    if data.0 != data.1 {
        return Err(format!(
            "data differs\n planned:   {planned}\n resolvers: {reference}"
        ));
    }
    let errors = |j: &Json| {
        let mut all: Vec<String> = match j.at("errors") {
            Json::Array(errors) => errors
                .iter()
                .map(|e| format!("{} {}", e.at("message"), e.at("extensions.code")))
                .collect(),
            _ => Vec::new(),
        };
        all.sort();
        all
    };
    if errors(planned) != errors(reference) {
        return Err(format!(
            "errors differ\n planned:   {planned}\n resolvers: {reference}"
        ));
    }
    Ok(())
}

#[tokio::test]
async fn generated_documents_answer_as_both_references_do() {
    let limits = |c: &mut hypernet::Config| {
        c.maintenance_interval_secs = 0;
        c.max_aliases = 200;
        c.max_complexity = 1_000_000;
        c.max_depth = 20;
        // One public URL for both servers, so that their absolute URLs agree.
        c.public_url = Some("http://hypernet.test".into());
    };
    let app = TestApp::spawn_with(limits).await;
    let (ann, world) = seed(&app).await;
    // Thumbnails are made in the background: both servers must see the same graph.
    app.settled_statements().await;
    let resolvers = app
        .spawn_beside(|c| {
            limits(c);
            c.executor = ExecutorMode::Resolvers;
        })
        .await;
    let mut oracle = Oracle::start().await;
    let docs: u64 = std::env::var("HYPERNET_DIFF_DOCS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_DOCS);
    let first: u64 = std::env::var("HYPERNET_DIFF_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() * 1000)
        });
    eprintln!("differential: {docs} documents from seed {first}");
    let token = Some(ann.access_token.as_str());
    let url = app.url("/graphql");
    let mut with_errors = 0;
    for seed in first..first + docs {
        let doc = generate(seed, &world);
        let replay = format!(
            "seed {seed} (replay: HYPERNET_DIFF_SEED={seed} HYPERNET_DIFF_DOCS=1 cargo test --test api differential)\n{}\nvariables: {}",
            doc.query, doc.variables
        );
        let run = || async {
            let planned = app
                .gql_ordered(&doc.query, doc.variables.clone(), token)
                .await;
            let reference = resolvers
                .gql_ordered(&doc.query, doc.variables.clone(), token)
                .await;
            (compare(&planned, &reference), planned)
        };
        let (mut verdict, mut planned) = run().await;
        if verdict.is_err() {
            // Signed URLs move to their next expiry every ten minutes: once more, in case
            // the two requests fell on both sides of that step.
            (verdict, planned) = run().await;
        }
        if let Err(diff) = verdict {
            panic!("{replay}\n{diff}");
        }
        if planned.at("errors") != &Json::Null {
            with_errors += 1;
        }
        let verdict = oracle.check(&url, token, &doc.query, &doc.variables).await;
        assert_eq!(verdict["ok"], true, "{replay}\ngraphql-js: {verdict:#}");
    }
    eprintln!("differential: {docs} documents agreed ({with_errors} with field errors)");
    // Field errors are part of what is compared, but most documents must read data.
    assert!(
        with_errors * 5 < docs,
        "{with_errors} of {docs} documents had errors"
    );
}
