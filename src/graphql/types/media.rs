//! `Media`, its enums and inputs, and the `User.media` connection.

use std::sync::Arc;

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, Enum, ID, InputObject, Json, Object, Result, SelectionField};
use chrono::{DateTime, Utc};
use entity::media;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::album::Album;
use super::integration::Integration;
use super::link::{Direction, LinkConnection, links_of};
use super::tag::Tag;
use crate::error::AppError;
use crate::graphql::connection::{self, Cursor, Page, PageArgs, cost};
use crate::graphql::context::{loaders, request, services};
use crate::graphql::ids;
use crate::graphql::scalars::BigInt;
use crate::kinds::Kind;
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

/// The columns the `Media` field `name` reads besides the keys; a field not listed here
/// reads them all.
pub(crate) fn column_of(name: &str) -> MediaColumns {
    let column = match name {
        // By id (and owner) only.
        "__typename" | "id" | "contentUrl" | "albums" | "source" | "duplicates" | "links"
        | "variants" | "tags" => return MediaColumns::KEYS,
        "filename" => "filename",
        "mediaType" => "media_type",
        "mimeType" => "mime_type",
        "size" => "size",
        "width" => "width",
        "height" => "height",
        "durationMs" => "duration_ms",
        "hash" => "hash",
        "takenAt" => "taken_at",
        "takenAtLocal" => return MediaColumns::KEYS.with("taken_at").with("metadata"),
        "createdAt" => "created_at",
        "updatedAt" => "updated_at",
        "deletedAt" => "deleted_at",
        "metadata" => "metadata",
        _ => return MediaColumns::ALL,
    };
    MediaColumns::KEYS.with(column)
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
    /// Only media carrying every one of these tags (up to 100).
    tag_ids: Option<Vec<ID>>,
}

impl MediaFilterInput {
    /// Media imported through one integration.
    pub(crate) fn from_integration(id: ID) -> Self {
        Self {
            from_integration: Some(id),
            ..Default::default()
        }
    }

