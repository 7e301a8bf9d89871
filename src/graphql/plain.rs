//! Answering plain selections on the spot, as JSON text.
//!
//! async-graphql resolves each field of each object through its own boxed future, collected
//! in a `FuturesUnordered`, and each list item through another, and builds a tree of maps that
//! is serialised afterwards. On a page of 1,000 album members with three fields each that was
//! most of the server's CPU, for values that were already in memory. Most nested selections of
//! a list page are *plain*: fields computed from the row in hand, with no arguments and nothing
//! to load.
//!
//! [`Fast`] wraps an output type so that a plain selection is compiled once into a [`Plan`]
//! (fragments expanded, fields of the same response key merged, as GraphQL's field collection
//! does) and then written as JSON text for each item, which the response carries as it is (see
//! [`json`](super::json)). When the selection holds anything else (a field that loads or takes
//! arguments, a directive) the whole value goes to async-graphql's own resolver, so the answer
//! is the same either way; tests compare the two. The schema installs no extensions (see
//! `limits`), so no per-field hook is skipped, and `@skip`/`@include` are applied to the
//! document before execution starts.

use std::borrow::Cow;
use std::convert::Infallible;

use async_graphql::connection::{
    Connection, ConnectionNameType, CursorType, Edge, EdgeNameType, EmptyFields,
    NodesFieldSwitcherSealed, PageInfo,
};
use async_graphql::parser::types::{Field, Selection, SelectionSet};
use async_graphql::registry::Registry;
use async_graphql::{
    ContextSelectionSet, Name, ObjectType, OutputType, Positioned, ServerResult, Value,
};

use super::json;

/// An object some of whose fields can be written without a future.
pub(crate) trait Plain: OutputType {
    /// How one of its fields is written.
    type Field;

    /// The plan of the field `name` (its merged selection is `sub`), or `None` when the field
    /// needs the async resolver.
    fn plan_field(name: &str, sub: &Sub<'_>) -> Option<Self::Field>;

    /// Writes the field's value as JSON.
    fn write_field(&self, field: &Self::Field, out: &mut Vec<u8>);
}

/// The extra fields of a connection: none of them is plain unless a type says so.
pub(crate) trait PlainFields {
    type Field;

    fn plan_field(_name: &str, _sub: &Sub<'_>) -> Option<Self::Field> {
        None
    }

    fn write_field(&self, field: &Self::Field, out: &mut Vec<u8>);
}

impl PlainFields for EmptyFields {
    type Field = Infallible;

    fn write_field(&self, field: &Infallible, _out: &mut Vec<u8>) {
        match *field {}
    }
}

/// An output type written on the spot when its selection is plain, else resolved as usual.
pub(crate) struct Fast<T>(pub T);

impl<T: Plain> OutputType for Fast<T> {
    fn type_name() -> Cow<'static, str> {
        T::type_name()
    }

    fn qualified_type_name() -> String {
        T::qualified_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        T::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        // The plan is dropped before any await: it is not `Send`, nor needs to be.
        let written = Plan::<T>::build(ctx, &[ctx.item]).map(|plan| {
            // A page of media is some kilobytes: start there rather than grow to it.
            let mut out = Vec::with_capacity(8 * 1024);
            plan.write(&self.0, &mut out);
            out
        });
        match written {
            Some(json) => Ok(Value::Binary(json.into())),
            None => self.0.resolve(ctx, field).await,
        }
    }
}

/// The merged selection of one response key: the selection sets of every field under it.
pub(crate) struct Sub<'a> {
    ctx: &'a ContextSelectionSet<'a>,
    sets: Vec<&'a Positioned<SelectionSet>>,
}

impl<'a> Sub<'a> {
    /// The plan of this selection on `U`, or `None` when it is not plain.
    pub(crate) fn plan<U: Plain>(&self) -> Option<Plan<U>> {
        Plan::build(self.ctx, &self.sets)
    }

    /// The request's context, for its data.
    pub(crate) fn ctx(&self) -> &'a ContextSelectionSet<'a> {
        self.ctx
    }
}

/// A plain selection on `T`, compiled: what to write for each response key, in order.
pub(crate) struct Plan<T: Plain> {
    entries: Vec<Entry<T::Field>>,
}

struct Entry<F> {
    /// `,"key":` (no comma before the first), and for `__typename` its value too.
    prefix: Vec<u8>,
    field: Option<F>,
}

