//! The values the executor holds: one variant per object type it answers, and what a field
//! gives back for one parent.

use std::sync::Arc;

use async_graphql::Value;
use chrono::{DateTime, Utc};
use entity::{albums, audit_log, integrations, links, media, tags};
use uuid::Uuid;

use crate::graphql::connection::encode_cursor;
use crate::graphql::types::library::MediaCursor;
use crate::graphql::types::user::User;
use crate::service::trash::TrashRow;
use crate::store::library::MediaFilter;
use crate::store::links::Direction;

/// An object of the schema, in hand.
#[derive(Clone)]
pub(crate) enum Obj {
    User(Arc<User>),
    Media(Arc<media::Model>),
    Album(Arc<albums::Model>),
    Link(Arc<links::Model>),
    Integration(Arc<integrations::Model>),
    Tag(Arc<tags::Model>),
    AuditEvent(Arc<audit_log::Model>),
    Change(Arc<crate::store::changes::Change>),
    /// A page of a list.
    Conn(Arc<Conn>),
    /// Edge `.1` of a page.
    Edge(Arc<Conn>, usize),
    PageInfo(Arc<Conn>),
    Traversal(Arc<Traversal>),
    TraversalEdge(Arc<Traversal>, usize),
    /// A mutation's payload and other small objects answered from their fields in hand.
    Record(Arc<Record>),
}

impl Obj {
    /// The GraphQL type of this object.
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Obj::User(_) => "User",
            Obj::Media(_) => "Media",
            Obj::Album(_) => "Album",
            Obj::Link(_) => "Link",
            Obj::Integration(_) => "Integration",
            Obj::Tag(_) => "Tag",
            Obj::AuditEvent(_) => "AuditEvent",
            Obj::Change(_) => "Change",
            Obj::Conn(c) => c.kind.connection(),
            Obj::Edge(c, _) => c.kind.edge(),
            Obj::PageInfo(_) => "PageInfo",
            Obj::Traversal(_) => "Traversal",
            Obj::TraversalEdge(..) => "TraversalEdge",
            Obj::Record(r) => r.type_name,
        }
    }
}

impl From<TrashRow> for Obj {
    fn from(row: TrashRow) -> Self {
        match row {
            TrashRow::Media(m) => Obj::Media(Arc::new(m)),
            TrashRow::Album(a) => Obj::Album(Arc::new(a)),
            TrashRow::Tag(t) => Obj::Tag(Arc::new(t)),
        }
    }
}

/// What a field gives for one parent.
#[derive(Clone)]
pub(crate) enum Out {
    Null,
    /// A leaf value, written as async-graphql serialises it.
    Value(Value),
    Time(DateTime<Utc>),
    One(Obj),
    Many(Vec<Obj>),
    /// A list whose items may be null (`nodes(ids:)`).
    ManyOpt(Vec<Option<Obj>>),
    /// A field error: the value is null, and the error is reported at the field's path.
    Err(async_graphql::Error),
}

/// An object, or the error that stands in its place.
impl<E: Into<async_graphql::Error>> From<Result<Obj, E>> for Out {
    fn from(result: Result<Obj, E>) -> Self {
        match result {
            Ok(obj) => Out::One(obj),
            Err(e) => Out::Err(e.into()),
        }
    }
}

/// The lists the API pages through, each with its type names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ConnKind {
    Media,
    Albums,
    AlbumMedia,
    Integrations,
    Tags,
    Links,
    Trash,
    Audit,
    Changes,
}

impl ConnKind {
    pub(crate) fn connection(self) -> &'static str {
        match self {
            ConnKind::Media => "MediaConnection",
            ConnKind::Albums => "AlbumConnection",
            ConnKind::AlbumMedia => "AlbumMediaConnection",
            ConnKind::Integrations => "IntegrationConnection",
            ConnKind::Tags => "TagConnection",
            ConnKind::Links => "LinkConnection",
            ConnKind::Trash => "TrashConnection",
            ConnKind::Audit => "AuditEventConnection",
            ConnKind::Changes => "ChangeConnection",
        }
    }

    pub(crate) fn edge(self) -> &'static str {
        match self {
            ConnKind::Media => "MediaEdge",
            ConnKind::Albums => "AlbumEdge",
            ConnKind::AlbumMedia => "AlbumMediaEdge",
            ConnKind::Integrations => "IntegrationEdge",
            ConnKind::Tags => "TagEdge",
            ConnKind::Links => "LinkEdge",
            ConnKind::Trash => "TrashEdge",
            ConnKind::Audit => "AuditEventEdge",
            ConnKind::Changes => "ChangeEdge",
        }
    }

    pub(crate) const ALL: [ConnKind; 9] = [
        ConnKind::Media,
        ConnKind::Albums,
        ConnKind::AlbumMedia,
        ConnKind::Integrations,
        ConnKind::Tags,
        ConnKind::Links,
        ConnKind::Trash,
        ConnKind::Audit,
        ConnKind::Changes,
    ];
}

