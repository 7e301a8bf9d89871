//! `Media`, its enums and inputs, and the `User.media` connection.

use std::convert::Infallible;
use std::sync::Arc;

use async_graphql::connection::{Connection, Edge};
use async_graphql::{
    Context, Enum, ID, InputObject, InputType, Json, Object, Result, SelectionField,
};
use chrono::{DateTime, Utc};
use entity::media;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::album::Album;
use super::integration::Integration;
use super::link::{Direction, LinkConnection, links_of};
use crate::error::AppError;
use crate::graphql::connection::{self, Cursor, cost};
use crate::graphql::context::{loaders, services};
use crate::graphql::ids::{self, NodeKind};
use crate::graphql::json;
use crate::graphql::plain::{Fast, Plain, PlainFields, Sub};
use crate::graphql::scalars::BigInt;
use crate::service::Services;
use crate::store::media::{LibraryPage, MediaFilter, MediaSort, SortValue, sort_value};
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
        if self.0.media_type == "video" {
            MediaType::Video
        } else {
            MediaType::Photo
        }
    }

    fn content_url_of(&self, svc: &Services) -> String {
        let (expires, signature) = svc.sign_content(self.0.id);
        format!(
            "{}/media/{}/content?exp={expires}&sig={signature}",
            svc.public_url,
            ids::encode(NodeKind::Media, self.0.id).as_str()
        )
    }
}

/// How a plain field of `Media` is written.
pub(crate) enum MediaField {
    Id,
    Filename,
    MediaType,
    MimeType,
    Size,
    Width,
    Height,
    DurationMs,
    Hash,
    TakenAt,
    CreatedAt,
    UpdatedAt,
    DeletedAt,
    Metadata,
    ContentUrl(Arc<Services>),
}

/// The fields answered from the row in hand, written as their scalars serialise; those that
/// load (`albums`, `source`, `links`, …) go through the resolvers below.
impl Plain for Media {
    type Field = MediaField;

    fn plan_field(name: &str, sub: &Sub<'_>) -> Option<MediaField> {
        Some(match name {
            "id" => MediaField::Id,
            "filename" => MediaField::Filename,
            "mediaType" => MediaField::MediaType,
            "mimeType" => MediaField::MimeType,
            "size" => MediaField::Size,
            "width" => MediaField::Width,
            "height" => MediaField::Height,
            "durationMs" => MediaField::DurationMs,
            "hash" => MediaField::Hash,
            "takenAt" => MediaField::TakenAt,
            "createdAt" => MediaField::CreatedAt,
            "updatedAt" => MediaField::UpdatedAt,
            "deletedAt" => MediaField::DeletedAt,
            "metadata" => MediaField::Metadata,
            "contentUrl" => {
                MediaField::ContentUrl(sub.ctx().data_unchecked::<Arc<Services>>().clone())
            }
            _ => return None,
        })
    }

    fn write_field(&self, field: &MediaField, out: &mut Vec<u8>) {
        fn time(out: &mut Vec<u8>, t: Option<DateTime<Utc>>) {
            match t {
                Some(t) => json::string(out, &t.to_rfc3339()),
                None => out.extend_from_slice(b"null"),
            }
        }
        fn int(out: &mut Vec<u8>, n: Option<impl Into<i64>>) {
            match n {
                Some(n) => json::number(out, n.into()),
                None => out.extend_from_slice(b"null"),
            }
        }
        let m = &*self.0;
        match field {
            MediaField::Id => ids::write_json(out, NodeKind::Media, m.id),
            MediaField::Filename => json::string(out, &m.filename),
            MediaField::MediaType => json::value(out, &InputType::to_value(&self.kind())),
            MediaField::MimeType => json::string(out, &m.mime_type),
            MediaField::Size => json::number(out, m.size),
            MediaField::Width => int(out, m.width),
            MediaField::Height => int(out, m.height),
            MediaField::DurationMs => int(out, m.duration_ms),
            MediaField::Hash => json::string(out, &m.hash),
            MediaField::TakenAt => time(out, m.taken_at),
            MediaField::CreatedAt => time(out, Some(m.created_at)),
            MediaField::UpdatedAt => time(out, Some(m.updated_at)),
            MediaField::DeletedAt => time(out, m.deleted_at),
            // As async-graphql's `Json` resolves.
            MediaField::Metadata => json::value(
                out,
                &async_graphql::to_value(&m.metadata).unwrap_or_default(),
            ),
            MediaField::ContentUrl(svc) => json::string(out, &self.content_url_of(svc)),
        }
    }
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

/// The columns a selection of `Media` fields reads; a field not listed here reads them all.
fn columns_of<'a>(fields: impl Iterator<Item = SelectionField<'a>>) -> MediaColumns {
    fields.fold(MediaColumns::KEYS, |columns, field| {
        let column = match field.name() {
            // By id (and owner) only.
            "__typename" | "id" | "contentUrl" | "albums" | "source" | "duplicates" | "links"
            | "variants" => return columns,
            "filename" => "filename",
            "mediaType" => "media_type",
            "mimeType" => "mime_type",
            "size" => "size",
            "width" => "width",
            "height" => "height",
            "durationMs" => "duration_ms",
            "hash" => "hash",
            "takenAt" => "taken_at",
            "createdAt" => "created_at",
            "updatedAt" => "updated_at",
            "deletedAt" => "deleted_at",
            "metadata" => "metadata",
            _ => return MediaColumns::ALL,
        };
        columns.with(column)
    })
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum MediaType {
    Photo,
    Video,
}

impl MediaType {
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
        ids::encode(NodeKind::Media, self.0.id)
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
        self.content_url_of(services(ctx))
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
            .load_one(self.0.id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(Media::from)
            .collect())
    }
}

