//! The library as GraphQL sees it: `User.media`'s filter and sort order, its keyset cursors,
//! `MediaConnection`, and the pages `Integration.media` and `Tag.media` share with it.

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, Enum, ID, InputObject, Json, Object, Result};
use chrono::{DateTime, Utc};
use entity::media;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::media::{Media, MediaType, node_columns};
use crate::error::AppError;
use crate::graphql::connection::{self, Cursor, Page, PageArgs};
use crate::graphql::context::services;
use crate::graphql::ids;
use crate::kinds::Kind;
use crate::service::Services;
use crate::store::library::{LibraryPage, MediaFilter, MediaSort, SortValue, sort_value};
use crate::store::rows::MediaColumns;

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
