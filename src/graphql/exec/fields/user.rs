//! `User`: the account and its lists. A user's lists are readable by that user only.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::{ServerError, Value};
use chrono::{DateTime, Utc};
use entity::{media, users};
use futures_util::future::BoxFuture;
use uuid::Uuid;

use super::link::LinkArgs;
use super::{per_key, unknown};
use crate::error::AppError;
use crate::graphql::connection::{self, Page};
use crate::graphql::exec::obj::{Conn, ConnKind, CursorKey, EdgeExtra, EdgeRow, Obj, Out, Total};
use crate::graphql::exec::plan::{Answer, FieldCx};
use crate::graphql::exec::run::Cx;
use crate::graphql::ids;
use crate::graphql::scalars::BigInt;
use crate::graphql::types::change::{ChangeArgs, ChangeObjectType};
use crate::graphql::types::library::{LibraryArgs, LibraryRows, MediaFilterInput, MediaOrder};
use crate::kinds::Kind;
use crate::store::rows::MediaColumns;

pub(super) fn field(name: &str, f: &FieldCx) -> Result<Answer, ServerError> {
    let big = |n: i64| Out::Value(async_graphql::ScalarType::to_value(&BigInt(n)));
    let time = |t: Option<DateTime<Utc>>| t.map_or(Out::Null, Out::Time);
    Ok(match name {
        "id" => Answer::direct(|obj, out| match obj {
            Obj::User(u) => ids::write_json(out, Kind::User, u.id),
            _ => out.extend_from_slice(b"null"),
        }),
        "email" => row_field(|u| Out::Value(Value::String(u.email.clone()))),
        "displayName" => row_field(|u| {
            u.display_name
                .clone()
                .map_or(Out::Null, |n| Out::Value(Value::String(n)))
        }),
        "isAdmin" => row_field(|u| Out::Value(Value::Boolean(u.is_admin))),
        "storageQuota" => row_field(move |u| big(u.storage_quota)),
        "storageUsed" => row_field(move |u| big(u.storage_used)),
        "storageReserved" => row_field(move |u| big(u.storage_reserved)),
        "createdAt" => row_field(move |u| time(Some(u.created_at))),
        "lastLoginAt" => row_field(move |u| time(u.last_login_at)),
        "media" => {
            let filter: Option<MediaFilterInput> = f.arg("filter")?;
            let order: Option<MediaOrder> = f.arg("orderBy")?;
            let args = LibraryArgs::new(filter, order, f.page_args()?).map_err(|e| f.refuse(e))?;
            let columns = f
                .child()
                .map_or(MediaColumns::ALL, super::album::node_columns);
            let args = Arc::new(args);
            lists(move |cx, owner| {
                let args = args.clone();
                Box::pin(async move {
                    let page = args.read(&cx.services, owner, columns).await?;
                    let total = Total::Library {
                        owner,
                        filter: args.filter.clone(),
                    };
                    Ok(library_conn(&args, total, page))
                })
            })
        }
        "albums" => {
            let page = Arc::new(page_of::<(DateTime<Utc>, Uuid)>(f)?);
            lists(move |cx, owner| {
                let page = page.clone();
                Box::pin(async move {
                    let rows = cx
                        .services
                        .albums_page(owner, !page.backward, page.cursor, page.limit + 1)
                        .await?;
                    Ok(conn(
                        ConnKind::Albums,
                        &page,
                        Total::Albums(owner),
                        rows,
                        |a| EdgeRow {
                            cursor: CursorKey::TimeId(a.created_at, a.id),
                            node: Obj::Album(Arc::new(a)),
                            extra: EdgeExtra::None,
                        },
                    ))
                })
            })
        }
        "integrations" => {
            let page = Arc::new(page_of::<Uuid>(f)?);
            lists(move |cx, owner| {
                let page = page.clone();
                Box::pin(async move {
                    let rows = cx
                        .services
                        .integrations_page(owner, page.cursor, page.backward, page.limit + 1)
                        .await?;
                    let total = Total::Integrations(owner);
                    Ok(conn(ConnKind::Integrations, &page, total, rows, |i| {
                        EdgeRow {
                            cursor: CursorKey::Id(i.id),
                            node: Obj::Integration(Arc::new(i)),
                            extra: EdgeExtra::None,
                        }
                    }))
                })
            })
        }
        "links" => {
            let args = Arc::new(LinkArgs::new(f)?);
            lists(move |cx, owner| {
                let args = args.clone();
                Box::pin(async move {
                    let rows = cx
                        .services
                        .user_links(
                            owner,
                            args.types.as_deref(),
                            args.page.cursor,
                            args.page.backward,
                            args.page.limit + 1,
                        )
                        .await?;
                    Ok(args.conn(None, owner, rows))
                })
            })
        }
        "tags" => {
            let page = Arc::new(page_of::<(String, Uuid)>(f)?);
            lists(move |cx, owner| {
                let page = page.clone();
                Box::pin(async move {
                    let rows = cx
                        .services
                        .tags_page(owner, page.cursor.clone(), page.backward, page.limit + 1)
                        .await?;
                    Ok(conn(ConnKind::Tags, &page, Total::Tags(owner), rows, |t| {
                        EdgeRow {
                            cursor: CursorKey::TextId(t.name_key.clone(), t.id),
                            node: Obj::Tag(Arc::new(t)),
                            extra: EdgeExtra::None,
                        }
                    }))
                })
            })
        }
        "trash" => {
            let page = Arc::new(page_of::<(DateTime<Utc>, Uuid)>(f)?);
            lists(move |cx, owner| {
                let page = page.clone();
                Box::pin(async move {
                    let svc = &cx.services;
                    let rows = svc
                        .trash(owner, page.cursor, page.backward, page.limit + 1)
                        .await?;
                    Ok(conn(
                        ConnKind::Trash,
                        &page,
                        Total::Trash(owner),
                        rows,
                        |row| {
                            let (deleted_at, id) = row.key();
                            EdgeRow {
                                cursor: CursorKey::TimeId(deleted_at, id),
                                node: Obj::from(row),
                                extra: EdgeExtra::Trash {
                                    deleted_at,
                                    purge_at: svc.purge_at(deleted_at),
                                },
                            }
                        },
                    ))
                })
            })
        }
        "changes" => {
            let after: Option<String> = f.arg("after")?;
            let first: Option<i32> = f.arg("first")?;
            let types: Option<Vec<ChangeObjectType>> = f.arg("types")?;
            let args = Arc::new(ChangeArgs::new(after, first, types).map_err(|e| f.refuse(e))?);
            lists(move |cx, owner| {
                let args = args.clone();
                Box::pin(async move {
                    let page = cx
                        .services
                        .changes(owner, args.after, args.types.as_deref(), args.limit)
                        .await?;
                    let edges = page
                        .changes
                        .into_iter()
                        .map(|c| EdgeRow {
                            cursor: CursorKey::Seq(c.seq),
                            node: Obj::Change(Arc::new(c)),
                            extra: EdgeExtra::None,
                        })
                        .collect();
                    Ok(Obj::Conn(Arc::new(Conn {
                        kind: ConnKind::Changes,
                        edges,
                        has_previous: args.after.is_some(),
                        has_next: page.has_next,
                        total: Total::Known(0),
                    })))
                })
            })
        }
        "changeCursor" => Answer::batch(|cx, parents| {
            Box::pin(async move {
                let owner = |p: &Obj| match p {
                    Obj::User(u) => Some(u.id),
                    _ => None,
                };
                per_key(parents, owner, |owner| async move {
                    match owner {
                        Some(owner) if cx.viewer == Some(owner) => {
                            match cx.services.change_cursor(owner).await {
                                Ok(seq) => Out::Value(Value::String(
                                    crate::graphql::connection::encode_cursor(&seq),
                                )),
                                Err(e) => Out::Err(e.into()),
                            }
                        }
                        _ => Out::Err(AppError::NotFound("no such user".into()).into()),
                    }
                })
                .await
            })
        }),
        "auditLog" => {
            let page = Arc::new(page_of::<Uuid>(f)?);
            lists(move |cx, owner| {
                let page = page.clone();
                Box::pin(async move {
                    let rows = cx
                        .services
                        .audit_page(owner, page.cursor, page.backward, page.limit + 1)
                        .await?;
                    Ok(conn(
                        ConnKind::Audit,
                        &page,
                        Total::Audit(owner),
                        rows,
                        |e| EdgeRow {
                            cursor: CursorKey::Id(e.id),
                            node: Obj::AuditEvent(Arc::new(e)),
                            extra: EdgeExtra::None,
                        },
                    ))
                })
            })
        }
        _ => return Err(unknown("User", f)),
    })
}

