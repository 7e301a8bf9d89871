//! Tags: names unique per user ignoring case, tagging in batches, `Media.tags`, `Tag.media`,
//! `User.tags`, the `tagIds` filter, the trash, keywords at upload, and nobody else's tags.

use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_code};

const TAGS: &str =
    "{ viewer { tags(first: 50) { totalCount edges { cursor node { id name } } } } }";

async fn create(app: &TestApp, token: &str, name: &str) -> Value {
    app.gql(
        "mutation($n: String!) { createTag(input: { name: $n }) { tag { id name deletedAt } } }",
        json!({ "n": name }),
        Some(token),
    )
    .await
}

async fn tag(app: &TestApp, token: &str, name: &str) -> String {
    let res = create(app, token, name).await;
    res["data"]["createTag"]["tag"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{res}"))
        .to_string()
}

async fn tag_media(app: &TestApp, token: &str, tags: &[&str], media: &[&str]) -> Value {
    app.gql(
        "mutation($t: [ID!]!, $m: [ID!]!) { tagMedia(input: { tagIds: $t, mediaIds: $m }) {
           tags { id name } media { id tags { name } } } }",
        json!({ "t": tags, "m": media }),
        Some(token),
    )
    .await
}

async fn untag_media(app: &TestApp, token: &str, tags: &[&str], media: &[&str]) -> Value {
    app.gql(
        "mutation($t: [ID!]!, $m: [ID!]!) { untagMedia(input: { tagIds: $t, mediaIds: $m }) {
           tags { id } media { id tags { name } } } }",
        json!({ "t": tags, "m": media }),
        Some(token),
    )
    .await
}

/// The names of the viewer's tags, in `User.tags` order.
async fn names(app: &TestApp, token: &str) -> Vec<String> {
    app.ok(TAGS, json!({}), token).await["viewer"]["tags"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["name"].as_str().unwrap().to_string())
        .collect()
}

/// The names of the tags on media `id`.
async fn tags_on(app: &TestApp, token: &str, id: &str) -> Vec<String> {
    let data = app
        .ok(
            "query($id: ID!) { node(id: $id) { ... on Media { tags { name } } } }",
            json!({ "id": id }),
            token,
        )
        .await;
    data["node"]["tags"]
        .as_array()
        .unwrap_or_else(|| panic!("{data}"))
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect()
}

/// The ids of the media of tag `id` (`Tag.media`), and its `totalCount`.
async fn media_of(app: &TestApp, token: &str, id: &str) -> (Vec<String>, i64) {
    let data = app
        .ok(
            "query($id: ID!) { node(id: $id) { ... on Tag { media(first: 50) { totalCount nodes { id } } } } }",
            json!({ "id": id }),
            token,
        )
        .await;
    let page = &data["node"]["media"];
    let ids = page["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{data}"))
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_string())
        .collect();
    (ids, page["totalCount"].as_i64().unwrap())
}