/// The fields selected under one response key, in the order keys first appear.
struct Group<'a> {
    key: &'a Name,
    name: &'a str,
    sets: Vec<&'a Positioned<SelectionSet>>,
}

impl<T: Plain> Plan<T> {
    fn build<'a>(
        ctx: &'a ContextSelectionSet<'a>,
        sets: &[&'a Positioned<SelectionSet>],
    ) -> Option<Self> {
        let mut groups = Vec::new();
        for set in sets {
            gather::<T>(ctx, set, &mut groups)?;
        }
        let mut entries = Vec::with_capacity(groups.len());
        for (i, group) in groups.into_iter().enumerate() {
            let mut prefix = Vec::with_capacity(group.key.len() + 4);
            if i > 0 {
                prefix.push(b',');
            }
            json::key_of(&mut prefix, group.key);
            let field = if group.name == "__typename" {
                json::string(&mut prefix, &T::type_name());
                None
            } else {
                let sub = Sub {
                    ctx,
                    sets: group.sets,
                };
                Some(T::plan_field(group.name, &sub)?)
            };
            entries.push(Entry { prefix, field });
        }
        Some(Self { entries })
    }

    /// Writes `obj` as this selection of it. Like async-graphql, a selection whose every field
    /// was skipped is null.
    pub(crate) fn write(&self, obj: &T, out: &mut Vec<u8>) {
        if self.entries.is_empty() {
            out.extend_from_slice(b"null");
            return;
        }
        out.push(b'{');
        for entry in &self.entries {
            out.extend_from_slice(&entry.prefix);
            if let Some(field) = &entry.field {
                obj.write_field(field, out);
            }
        }
        out.push(b'}');
    }

    /// Writes each item, as a JSON list.
    pub(crate) fn write_list<'i>(&self, items: impl Iterator<Item = &'i T>, out: &mut Vec<u8>)
    where
        T: 'i,
    {
        out.push(b'[');
        for (i, item) in items.enumerate() {
            if i > 0 {
                out.push(b',');
            }
            self.write(item, out);
        }
        out.push(b']');
    }
}

/// Collects the fields of `set` on `T` into groups by response key, expanding the fragments
/// that apply to `T`; `None` when a field has arguments or a directive.
fn gather<'a, T: Plain>(
    ctx: &'a ContextSelectionSet<'a>,
    set: &'a Positioned<SelectionSet>,
    groups: &mut Vec<Group<'a>>,
) -> Option<()> {
    for selection in &set.node.items {
        match &selection.node {
            Selection::Field(field) => {
                let field = &field.node;
                if !field.directives.is_empty() || !field.arguments.is_empty() {
                    return None;
                }
                let key = &field.response_key().node;
                match groups.iter_mut().find(|g| g.key == key) {
                    Some(group) => group.sets.push(&field.selection_set),
                    None => groups.push(Group {
                        key,
                        name: field.name.node.as_str(),
                        sets: vec![&field.selection_set],
                    }),
                }
            }
            Selection::FragmentSpread(spread) => {
                if !spread.node.directives.is_empty() {
                    return None;
                }
                let env = ctx.query_env;
                let fragment = env.fragments.get(&spread.node.fragment_name.node)?;
                if applies::<T>(ctx, Some(&fragment.node.type_condition.node.on.node)) {
                    gather::<T>(ctx, &fragment.node.selection_set, groups)?;
                }
            }
            Selection::InlineFragment(inline) => {
                if !inline.node.directives.is_empty() {
                    return None;
                }
                let on = inline.node.type_condition.as_ref().map(|c| &c.node.on.node);
                if applies::<T>(ctx, on) {
                    gather::<T>(ctx, &inline.node.selection_set, groups)?;
                }
            }
        }
    }
    Some(())
}

/// Whether a fragment on type `on` (none: the enclosing type) applies to `T`.
fn applies<T: Plain>(ctx: &ContextSelectionSet<'_>, on: Option<&Name>) -> bool {
    let Some(on) = on else { return true };
    let name = T::type_name();
    name == on.as_str()
        || ctx
            .schema_env
            .registry
            .implements
            .get(name.as_ref())
            .is_some_and(|interfaces| interfaces.contains(on.as_str()))
}

pub(crate) enum EdgeField<N: Plain> {
    Node(Plan<N>),
    Cursor,
}

