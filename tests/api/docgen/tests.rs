//! The generator's own tests: one seed gives one document; documents cover the schema and
//! every feature often; the real server accepts every one of them.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io::Write;

use serde_json::json;

use super::schema::{SCHEMA, named};
use super::usage::{FEATURES, Usage};
use super::{World, generate};
use crate::helpers::{TestApp, TestUser};

/// A world of made-up ids: enough for tests that never send the documents.
fn made_up_world() -> World {
    let ids = |kind: &str, n: usize| (0..n).map(|i| format!("{kind}-{i}")).collect();
    World {
        user: "user-0".into(),
        media: ids("media", 6),
        albums: ids("album", 2),
        links: ids("link", 4),
        integrations: ids("integration", 1),
        tags: ids("tag", 2),
        foreign: ids("foreign", 3),
        link_types: vec!["contains".into(), "similar_to".into()],
    }
}

#[test]
fn a_seed_always_gives_the_same_document() {
    let world = made_up_world();
    for seed in 0..300 {
        let (a, b) = (generate(seed, &world), generate(seed, &world));
        assert_eq!(a.query, b.query, "seed {seed}");
        assert_eq!(a.variables, b.variables, "seed {seed}");
    }
    let texts: HashSet<String> = (0..300).map(|s| generate(s, &world).query).collect();
    assert!(texts.len() > 290, "only {} distinct documents", texts.len());
}

#[test]
fn documents_cover_every_field_and_feature() {
    let world = made_up_world();
    let runs = 2000;
    let mut fields: BTreeMap<(String, String), usize> = BTreeMap::new();
    let mut features: BTreeMap<&str, usize> = BTreeMap::new();
    let (mut sizes, mut deepest) = (Vec::new(), 0);
    for seed in 0..runs {
        let generated = generate(seed, &world);
        let usage = Usage::of(&generated);
        assert!(
            usage.depth <= 12 && usage.aliases <= 30,
            "seed {seed} is {} deep with {} aliases:\n{}",
            usage.depth,
            usage.aliases,
            generated.query
        );
        for field in usage.fields {
            *fields.entry(field).or_default() += 1;
        }
        for feature in usage.features {
            *features.entry(feature).or_default() += 1;
        }
        sizes.push(usage.field_count);
        deepest = deepest.max(usage.depth);
    }
    sizes.sort_unstable();
    println!(
        "fields per document: min {} median {} max {}; deepest {deepest}",
        sizes[0],
        sizes[sizes.len() / 2],
        sizes[sizes.len() - 1]
    );
    for (feature, docs) in &features {
        println!("{:>5.1}%  {feature}", 100.0 * *docs as f64 / runs as f64);
    }
    let mut rarest: Vec<_> = fields.iter().map(|(field, docs)| (*docs, field)).collect();
    rarest.sort();
    for (docs, (on, field)) in rarest.iter().take(12) {
        println!(
            "{:>5.1}%  {on}.{field} (one of the rarest fields)",
            100.0 * *docs as f64 / runs as f64
        );
    }
    let missing: Vec<_> = reachable_fields()
        .into_iter()
        .filter(|field| !fields.contains_key(field))
        .collect();
    assert!(missing.is_empty(), "never generated: {missing:?}");
    for feature in FEATURES {
        let share = features.get(feature).copied().unwrap_or(0) as f64 / runs as f64;
        assert!(
            share >= 0.03,
            "{feature} in {:.1}% of documents",
            share * 100.0
        );
    }
}

/// Every (type, field) a query can reach: through fields, and from an interface or union to
/// its object types.
fn reachable_fields() -> BTreeSet<(String, String)> {
    let mut fields = BTreeSet::new();
    let mut seen = HashSet::new();
    let mut todo = vec![SCHEMA.query.clone()];
    while let Some(type_name) = todo.pop() {
        if !seen.insert(type_name.clone()) {
            continue;
        }
        let def = SCHEMA.get(&type_name);
        todo.extend(def.possible.iter().cloned());
        for field in &def.fields {
            fields.insert((type_name.clone(), field.name.clone()));
            if SCHEMA.is_composite(named(&field.ty)) {
                todo.push(named(&field.ty).to_string());
            }
        }
    }
    fields
}

