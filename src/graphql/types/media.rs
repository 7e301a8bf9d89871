//! `Media`, its enums and inputs, and the `User.media` connection.

use std::sync::Arc;

use async_graphql::{Context, Enum, ID, Json, Object, Result, SelectionField};
use chrono::{DateTime, Utc};
use entity::media;
use uuid::Uuid;

use super::album::Album;
use super::integration::Integration;
use super::link::{Direction, LinkConnection, links_of};
use super::tag::Tag;
use crate::graphql::connection::cost;
use crate::graphql::context::{loaders, request, services};
use crate::graphql::exec::ToOut;
use crate::graphql::exec::obj::{Obj, Out};
use crate::graphql::ids;
use crate::graphql::scalars::BigInt;
use crate::kinds::Kind;
use crate::service::Services;
use crate::store::rows::MediaColumns;

/// A photo or a video.
pub(crate) struct Media(pub Arc<media::Model>);

impl From<media::Model> for Media {
    fn from(model: media::Model) -> Self {
        Self(Arc::new(model))
    }
}

impl Media {
    fn kind(&self) -> MediaType {
        MediaType::of(&self.0)
    }
}

/// When `m` was taken, in the local time of the camera (see `Media.takenAtLocal`).
pub(crate) fn taken_at_local(m: &media::Model) -> Option<String> {
    let t = m.taken_at?;
    let offset = m.metadata.get(crate::media::inspect::TAKEN_AT_OFFSET);
    Some(match offset {
        Some(serde_json::Value::String(offset)) => {
            match chrono::DateTime::parse_from_rfc3339(&format!("2000-01-01T00:00:00{offset}")) {
                Ok(zone) => t.with_timezone(zone.offset()).to_rfc3339(),
                Err(_) => t.to_rfc3339(),
            }
        }
        // The camera's wall clock, which had no zone.
        Some(serde_json::Value::Null) => t.naive_utc().format("%Y-%m-%dT%H:%M:%S").to_string(),
        _ => t.to_rfc3339(),
    })
}

/// A short-lived signed URL of the bytes of media `id`, under `base` (the server's URL).
pub(crate) fn content_url(svc: &Services, base: &str, id: Uuid) -> String {
    let (expires, signature) = svc.sign_content(id);
    format!(
        "{base}/media/{}/content?exp={expires}&sig={signature}",
        ids::encode(Kind::Media, id).as_str()
    )
}

/// The media columns a connection field's selection reads of its nodes (`edges { node { … } }`,
/// `nodes { … }`). The connection's media need carry only those: the selection is fixed for
/// the request, so no other field of them is ever resolved.
pub(crate) fn node_columns(ctx: &Context<'_>) -> MediaColumns {
    let mut columns = MediaColumns::KEYS;
    for field in ctx.field().selection_set() {
        match field.name() {
            "edges" => {
                for node in field.selection_set().filter(|f| f.name() == "node") {
                    columns = columns.union(columns_of(node.selection_set()));
                }
            }
            "nodes" => columns = columns.union(columns_of(field.selection_set())),
            _ => {}
        }
    }
    columns
}

/// The columns a selection of `Media` fields reads.
fn columns_of<'a>(fields: impl Iterator<Item = SelectionField<'a>>) -> MediaColumns {
    fields.fold(MediaColumns::KEYS, |columns, field| {
        columns.union(column_of(field.name()))
    })
}

/// Every field of `Media`, in the schema's order, with the columns it reads besides the keys
/// (`id`, `user_id`): the one list a page goes by to read only the columns its selection uses,
/// for both executors. A test checks it against the schema, so a new field cannot be left out.
pub(crate) const FIELDS: &[(&str, &[&str])] = &[
    ("id", &[]),
    ("filename", &["filename"]),
    ("mediaType", &["media_type"]),
    ("mimeType", &["mime_type"]),
    ("size", &["size"]),
    ("width", &["width"]),
    ("height", &["height"]),
    ("durationMs", &["duration_ms"]),
    ("hash", &["hash"]),
    ("takenAt", &["taken_at"]),
    ("takenAtLocal", &["taken_at", "metadata"]),
    ("createdAt", &["created_at"]),
    ("updatedAt", &["updated_at"]),
    ("deletedAt", &["deleted_at"]),
    ("metadata", &["metadata"]),
    // Read by id, through the loaders or the signer.
    ("contentUrl", &[]),
    ("albums", &[]),
    ("tags", &[]),
    ("source", &[]),
    ("duplicates", &[]),
    ("links", &[]),
    ("variants", &[]),
];

/// The columns the `Media` field `name` reads besides the keys (all of them for a name
/// [`FIELDS`] does not know).
pub(crate) fn column_of(name: &str) -> MediaColumns {
    if name == "__typename" {
        return MediaColumns::KEYS;
    }
    match FIELDS.iter().find(|(field, _)| *field == name) {
        Some((_, columns)) => columns
            .iter()
            .fold(MediaColumns::KEYS, |set, column| set.with(column)),
        None => MediaColumns::ALL,
    }
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum MediaType {
    Photo,
    Video,
}

impl MediaType {
    pub(crate) fn of(m: &media::Model) -> Self {
        if m.media_type == "video" {
            MediaType::Video
        } else {
            MediaType::Photo
        }
    }

    pub(crate) fn as_db(self) -> &'static str {
        match self {
            MediaType::Photo => "photo",
            MediaType::Video => "video",
        }
    }
}