impl<C, N, EF, EN> Plain for Edge<C, N, EF, EN>
where
    C: CursorType + Send + Sync,
    N: Plain,
    EF: ObjectType,
    EN: EdgeNameType,
{
    type Field = EdgeField<N>;

    fn plan_field(name: &str, sub: &Sub<'_>) -> Option<Self::Field> {
        match name {
            "node" => sub.plan().map(EdgeField::Node),
            "cursor" => Some(EdgeField::Cursor),
            // The edge's own extra fields (an album member's `addedAt`, `link`) load.
            _ => None,
        }
    }

    fn write_field(&self, field: &Self::Field, out: &mut Vec<u8>) {
        match field {
            EdgeField::Node(plan) => plan.write(&self.node, out),
            EdgeField::Cursor => json::string(out, &self.cursor.encode_cursor()),
        }
    }
}

pub(crate) enum PageInfoField {
    HasPreviousPage,
    HasNextPage,
    StartCursor,
    EndCursor,
}

impl Plain for PageInfo {
    type Field = PageInfoField;

    fn plan_field(name: &str, _sub: &Sub<'_>) -> Option<Self::Field> {
        Some(match name {
            "hasPreviousPage" => PageInfoField::HasPreviousPage,
            "hasNextPage" => PageInfoField::HasNextPage,
            "startCursor" => PageInfoField::StartCursor,
            "endCursor" => PageInfoField::EndCursor,
            _ => return None,
        })
    }

    fn write_field(&self, field: &Self::Field, out: &mut Vec<u8>) {
        let flag = |out: &mut Vec<u8>, b: bool| {
            out.extend_from_slice(if b { b"true" } else { b"false" });
        };
        let cursor = |out: &mut Vec<u8>, c: &Option<String>| match c {
            Some(c) => json::string(out, c),
            None => out.extend_from_slice(b"null"),
        };
        match field {
            PageInfoField::HasPreviousPage => flag(out, self.has_previous_page),
            PageInfoField::HasNextPage => flag(out, self.has_next_page),
            PageInfoField::StartCursor => cursor(out, &self.start_cursor),
            PageInfoField::EndCursor => cursor(out, &self.end_cursor),
        }
    }
}

pub(crate) enum ConnectionField<C, N, CF, EF, EN>
where
    C: CursorType + Send + Sync,
    N: Plain,
    CF: PlainFields,
    EF: ObjectType,
    EN: EdgeNameType,
{
    Edges(Plan<Edge<C, N, EF, EN>>),
    Nodes(Plan<N>),
    PageInfo(Plan<PageInfo>),
    Extra(CF::Field),
}