/// Filters of `User.media`; all given ones must hold.
#[derive(InputObject, Default)]
pub(crate) struct MediaFilterInput {
    media_type: Option<MediaType>,
    /// Taken at or after this moment.
    taken_after: Option<DateTime<Utc>>,
    /// Taken before this moment.
    taken_before: Option<DateTime<Utc>>,
    mime_type: Option<String>,
    /// Case-insensitive substring of the file name.
    filename_contains: Option<String>,
    /// SHA-256 of the bytes, in hex.
    hash: Option<String>,
    /// JSON containment: the metadata holds at least these keys and values.
    metadata_contains: Option<Json<serde_json::Value>>,
    /// Only members of this album.
    in_album: Option<ID>,
    /// Only media imported through this integration.
    from_integration: Option<ID>,
}

impl MediaFilterInput {
    /// Media imported through one integration.
    pub(crate) fn from_integration(id: ID) -> Self {
        Self {
            from_integration: Some(id),
            ..Default::default()
        }
    }

    fn into_filter(self) -> Result<MediaFilter, AppError> {
        Ok(MediaFilter {
            media_type: self.media_type.map(MediaType::as_db),
            taken_after: self.taken_after,
            taken_before: self.taken_before,
            mime_type: self.mime_type,
            filename_contains: self.filename_contains.filter(|f| !f.is_empty()),
            hash: self.hash,
            metadata_contains: self.metadata_contains.map(|j| j.0),
            in_album: self
                .in_album
                .map(|id| ids::expect(&id, NodeKind::Album, "inAlbum"))
                .transpose()?,
            from_integration: self
                .from_integration
                .map(|id| ids::expect(&id, NodeKind::Integration, "fromIntegration"))
                .transpose()?,
        })
    }
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum MediaOrderField {
    TakenAt,
    CreatedAt,
    Filename,
    Size,
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum OrderDirection {
    Asc,
    Desc,
}

/// A sort order of `User.media`; ties are broken by id, so paging is stable.
#[derive(InputObject)]
pub(crate) struct MediaOrder {
    field: MediaOrderField,
    direction: OrderDirection,
}

fn sort_of(field: MediaOrderField) -> MediaSort {
    match field {
        MediaOrderField::TakenAt => MediaSort::TakenAt,
        MediaOrderField::CreatedAt => MediaSort::CreatedAt,
        MediaOrderField::Filename => MediaSort::Filename,
        MediaOrderField::Size => MediaSort::Size,
    }
}

/// A position in one sort order of the library.
#[derive(Serialize, Deserialize)]
pub(crate) struct MediaCursor {
    s: String,
    v: SortValue,
    id: Uuid,
}

/// Fields of `MediaConnection` beyond edges and `pageInfo`.
pub(crate) struct MediaConnectionFields {
    owner: Uuid,
    filter: MediaFilter,
}

#[Object]
impl MediaConnectionFields {
    /// Media matching the filter, on all pages.
    async fn total_count(&self, ctx: &Context<'_>) -> Result<i64> {
        Ok(services(ctx)
            .library_count(self.owner, &self.filter)
            .await? as i64)
    }
}

/// `totalCount` counts: the rest of a page is answered on the spot.
impl PlainFields for MediaConnectionFields {
    type Field = Infallible;

    fn write_field(&self, field: &Infallible, _out: &mut Vec<u8>) {
        match *field {}
    }
}

pub(crate) type MediaConnection =
    Fast<Connection<Cursor<MediaCursor>, Media, MediaConnectionFields>>;

/// `User.media`.
pub(crate) async fn library(
    ctx: &Context<'_>,
    owner: Uuid,
    filter: Option<MediaFilterInput>,
    order: Option<MediaOrder>,
    page_args: (Option<i32>, Option<String>, Option<i32>, Option<String>),
) -> Result<MediaConnection> {
    let (first, after, last, before) = page_args;
    let page = connection::page::<MediaCursor>(first, after, last, before)?;
    let (field, direction) = order
        .map(|o| (o.field, o.direction))
        .unwrap_or((MediaOrderField::TakenAt, OrderDirection::Desc));
    let sort = sort_of(field);
    let sort_name = format!("{field:?}");
    let cursor = match page.cursor.as_ref() {
        Some(c) if c.s != sort_name => {
            return Err(AppError::bad_input(
                if page.backward { "before" } else { "after" },
                "the cursor belongs to another sort order",
            )
            .into());
        }
        Some(c) => Some((c.v.clone(), c.id)),
        None => None,
    };
    let filter = filter.unwrap_or_default().into_filter()?;
    let svc = services(ctx);
    if let Some(album) = filter.in_album {
        // Someone else's or a deleted album is not found, like anywhere else.
        svc.album(owner, album).await?;
    }
    if let Some(integration) = filter.from_integration {
        svc.integration(owner, integration).await?;
    }
    let descending = (direction == OrderDirection::Desc) != page.backward;
    let rows = svc
        .library(
            owner,
            &LibraryPage {
                filter: filter.clone(),
                sort,
                descending,
                after: cursor,
                limit: page.limit + 1,
                columns: node_columns(ctx),
            },
        )
        .await?;
    let (rows, has_previous, has_next) = connection::finish(&page, rows);
    let mut conn = Connection::with_additional_fields(
        has_previous,
        has_next,
        MediaConnectionFields { owner, filter },
    );
    conn.edges.extend(rows.into_iter().map(|m| {
        let cursor = Cursor(MediaCursor {
            s: sort_name.clone(),
            v: sort_value(sort, &m),
            id: m.id,
        });
        Edge::new(cursor, Media::from(m))
    }));
    Ok(Fast(conn))
}