#[Object]
impl Media {
    /// An opaque, stable global id.
    pub(crate) async fn id(&self) -> ID {
        ids::encode(Kind::Media, self.0.id)
    }

    async fn filename(&self) -> &str {
        &self.0.filename
    }

    async fn media_type(&self) -> MediaType {
        self.kind()
    }

    /// Sniffed from the bytes, not taken from the name.
    async fn mime_type(&self) -> &str {
        &self.0.mime_type
    }

    /// Bytes.
    async fn size(&self) -> BigInt {
        BigInt(self.0.size)
    }

    async fn width(&self) -> Option<i32> {
        self.0.width
    }

    async fn height(&self) -> Option<i32> {
        self.0.height
    }

    /// Videos only.
    async fn duration_ms(&self) -> Option<i64> {
        self.0.duration_ms
    }

    /// SHA-256 of the bytes, in hex.
    async fn hash(&self) -> &str {
        &self.0.hash
    }

    /// When it was taken: as given at upload, else from EXIF.
    async fn taken_at(&self) -> Option<DateTime<Utc>> {
        self.0.taken_at
    }

    /// When it was taken, in the local time of the camera: with the zone the photo recorded
    /// (`2024-06-01T12:30:00+02:00`), or with none (`2024-06-01T12:30:00`) when the camera's
    /// clock had no zone (`takenAt` is then that wall clock read as UTC); else `takenAt`.
    async fn taken_at_local(&self) -> Option<String> {
        taken_at_local(&self.0)
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }

    /// Set while the media is in the trash.
    async fn deleted_at(&self) -> Option<DateTime<Utc>> {
        self.0.deleted_at
    }

    /// Camera and EXIF details (`make`, `camera`, `lens`, `exposure`, `aperture`, `iso`,
    /// `focalLength`, `orientation`, `location { lat lon }`) and whatever clients added.
    async fn metadata(&self) -> Json<serde_json::Value> {
        Json(self.0.metadata.clone())
    }

    /// A short-lived signed URL of the bytes that works without a header (`<img src>`).
    async fn content_url(&self, ctx: &Context<'_>) -> String {
        content_url(services(ctx), &request(ctx).base_url, self.0.id)
    }

    /// The albums this media is in.
    async fn albums(&self, ctx: &Context<'_>) -> Result<Vec<Album>> {
        Ok(loaders(ctx)
            .albums_of_media
            .load_one(self.0.id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(Album)
            .collect())
    }

    /// The viewer's tags on this media, by name.
    async fn tags(&self, ctx: &Context<'_>) -> Result<Vec<Tag>> {
        Ok(loaders(ctx)
            .tags_of_media
            .load_one(self.0.id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(Tag)
            .collect())
    }

    /// The integration this media was imported through, if any.
    async fn source(&self, ctx: &Context<'_>) -> Result<Option<Integration>> {
        Ok(loaders(ctx)
            .sources
            .load_one(self.0.id)
            .await?
            .map(Integration))
    }

    /// Media linked to this one as `duplicate_of`, either way.
    async fn duplicates(&self, ctx: &Context<'_>) -> Result<Vec<Media>> {
        Ok(loaders(ctx)
            .duplicates
            .load_one(self.0.id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(Media::from)
            .collect())
    }

    /// Links from or to this media.
    #[graphql(complexity = "cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)] // the arguments are the public contract
    async fn links(
        &self,
        ctx: &Context<'_>,
        types: Option<Vec<String>>,
        #[graphql(default_with = "Direction::Out")] direction: Direction,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<LinkConnection> {
        links_of(
            ctx,
            Some(self.0.id),
            self.0.user_id,
            types,
            direction,
            (first, after, last, before),
        )
        .await
    }

    /// Thumbnails (256 and 1024 px on the long edge), smallest first; empty until they are
    /// made, and for types that cannot be decoded (HEIC) or videos.
    async fn variants(&self, ctx: &Context<'_>) -> Result<Vec<Media>> {
        Ok(loaders(ctx)
            .variants
            .load_one((self.0.id, MediaColumns::ALL))
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(Media)
            .collect())
    }
}

impl ToOut for Media {
    fn to_out(&self) -> Out {
        Out::One(Obj::Media(self.0.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_field_table_is_the_schemas_media_type() {
        let sdl = crate::graphql::sdl();
        let body = sdl
            .split("type Media implements Node {")
            .nth(1)
            .and_then(|rest| rest.split("\n}").next())
            .expect("the Media type");
        // Field lines are indented once, outside the `"""` blocks of descriptions.
        let mut in_description = false;
        let mut fields: Vec<&str> = Vec::new();
        for line in body.lines() {
            if line.trim() == "\"\"\"" {
                in_description = !in_description;
            } else if !in_description && line.starts_with('\t') && !line.starts_with("\t\t") {
                fields.extend(line.trim().split(['(', ':']).next());
            }
        }
        let table: Vec<&str> = FIELDS.iter().map(|(name, _)| *name).collect();
        assert_eq!(fields, table);
        // Every column named is one of the table's.
        for (name, columns) in FIELDS {
            for column in *columns {
                assert_ne!(
                    MediaColumns::KEYS.with(column),
                    MediaColumns::ALL,
                    "{name}: {column}"
                );
            }
        }
    }
}