/// The ids `User.media(filter: { tagIds })` gives, or the response when it fails.
async fn filtered(app: &TestApp, token: &str, tags: &[&str]) -> Result<Vec<String>, Value> {
    let res = app
        .gql(
            "query($t: [ID!]) { viewer { media(first: 50, filter: { tagIds: $t }) { totalCount nodes { id } } } }",
            json!({ "t": tags }),
            Some(token),
        )
        .await;
    if !res["errors"].is_null() {
        return Err(res);
    }
    let page = &res["data"]["viewer"]["media"];
    let ids: Vec<String> = page["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(page["totalCount"].as_i64().unwrap(), ids.len() as i64);
    Ok(ids)
}

#[tokio::test]
async fn tag_names_are_unique_per_user_ignoring_case() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann@example.com").await;
    let t = &ann.access_token;
    let res = create(&app, t, "  Beach  ").await;
    assert_eq!(res["data"]["createTag"]["tag"]["name"], "Beach", "{res}");
    let beach = res["data"]["createTag"]["tag"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_code(&create(&app, t, "bEACH").await, "CONFLICT");
    for bad in ["", "   ", "tab\there", &"x".repeat(101)] {
        assert_code(&create(&app, t, bad).await, "BAD_USER_INPUT");
    }
    let zebra = tag(&app, t, "zebra").await;
    tag(&app, t, "Álbum").await;
    tag(&app, t, "apple").await;
    // By name, ignoring case.
    assert_eq!(names(&app, t).await, ["apple", "Beach", "zebra", "Álbum"]);

    let rename = "mutation($id: ID!, $n: String!) { renameTag(input: { id: $id, name: $n }) { tag { id name } } }";
    // A new case of its own name is a rename; another tag's name is a conflict.
    let res = app
        .gql(rename, json!({ "id": beach, "n": "BEACH" }), Some(t))
        .await;
    assert_eq!(res["data"]["renameTag"]["tag"]["name"], "BEACH", "{res}");
    let res = app
        .gql(rename, json!({ "id": zebra, "n": "beach" }), Some(t))
        .await;
    assert_code(&res, "CONFLICT");
    assert_eq!(names(&app, t).await, ["apple", "BEACH", "zebra", "Álbum"]);

    // Pages walk the same order both ways.
    let page = "query($f: Int, $a: String, $l: Int, $b: String) { viewer { tags(first: $f, after: $a, last: $l, before: $b) {
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor } nodes { name } } } }";
    let first = app.ok(page, json!({ "f": 2 }), t).await;
    let conn = &first["viewer"]["tags"];
    assert_eq!(
        conn["nodes"],
        json!([{ "name": "apple" }, { "name": "BEACH" }])
    );
    assert_eq!(conn["pageInfo"]["hasNextPage"], true);
    let next = app
        .ok(
            page,
            json!({ "f": 5, "a": conn["pageInfo"]["endCursor"] }),
            t,
        )
        .await;
    assert_eq!(
        next["viewer"]["tags"]["nodes"],
        json!([{ "name": "zebra" }, { "name": "Álbum" }])
    );
    let back = app.ok(page, json!({ "l": 3 }), t).await;
    assert_eq!(
        back["viewer"]["tags"]["nodes"],
        json!([{ "name": "BEACH" }, { "name": "zebra" }, { "name": "Álbum" }])
    );

    // Bob has tags of his own, of any name, and none of Ann's.
    let bob = app.register("bob@example.com").await;
    let bobs = tag(&app, &bob.access_token, "beach").await;
    assert_eq!(names(&app, &bob.access_token).await, ["beach"]);
    let res = app
        .gql(
            rename,
            json!({ "id": beach, "n": "mine" }),
            Some(&bob.access_token),
        )
        .await;
    assert_code(&res, "NOT_FOUND");
    let res = app
        .ok(
            "query($a: ID!, $b: ID!) { nodes(ids: [$a, $b]) { id } }",
            json!({ "a": beach, "b": bobs }),
            &bob.access_token,
        )
        .await;
    assert_eq!(res["nodes"], json!([null, { "id": bobs }]));
    assert_eq!(names(&app, t).await, ["apple", "BEACH", "zebra", "Álbum"]);
}