    /// Media carrying one tag.
    pub(crate) fn tagged(id: ID) -> Self {
        Self {
            tag_ids: Some(vec![id]),
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
                .map(|id| ids::expect(&id, Kind::Album, "inAlbum"))
                .transpose()?,
            from_integration: self
                .from_integration
                .map(|id| ids::expect(&id, Kind::Integration, "fromIntegration"))
                .transpose()?,
            tag_ids: match self.tag_ids {
                Some(tags) => {
                    let tags = tags
                        .iter()
                        .map(|id| ids::expect(id, Kind::Tag, "tagIds"))
                        .collect::<Result<Vec<_>, _>>()?;
                    crate::service::media::dedupe_ids(&tags, "tagIds")?
                }
                None => Vec::new(),
            },
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

pub(crate) type MediaConnection = Connection<Cursor<MediaCursor>, Media, MediaConnectionFields>;

/// A page of the library as asked for, its arguments checked; the same for every owner.
pub(crate) struct LibraryArgs {
    pub filter: MediaFilter,
    sort: MediaSort,
    sort_name: String,
    page: Page<MediaCursor>,
    descending: bool,
    cursor: Option<(SortValue, Uuid)>,
    /// The filter names the object in hand (`Tag.media`), not objects a client named: it is
    /// not looked up again.
    in_hand: bool,
}

/// The rows of one library page, in display order.
pub(crate) struct LibraryRows {
    pub rows: Vec<media::Model>,
    pub has_previous: bool,
    pub has_next: bool,
}

impl LibraryArgs {
    pub(crate) fn new(
        filter: Option<MediaFilterInput>,
        order: Option<MediaOrder>,
        (first, after, last, before): PageArgs,
    ) -> Result<Self, AppError> {
        let page = connection::page::<MediaCursor>(first, after, last, before)?;
        let (field, direction) = order
            .map(|o| (o.field, o.direction))
            .unwrap_or((MediaOrderField::TakenAt, OrderDirection::Desc));
        let sort_name = format!("{field:?}");
        let cursor = match page.cursor.as_ref() {
            Some(c) if c.s != sort_name => {
                return Err(AppError::bad_input(
                    if page.backward { "before" } else { "after" },
                    "the cursor belongs to another sort order",
                ));
            }
            Some(c) => Some((c.v.clone(), c.id)),
            None => None,
        };
        let filter = filter.unwrap_or_default().into_filter()?;
        Ok(Self {
            filter,
            sort: sort_of(field),
            sort_name,
            descending: (direction == OrderDirection::Desc) != page.backward,
            page,
            cursor,
            in_hand: false,
        })
    }

    /// The page of an object in hand (`Tag.media`): its filter names that object, which the
    /// viewer already reached (a tag in the trash carries nothing, and is no error).
    pub(crate) fn in_hand(mut self) -> Self {
        self.in_hand = true;
        self
    }

    /// `owner`'s page, each media with `columns` (and the sort column).
    pub(crate) async fn read(
        &self,
        svc: &Services,
        owner: Uuid,
        columns: MediaColumns,
    ) -> Result<LibraryRows, AppError> {
        if let Some(album) = self.filter.in_album {
            // Someone else's or a deleted album is not found, like anywhere else.
            svc.album(owner, album).await?;
        }
        if let Some(integration) = self.filter.from_integration {
            svc.integration(owner, integration).await?;
        }
        if !self.in_hand {
            svc.own_tags(owner, &self.filter.tag_ids).await?;
        }
        let rows = svc
            .library(
                owner,
                &LibraryPage {
                    filter: self.filter.clone(),
                    sort: self.sort,
                    descending: self.descending,
                    after: self.cursor.clone(),
                    limit: self.read_limit(),
                    columns,
                },
            )
            .await?;
        Ok(self.finish(rows))
    }

    /// Where the page starts in the newest-taken-first order: `(taken_at, id)` (only for
    /// the default order, which `Integration.media` always has).
    pub(crate) fn after_taken(&self) -> Option<(Option<DateTime<Utc>>, Uuid)> {
        match &self.cursor {
            Some((SortValue::Time(t), id)) => Some((*t, *id)),
            _ => None,
        }
    }

    /// How many rows to read: one more than the page, to know whether there is a next.
    pub(crate) fn read_limit(&self) -> u64 {
        self.page.limit + 1
    }

    /// The page of `rows` read with [`Self::read_limit`].
    pub(crate) fn finish(&self, rows: Vec<media::Model>) -> LibraryRows {
        let (rows, has_previous, has_next) = connection::finish(&self.page, rows);
        LibraryRows {
            rows,
            has_previous,
            has_next,
        }
    }

    /// The cursor of `m` in this page's order.
    pub(crate) fn cursor(&self, m: &media::Model) -> MediaCursor {
        MediaCursor {
            s: self.sort_name.clone(),
            v: sort_value(self.sort, m),
            id: m.id,
        }
    }
}

/// `User.media`.
pub(crate) async fn library(
    ctx: &Context<'_>,
    owner: Uuid,
    filter: Option<MediaFilterInput>,
    order: Option<MediaOrder>,
    page_args: PageArgs,
) -> Result<MediaConnection> {
    library_page(ctx, owner, LibraryArgs::new(filter, order, page_args)?).await
}

/// A page of `owner`'s library as `args` ask.
pub(crate) async fn library_page(
    ctx: &Context<'_>,
    owner: Uuid,
    args: LibraryArgs,
) -> Result<MediaConnection> {
    let page = args.read(services(ctx), owner, node_columns(ctx)).await?;
    let mut conn = Connection::with_additional_fields(
        page.has_previous,
        page.has_next,
        MediaConnectionFields {
            owner,
            filter: args.filter.clone(),
        },
    );
    conn.edges.extend(
        page.rows
            .into_iter()
            .map(|m| Edge::new(Cursor(args.cursor(&m)), Media::from(m))),
    );
    Ok(conn)
}