/// One page of a list.
pub(crate) struct Conn {
    pub kind: ConnKind,
    pub edges: Vec<EdgeRow>,
    pub has_previous: bool,
    pub has_next: bool,
    pub total: Total,
}

pub(crate) struct EdgeRow {
    pub node: Obj,
    pub cursor: CursorKey,
    pub extra: EdgeExtra,
}

/// A keyset cursor, encoded only when a client reads it.
pub(crate) enum CursorKey {
    Media(MediaCursor),
    /// An album member: its sort key and link id.
    Member(i64, Uuid),
    /// A time and an id (albums by creation, the trash by deletion).
    TimeId(DateTime<Utc>, Uuid),
    /// A text and an id (tags by name).
    TextId(String, Uuid),
    Id(Uuid),
    /// A position in the change journal.
    Seq(i64),
}

impl CursorKey {
    pub(crate) fn encode(&self) -> String {
        match self {
            CursorKey::Media(c) => encode_cursor(c),
            CursorKey::Member(sort, id) => encode_cursor(&(sort, id)),
            CursorKey::TimeId(at, id) => encode_cursor(&(at, id)),
            CursorKey::TextId(text, id) => encode_cursor(&(text, id)),
            CursorKey::Id(id) => encode_cursor(id),
            CursorKey::Seq(seq) => encode_cursor(seq),
        }
    }
}

/// What an edge carries beyond its node and cursor.
pub(crate) enum EdgeExtra {
    None,
    /// An album member: its position and `contains` link, with what the page read of it.
    Member {
        sort_order: i64,
        link_id: Uuid,
        added_at: Option<DateTime<Utc>>,
        link: Option<Arc<links::Model>>,
    },
    /// A link page's edge: the object at the far end.
    Other {
        kind: String,
        id: Uuid,
    },
    Trash {
        deleted_at: DateTime<Utc>,
        purge_at: DateTime<Utc>,
    },
}

/// How a page's `totalCount` is found.
#[derive(Debug, Clone)]
pub(crate) enum Total {
    Known(i64),
    Library {
        owner: Uuid,
        filter: MediaFilter,
    },
    /// The owner's media linked to `end` by `link_type` (what an integration brought, what a
    /// tag is on).
    Linked {
        owner: Uuid,
        link_type: &'static str,
        end: Uuid,
    },
    Albums(Uuid),
    Integrations(Uuid),
    Tags(Uuid),
    Trash(Uuid),
    Audit(Uuid),
    UserLinks {
        owner: Uuid,
        types: Option<Vec<String>>,
    },
    Links {
        parent: Uuid,
        types: Option<Vec<String>>,
        direction: Direction,
    },
}

/// What `traverse` reached.
pub(crate) struct Traversal {
    pub edges: Vec<TraversalStep>,
    pub total: i32,
    pub truncated: bool,
}

pub(crate) struct TraversalStep {
    pub depth: i32,
    /// The global ids of the links walked.
    pub path: Vec<async_graphql::ID>,
    pub node: Obj,
}

/// An object answered from fields in hand, by name.
pub(crate) struct Record {
    pub type_name: &'static str,
    pub fields: Vec<(&'static str, Out)>,
}

impl Record {
    pub(crate) fn obj(type_name: &'static str, fields: Vec<(&'static str, Out)>) -> Obj {
        Obj::Record(Arc::new(Self { type_name, fields }))
    }

    pub(crate) fn get(&self, name: &str) -> Option<&Out> {
        self.fields.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }
}