fn page_of<C: serde::de::DeserializeOwned>(f: &FieldCx) -> Result<Page<C>, ServerError> {
    let (first, after, last, before) = f.page_args()?;
    connection::page(first, after, last, before).map_err(|e| f.refuse(e))
}

/// A field of the account's row; the row is read (once for the level) when the user came
/// without it.
fn row_field(value: impl Fn(&users::Model) -> Out + Send + Sync + Clone + 'static) -> Answer {
    Answer::batch(move |cx, parents| {
        let value = value.clone();
        Box::pin(async move {
            let unread = parents.iter().filter_map(|p| match p {
                Obj::User(u) if u.row.is_none() => Some(u.id),
                _ => None,
            });
            let loaded = cx.loaders.users.load_many(unread).await;
            parents
                .iter()
                .map(|p| {
                    let Obj::User(u) = p else {
                        return Out::Null;
                    };
                    if let Some(row) = &u.row {
                        return value(row);
                    }
                    match &loaded {
                        Ok(rows) => rows.get(&u.id).map_or_else(
                            || Out::Err(AppError::NotFound("no such user".into()).into()),
                            &value,
                        ),
                        Err(e) => Out::Err(e.clone()),
                    }
                })
                .collect()
        })
    })
}

type ListRead = dyn Fn(&Cx, Uuid) -> BoxFuture<'_, Result<Obj, AppError>> + Send + Sync;