#[tokio::test]
async fn media_are_tagged_in_batches_and_filtered_by_every_tag() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann@example.com").await;
    let t = &ann.access_token;
    let p = app.photos(t, 4).await;
    let beach = tag(&app, t, "Beach").await;
    let sea = tag(&app, t, "sea").await;
    let res = tag_media(&app, t, &[&sea, &beach], &[&p[0], &p[1], &p[2]]).await;
    assert!(res["errors"].is_null(), "{res}");
    let payload = &res["data"]["tagMedia"];
    // In the order asked, each media with its tags by name.
    assert_eq!(payload["tags"][0]["id"], sea.as_str());
    assert_eq!(payload["media"][2]["id"], p[2].as_str());
    assert_eq!(
        payload["media"][0]["tags"],
        json!([{ "name": "Beach" }, { "name": "sea" }])
    );
    // Tagging again changes nothing; untagging some pairs leaves the others.
    let again = tag_media(&app, t, &[&beach], &[&p[0], &p[3]]).await;
    assert!(again["errors"].is_null(), "{again}");
    let res = untag_media(&app, t, &[&sea], &[&p[1], &p[3]]).await;
    assert!(res["errors"].is_null(), "{res}");
    assert_eq!(tags_on(&app, t, &p[0]).await, ["Beach", "sea"]);
    assert_eq!(tags_on(&app, t, &p[1]).await, ["Beach"]);
    assert_eq!(tags_on(&app, t, &p[3]).await, ["Beach"]);
    let links = app
        .sql_i64("SELECT COUNT(*) FROM links WHERE link_type = 'tagged' AND deleted_at IS NULL")
        .await;
    assert_eq!(links, 6, "one link per pair");

    // `Tag.media`: newest taken first, as the library.
    let (mut on_beach, total) = media_of(&app, t, &beach).await;
    assert_eq!(total, 4);
    let mut library = filtered(&app, t, &[&beach]).await.unwrap();
    assert_eq!(on_beach, library, "the library's order");
    on_beach.sort();
    library.sort();
    let mut all = p.clone();
    all.sort();
    assert_eq!(on_beach, all);
    // Every tag must hold.
    let both = filtered(&app, t, &[&beach, &sea]).await.unwrap();
    let mut expected = vec![p[0].clone(), p[2].clone()];
    expected.sort();
    let mut both_sorted = both.clone();
    both_sorted.sort();
    assert_eq!(both_sorted, expected);
    assert_code(&filtered(&app, t, &[]).await.unwrap_err(), "BAD_USER_INPUT");

    // Ids that name nothing of Ann's (malformed, of another kind) fail the whole batch.
    assert_code(
        &tag_media(&app, t, &[&sea], &[&p[3], "garbage"]).await,
        "NOT_FOUND",
    );
    assert_code(&tag_media(&app, t, &[&p[0]], &[&p[3]]).await, "NOT_FOUND");
    assert_eq!(tags_on(&app, t, &p[3]).await, ["Beach"]);

    // Bob can neither use Ann's tags nor tag Ann's media, and nothing changes when he tries.
    let bob = app.register("bob@example.com").await;
    let b = &bob.access_token;
    let bobs_photo = app.photos(b, 1).await.remove(0);
    let bobs_tag = tag(&app, b, "beach").await;
    assert_code(
        &tag_media(&app, b, &[&beach], &[&bobs_photo]).await,
        "NOT_FOUND",
    );
    assert_code(
        &tag_media(&app, b, &[&bobs_tag], &[&p[1]]).await,
        "NOT_FOUND",
    );
    assert_code(
        &untag_media(&app, b, &[&beach], &[&p[0]]).await,
        "NOT_FOUND",
    );
    assert_code(
        &filtered(&app, b, &[&beach]).await.unwrap_err(),
        "NOT_FOUND",
    );
    // Ann's own tag with a media of Bob's in the same batch fails whole.
    assert_code(
        &tag_media(&app, t, &[&sea], &[&p[3], &bobs_photo]).await,
        "NOT_FOUND",
    );
    assert_eq!(tags_on(&app, t, &p[3]).await, ["Beach"]);
    let res = app
        .gql(
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": beach }),
            Some(b),
        )
        .await;
    assert!(res["data"]["node"].is_null(), "{res}");
    let res = app
        .gql(
            "mutation($f: ID!, $t: ID!) { createLink(input: { fromId: $f, toId: $t, linkType: \"tagged\" }) { link { id } } }",
            json!({ "f": bobs_photo, "t": beach }),
            Some(b),
        )
        .await;
    assert_code(&res, "NOT_FOUND");
    assert_eq!(
        app.sql_i64("SELECT COUNT(*) FROM links WHERE link_type = 'tagged' AND deleted_at IS NULL")
            .await,
        6
    );
}