impl<C, N, CF, EF, CN, EN, NF> Plain for Connection<C, N, CF, EF, CN, EN, NF>
where
    Self: OutputType,
    C: CursorType + Send + Sync,
    N: Plain,
    CF: ObjectType + PlainFields,
    EF: ObjectType,
    CN: ConnectionNameType,
    EN: EdgeNameType,
    NF: NodesFieldSwitcherSealed,
{
    type Field = ConnectionField<C, N, CF, EF, EN>;

    fn plan_field(name: &str, sub: &Sub<'_>) -> Option<Self::Field> {
        match name {
            "edges" => sub.plan().map(ConnectionField::Edges),
            "nodes" => sub.plan().map(ConnectionField::Nodes),
            "pageInfo" => sub.plan().map(ConnectionField::PageInfo),
            _ => CF::plan_field(name, sub).map(ConnectionField::Extra),
        }
    }

    fn write_field(&self, field: &Self::Field, out: &mut Vec<u8>) {
        match field {
            ConnectionField::Edges(plan) => plan.write_list(self.edges.iter(), out),
            ConnectionField::Nodes(plan) => {
                plan.write_list(self.edges.iter().map(|e| &e.node), out)
            }
            ConnectionField::PageInfo(plan) => plan.write(
                &PageInfo {
                    has_previous_page: self.has_previous_page,
                    has_next_page: self.has_next_page,
                    start_cursor: self.edges.first().map(|e| e.cursor.encode_cursor()),
                    end_cursor: self.edges.last().map(|e| e.cursor.encode_cursor()),
                },
                out,
            ),
            ConnectionField::Extra(field) => self.additional_fields.write_field(field, out),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use async_graphql::connection::Connection;
    use async_graphql::{BatchResponse, Context, EmptyMutation, EmptySubscription, Object, Schema};

    use super::*;

    /// Counts the calls of the async resolvers.
    #[derive(Default)]
    struct Resolved(AtomicUsize);

    struct Thing(i32);

    #[Object]
    impl Thing {
        async fn n(&self, ctx: &Context<'_>) -> i32 {
            ctx.data_unchecked::<Arc<Resolved>>()
                .0
                .fetch_add(1, Ordering::Relaxed);
            self.0
        }

        async fn label(&self, ctx: &Context<'_>) -> Option<String> {
            ctx.data_unchecked::<Arc<Resolved>>()
                .0
                .fetch_add(1, Ordering::Relaxed);
            (self.0 % 2 == 0).then(|| format!("even {}", self.0))
        }

        /// Not plain: stands for a field that loads.
        async fn loaded(&self) -> i32 {
            -self.0
        }
    }

    enum ThingField {
        N,
        Label,
    }

    impl Plain for Thing {
        type Field = ThingField;

        fn plan_field(name: &str, _sub: &Sub<'_>) -> Option<ThingField> {
            Some(match name {
                "n" => ThingField::N,
                "label" => ThingField::Label,
                _ => return None,
            })
        }

        fn write_field(&self, field: &ThingField, out: &mut Vec<u8>) {
            match field {
                ThingField::N => json::number(out, self.0.into()),
                ThingField::Label if self.0 % 2 == 0 => {
                    json::string(out, &format!("even {}", self.0))
                }
                ThingField::Label => out.extend_from_slice(b"null"),
            }
        }
    }

    type Things = Connection<String, Thing>;

    fn things() -> Things {
        let mut conn = Connection::new(false, true);
        conn.edges
            .extend((1..=3).map(|n| Edge::new(format!("c{n}"), Thing(n))));
        conn
    }

    struct Query;

    #[Object]
    impl Query {
        async fn fast(&self) -> Fast<Things> {
            Fast(things())
        }

        async fn slow(&self) -> Things {
            things()
        }
    }

    /// The connection `query` gets with `FIELD` as `fast` and as `slow`, and how many async
    /// resolvers the fast one ran.
    async fn both(query: &str) -> (serde_json::Value, serde_json::Value, usize) {
        let resolved = Arc::new(Resolved::default());
        let schema = Schema::build(Query, EmptyMutation, EmptySubscription)
            .data(resolved.clone())
            .finish();
        let run = |field: &str| {
            let res = schema.execute(query.replace("FIELD", field));
            let field = field.to_string();
            async move {
                let res = res.await;
                assert!(res.errors.is_empty(), "{:?}", res.errors);
                let body = json::response(&BatchResponse::Single(res)).unwrap();
                let mut body: serde_json::Value = serde_json::from_slice(&body).unwrap();
                body["data"][&field].take()
            }
        };
        let fast = run("fast").await;
        let on_fast = resolved.0.load(Ordering::Relaxed);
        (fast, run("slow").await, on_fast)
    }

    #[tokio::test]
    async fn plain_selections_skip_the_resolvers_and_answer_the_same() {
        let query = "query { FIELD {
            __typename
            pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
            edges { cursor node { n ...L } }
            edges { node { __typename other: n } }
            nodes { ... on Thing { label } ... { n } }
        } }
        fragment L on Thing { label }";
        let (fast, slow, resolved) = both(query).await;
        assert_eq!(fast, slow);
        assert_eq!(resolved, 0, "a plain selection ran {resolved} resolvers");
        assert_eq!(fast["edges"][1]["node"]["label"], "even 2");
        assert_eq!(fast["edges"][1]["node"]["other"], 2);
        assert_eq!(fast["pageInfo"]["endCursor"], "c3");
    }

    #[tokio::test]
    async fn one_field_that_is_not_plain_sends_the_whole_value_to_the_resolvers() {
        let query = "query { FIELD { edges { node { n label loaded } } } }";
        let (fast, slow, resolved) = both(query).await;
        assert_eq!(fast, slow);
        assert_eq!(resolved, 6);
        assert_eq!(fast["edges"][2]["node"]["loaded"], -3);
        // `@skip`/`@include` are applied before execution: what is left is still plain.
        let skipped =
            "query { FIELD { edges { node { n @skip(if: true) label @include(if: true) } } } }";
        let (fast, slow, resolved) = both(skipped).await;
        assert_eq!((&fast, resolved), (&slow, 0));
        assert!(fast["edges"][0]["node"].get("n").is_none());
    }
}