/// One of the user's lists: read once per user of the level (only the viewer's are
/// readable; anyone else's is not found).
fn lists<F>(read: F) -> Answer
where
    F: for<'a> Fn(&'a Cx, Uuid) -> BoxFuture<'a, Result<Obj, AppError>> + Send + Sync + 'static,
{
    let read: Arc<ListRead> = Arc::new(read);
    Answer::batch(move |cx, parents| {
        let read = read.clone();
        Box::pin(async move {
            let owner = |p: &Obj| match p {
                Obj::User(u) => Some(u.id),
                _ => None,
            };
            per_key(parents, owner, |owner| {
                let read = read.clone();
                async move {
                    match owner {
                        Some(owner) if cx.viewer == Some(owner) => read(cx, owner).await.into(),
                        _ => Out::Err(AppError::NotFound("no such user".into()).into()),
                    }
                }
            })
            .await
        })
    })
}

/// A page of a list from its rows (fetched with one more than the page size).
fn conn<T, C>(
    kind: ConnKind,
    page: &Page<C>,
    total: Total,
    rows: Vec<T>,
    edge: impl FnMut(T) -> EdgeRow,
) -> Obj {
    let (rows, has_previous, has_next) = connection::finish(page, rows);
    Obj::Conn(Arc::new(Conn {
        kind,
        edges: rows.into_iter().map(edge).collect(),
        has_previous,
        has_next,
        total,
    }))
}

/// A page of the library.
pub(super) fn library_conn(args: &LibraryArgs, total: Total, page: LibraryRows) -> Obj {
    let edges = page
        .rows
        .into_iter()
        .map(|m| EdgeRow {
            cursor: CursorKey::Media(args.cursor(&m)),
            node: Obj::Media(Arc::new(m)),
            extra: EdgeExtra::None,
        })
        .collect();
    Obj::Conn(Arc::new(Conn {
        kind: ConnKind::Media,
        edges,
        has_previous: page.has_previous,
        has_next: page.has_next,
        total,
    }))
}

/// A `media(first, after)` page of the library filtered to the media linked by `link_type` to
/// each parent (`end` gives its id and owner), newest taken first: one statement for every
/// parent of the level (`Integration.media`, `Tag.media`).
pub(super) fn linked_media(
    f: &FieldCx,
    link_type: &'static str,
    end: fn(&Obj) -> Option<(Uuid, Uuid)>,
) -> Result<Answer, ServerError> {
    let first: Option<i32> = f.arg("first")?;
    let after: Option<String> = f.arg("after")?;
    let args = LibraryArgs::new(None, None, (first, after, None, None)).map_err(|e| f.refuse(e))?;
    let columns = f
        .child()
        .map_or(MediaColumns::ALL, super::album::node_columns);
    let args = Arc::new(args);
    Ok(Answer::batch(move |cx, parents| {
        let args = args.clone();
        Box::pin(async move {
            // What the viewer reads is the viewer's: one owner per level.
            let mut by_owner: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
            for (id, owner) in parents.iter().filter_map(end) {
                by_owner.entry(owner).or_default().push(id);
            }
            let mut rows: HashMap<Uuid, Vec<media::Model>> = HashMap::new();
            for (owner, ids) in by_owner {
                let found = cx
                    .services
                    .library_by_end(
                        owner,
                        link_type,
                        &ids,
                        args.after_taken(),
                        args.read_limit(),
                        columns,
                    )
                    .await;
                match found {
                    Ok(found) => {
                        for (id, m) in found {
                            rows.entry(id).or_default().push(m);
                        }
                    }
                    Err(e) => {
                        let e = async_graphql::Error::from(e);
                        return parents.iter().map(|_| Out::Err(e.clone())).collect();
                    }
                }
            }
            parents
                .iter()
                .map(|p| match end(p) {
                    Some((id, owner)) => {
                        let page = args.finish(rows.get(&id).cloned().unwrap_or_default());
                        let total = Total::Linked {
                            owner,
                            link_type,
                            end: id,
                        };
                        Out::One(library_conn(&args, total, page))
                    }
                    None => Out::Null,
                })
                .collect()
        })
    }))
}