#[tokio::test]
async fn a_tag_in_the_trash_leaves_its_media_and_comes_back_with_them() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann@example.com").await;
    let t = &ann.access_token;
    let p = app.photos(t, 2).await;
    let old = tag(&app, t, "Trip").await;
    tag_media(&app, t, &[&old], &[&p[0], &p[1]]).await;
    let res = app
        .gql(
            "mutation($id: ID!) { deleteTag(input: { id: $id }) { deletedId } }",
            json!({ "id": old }),
            Some(t),
        )
        .await;
    assert_eq!(res["data"]["deleteTag"]["deletedId"], old.as_str(), "{res}");
    assert!(tags_on(&app, t, &p[0]).await.is_empty());
    assert_code(&filtered(&app, t, &[&old]).await.unwrap_err(), "NOT_FOUND");
    let trash = app
        .ok(
            "{ viewer { trash(first: 10) { totalCount nodes { __typename ... on Tag { id name deletedAt media(first: 5) { totalCount nodes { id } } } } } } }",
            json!({}),
            t,
        )
        .await;
    assert_eq!(trash["viewer"]["trash"]["totalCount"], 1);
    assert_eq!(trash["viewer"]["trash"]["nodes"][0]["__typename"], "Tag");
    assert!(!trash["viewer"]["trash"]["nodes"][0]["deletedAt"].is_null());
    // Its links are hidden with it: it carries nothing while it is in the trash.
    assert_eq!(
        trash["viewer"]["trash"]["nodes"][0]["media"],
        json!({ "totalCount": 0, "nodes": [] })
    );
    // Its name is free while it is in the trash; restoring it then conflicts.
    let new = tag(&app, t, "trip").await;
    let restore = "mutation($id: ID!) { restoreTag(input: { id: $id }) { tag { id name } } }";
    assert_code(
        &app.gql(restore, json!({ "id": old }), Some(t)).await,
        "CONFLICT",
    );
    app.ok(
        "mutation($id: ID!) { deleteTag(input: { id: $id }) { deletedId } }",
        json!({ "id": new }),
        t,
    )
    .await;
    let res = app.ok(restore, json!({ "id": old }), t).await;
    assert_eq!(res["restoreTag"]["tag"]["name"], "Trip");
    assert_eq!(tags_on(&app, t, &p[1]).await, ["Trip"]);
    assert_eq!(media_of(&app, t, &old).await.1, 2);
    // Bob cannot restore or delete it.
    let bob = app.register("bob@example.com").await;
    assert_code(
        &app.gql(restore, json!({ "id": old }), Some(&bob.access_token))
            .await,
        "NOT_FOUND",
    );
    // Emptying the trash purges the other one, with its links.
    let res = app
        .ok("mutation { emptyTrash { purgedIds } }", json!({}), t)
        .await;
    assert_eq!(res["emptyTrash"]["purgedIds"], json!([new]));
    assert_eq!(
        app.sql_i64("SELECT COUNT(*) FROM tags").await,
        1,
        "the purged tag's row is gone"
    );
    assert_eq!(
        app.sql_i64("SELECT COUNT(*) FROM links WHERE link_type = 'tagged'")
            .await,
        2
    );
}

#[tokio::test]
async fn nested_tags_are_read_in_a_fixed_number_of_statements() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann@example.com").await;
    let t = &ann.access_token;
    let p = app.photos(t, 6).await;
    let query = "{ viewer { tags(first: 20) { totalCount nodes { name
        media(first: 3) { totalCount nodes { id tags { name } } } } } } }";
    let mut counts = Vec::new();
    for n in [2usize, 6] {
        while names(&app, t).await.len() < n {
            let i = names(&app, t).await.len();
            let id = tag(&app, t, &format!("tag {i}")).await;
            let media: Vec<&str> = p[..=i].iter().map(String::as_str).collect();
            tag_media(&app, t, &[&id], &media).await;
        }
        let before = app.settled_statements().await;
        let data = app.ok(query, json!({}), t).await;
        counts.push(app.statements().await - before);
        let tags = data["viewer"]["tags"]["nodes"].as_array().unwrap();
        assert_eq!(tags.len(), n);
        assert_eq!(tags[n - 1]["media"]["totalCount"], n as i64);
    }
    assert_eq!(counts[0], counts[1], "statements per request: {counts:?}");
}