/// A viewer with six photos (one in the trash), albums with members (one album in the
/// trash), `similar_to` and `duplicate_of` links and an integration; and another user whose
/// ids the documents use too.
async fn seeded_world(app: &TestApp) -> (World, TestUser) {
    let ann = app.register("ann@example.com").await;
    let token = ann.access_token.as_str();
    let media = app.photos(token, 6).await;
    let trip = app.create_album(token, "Trip").await;
    let best = app.create_album(token, "Best").await;
    let old = app.create_album(token, "Old").await;
    app.add_to_album(token, &trip, &media[0..3]).await;
    app.add_to_album(token, &best, &media[2..5]).await;
    app.add_to_album(token, &old, &media[4..6]).await;
    app.link(token, &media[0], &media[1], "similar_to").await;
    app.link(token, &media[1], &media[3], "similar_to").await;
    app.link(token, &media[4], &media[0], "duplicate_of").await;
    let integration = app
        .ok(
            "mutation { createIntegration(input: { integrationType: \"photo_cloud\", name: \"Cloud\" }) { integration { id } } }",
            json!({}),
            token,
        )
        .await["createIntegration"]["integration"]["id"]
        .as_str()
        .expect("an integration")
        .to_string();
    app.ok(
        "mutation($m: [ID!]!, $a: ID!) { deleteMedia(input: { ids: $m }) { deletedIds }
           deleteAlbum(input: { id: $a }) { deletedId } }",
        json!({ "m": [media[5]], "a": old }),
        token,
    )
    .await;
    let links = app
        .ok(
            "{ viewer { links(first: 100) { nodes { id linkType } } } }",
            json!({}),
            token,
        )
        .await;
    let links = links["viewer"]["links"]["nodes"].as_array().expect("links");
    let link_types: BTreeSet<String> = links
        .iter()
        .map(|l| l["linkType"].as_str().expect("a type").to_string())
        .collect();

    let ben = app.register("ben@example.com").await;
    let mut foreign = app.photos(&ben.access_token, 1).await;
    foreign.push(app.create_album(&ben.access_token, "Ben's").await);
    foreign.push(ben.id.clone());
    // What is in the trash resolves to null like another user's objects.
    foreign.extend([media[5].clone(), old]);

    let world = World {
        user: ann.id.clone(),
        media: media[..5].to_vec(),
        albums: vec![trip, best],
        links: links
            .iter()
            .map(|l| l["id"].as_str().expect("an id").to_string())
            .collect(),
        integrations: vec![integration],
        tags: Vec::new(),
        foreign,
        link_types: link_types.into_iter().collect(),
    };
    (world, ann)
}

/// Error codes that say the document itself is wrong, which a generated one never is.
const DOCUMENT_ERRORS: &[&str] = &["GRAPHQL_VALIDATION_FAILED", "GRAPHQL_PARSE_FAILED"];

#[tokio::test]
async fn the_server_accepts_every_generated_document() {
    let app = TestApp::spawn_with(|c| {
        c.max_aliases = 200;
        c.max_complexity = 1_000_000;
        c.max_depth = 20;
    })
    .await;
    let (world, ann) = seeded_world(&app).await;
    let runs: u64 = std::env::var("DOCGEN_RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(300);
    // Set DOCGEN_DUMP to a file to get the documents as JSON lines, e.g. to run them
    // through graphql-js's validator.
    let mut dump = std::env::var("DOCGEN_DUMP")
        .ok()
        .map(|path| std::fs::File::create(path).expect("dump file"));
    let mut with_errors: BTreeMap<String, usize> = BTreeMap::new();
    for seed in 0..runs {
        let generated = generate(seed, &world);
        let res = app
            .gql(
                &generated.query,
                generated.variables.clone(),
                Some(&ann.access_token),
            )
            .await;
        if let Some(file) = dump.as_mut() {
            let line =
                json!({ "seed": seed, "query": generated.query, "variables": generated.variables });
            writeln!(file, "{line}").expect("dump");
        }
        let errors = res["errors"].as_array().cloned().unwrap_or_default();
        let mut codes = BTreeSet::new();
        for err in &errors {
            let code = err["extensions"]["code"].as_str().unwrap_or("no code");
            let refused = DOCUMENT_ERRORS.contains(&code) || !err["extensions"]["limit"].is_null();
            assert!(
                !refused,
                "seed {seed}: {err}\n{}\nvariables: {}",
                generated.query, generated.variables
            );
            codes.insert(format!("{code}: {}", err["message"].as_str().unwrap_or("")));
        }
        for code in codes {
            *with_errors.entry(code).or_default() += 1;
        }
    }
    let total: usize = with_errors.values().sum();
    println!("{runs} documents, {total} field errors (counted once per document and message):");
    for (code, docs) in &with_errors {
        println!("{docs:>5}  {code}");
    }
}