/// A JPEG whose EXIF holds Windows' `XPKeywords` and whose XMP holds `dc:subject`.
fn jpeg_with_keywords(xp: &str, subjects: &[&str]) -> Vec<u8> {
    let mut out = crate::fixtures::jpeg(16, 12, None);
    let mut utf16: Vec<u8> = xp.encode_utf16().flat_map(u16::to_le_bytes).collect();
    utf16.extend_from_slice(&[0, 0]);
    // A little-endian TIFF with one IFD0 entry, 0x9C9E (BYTE), its data after the IFD.
    let mut tiff = b"II*\0".to_vec();
    tiff.extend_from_slice(&8u32.to_le_bytes());
    tiff.extend_from_slice(&1u16.to_le_bytes());
    tiff.extend_from_slice(&0x9C9Eu16.to_le_bytes());
    tiff.extend_from_slice(&1u16.to_le_bytes());
    tiff.extend_from_slice(&(utf16.len() as u32).to_le_bytes());
    tiff.extend_from_slice(&26u32.to_le_bytes());
    tiff.extend_from_slice(&0u32.to_le_bytes());
    tiff.extend_from_slice(&utf16);
    let items: String = subjects
        .iter()
        .map(|s| format!("<rdf:li>{s}</rdf:li>"))
        .collect();
    let xmp = format!(
        "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\
         <rdf:Description rdf:about=\"\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\
         <dc:subject><rdf:Bag>{items}</rdf:Bag></dc:subject></rdf:Description></rdf:RDF></x:xmpmeta>"
    );
    let mut segments = Vec::new();
    for (prefix, body) in [
        (&b"Exif\0\0"[..], tiff),
        (&b"http://ns.adobe.com/xap/1.0/\0"[..], xmp.into_bytes()),
    ] {
        let len = u16::try_from(2 + prefix.len() + body.len()).unwrap();
        segments.extend_from_slice(&[0xFF, 0xE1]);
        segments.extend_from_slice(&len.to_be_bytes());
        segments.extend_from_slice(prefix);
        segments.extend_from_slice(&body);
    }
    out.splice(2..2, segments);
    out
}

#[tokio::test]
async fn keywords_become_tags_when_the_server_is_told_to() {
    let app = TestApp::spawn_with(|c| c.import_keywords = true).await;
    let ann = app.register("ann@example.com").await;
    let t = &ann.access_token;
    tag(&app, t, "family").await;
    let bytes = jpeg_with_keywords(
        "Sunset; beach;",
        &["Beach", "Family &amp; friends", "Family"],
    );
    let media = app.upload_ok(t, "kw.jpg", bytes).await;
    let id = media["id"].as_str().unwrap();
    let data = app
        .ok(
            "query($id: ID!) { node(id: $id) { ... on Media { metadata } } }",
            json!({ "id": id }),
            t,
        )
        .await;
    assert_eq!(
        data["node"]["metadata"]["keywords"],
        json!(["Sunset", "beach", "Family & friends", "Family"])
    );
    // One tag per name ignoring case; an existing tag is reused.
    assert_eq!(
        tags_on(&app, t, id).await,
        ["beach", "family", "Family & friends", "Sunset"]
    );
    assert_eq!(names(&app, t).await.len(), 4);
    let again = app
        .upload_ok(t, "kw2.jpg", jpeg_with_keywords("SUNSET", &[]))
        .await;
    assert_eq!(
        tags_on(&app, t, again["id"].as_str().unwrap()).await,
        ["Sunset"]
    );
    assert_eq!(names(&app, t).await.len(), 4);
    // Another user's upload makes tags of its own.
    let bob = app.register("bob@example.com").await;
    app.upload_ok(
        &bob.access_token,
        "kw.jpg",
        jpeg_with_keywords("Sunset", &[]),
    )
    .await;
    assert_eq!(names(&app, &bob.access_token).await, ["Sunset"]);
    assert_eq!(names(&app, t).await.len(), 4);
}

#[tokio::test]
async fn keywords_stay_metadata_by_default() {
    let app = TestApp::spawn().await;
    let ann = app.register("ann@example.com").await;
    let t = &ann.access_token;
    let media = app
        .upload_ok(t, "kw.jpg", jpeg_with_keywords("Sunset", &["Beach"]))
        .await;
    let id = media["id"].as_str().unwrap();
    assert!(tags_on(&app, t, id).await.is_empty());
    assert!(names(&app, t).await.is_empty());
    let data = app
        .ok(
            "query($id: ID!) { node(id: $id) { ... on Media { metadata } } }",
            json!({ "id": id }),
            t,
        )
        .await;
    assert_eq!(
        data["node"]["metadata"]["keywords"],
        json!(["Sunset", "Beach"])
    );
}
