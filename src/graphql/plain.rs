//! Answering plain selections on the spot.
//!
//! async-graphql resolves each field of each object through its own boxed future, collected
//! in a `FuturesUnordered`, and each list item through another. On a page of 1,000 album
//! members with three fields each that machinery was about 40% of the server's CPU, for
//! values that were already in memory. Most nested selections of a list page are *plain*:
//! fields computed from the row in hand, with no arguments and nothing to load.
//!
//! [`Fast`] wraps an output type so that a plain selection is answered by one synchronous
//! walk of the selection set (fragments included). When the walk meets anything else (a field
//! that loads or takes arguments, a directive) it gives up and the whole value goes to
//! async-graphql's own resolver, so the answer is the same either way; a test compares the
//! two. The schema installs no extensions (see `limits`), so no per-field hook is skipped,
//! and `@skip`/`@include` are applied to the document before execution starts.

use std::borrow::Cow;

use async_graphql::connection::{
    Connection, ConnectionNameType, CursorType, Edge, EdgeNameType, EmptyFields,
    NodesFieldSwitcherSealed, PageInfo,
};
use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{Field, Selection};
use async_graphql::registry::Registry;
use async_graphql::{
    Context, ContextSelectionSet, Name, ObjectType, OutputType, Positioned, ServerResult, Value,
};

/// An object some of whose fields can be answered without a future.
pub(crate) trait Plain: OutputType {
    /// The value of the field in `ctx.item`, or `None` when it needs the async resolver.
    fn plain_field(&self, ctx: &Context<'_>) -> Option<Value>;
}

/// The extra fields of a connection: none of them is plain unless a type says so.
pub(crate) trait PlainFields {
    fn plain_field(&self, _ctx: &Context<'_>) -> Option<Value> {
        None
    }
}

impl PlainFields for EmptyFields {}

/// An output type resolved on the spot when its selection is plain, else as usual.
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
        match resolve(ctx, &self.0) {
            Some(value) => Ok(value),
            None => self.0.resolve(ctx, field).await,
        }
    }
}

/// The selection set of `ctx` on `obj`, or `None` when some field is not plain.
pub(crate) fn resolve<T: Plain + ?Sized>(ctx: &ContextSelectionSet<'_>, obj: &T) -> Option<Value> {
    let mut out = IndexMap::new();
    collect(ctx, obj, &mut out)?;
    // Like async-graphql: a selection whose every field was skipped is null.
    Some(if out.is_empty() {
        Value::Null
    } else {
        Value::Object(out)
    })
}

/// The selection set of the field in `ctx` on `obj`.
pub(crate) fn nested<T: Plain + ?Sized>(ctx: &Context<'_>, obj: &T) -> Option<Value> {
    resolve(&ctx.with_selection_set(&ctx.item.node.selection_set), obj)
}

/// The selection set of the field in `ctx` on each item.
pub(crate) fn nested_list<'i, T: Plain + 'i>(
    ctx: &Context<'_>,
    items: impl ExactSizeIterator<Item = &'i T>,
) -> Option<Value> {
    let set = ctx.with_selection_set(&ctx.item.node.selection_set);
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        out.push(resolve(&set, item)?);
    }
    Some(Value::List(out))
}

fn collect<T: Plain + ?Sized>(
    ctx: &ContextSelectionSet<'_>,
    obj: &T,
    out: &mut IndexMap<Name, Value>,
) -> Option<()> {
    for selection in &ctx.item.node.items {
        match &selection.node {
            Selection::Field(field) => {
                if !field.node.directives.is_empty() || !field.node.arguments.is_empty() {
                    return None;
                }
                let value = if field.node.name.node == "__typename" {
                    Value::String(obj.introspection_type_name().into_owned())
                } else {
                    obj.plain_field(&ctx.with_field(field))?
                };
                merge(out, field.node.response_key().node.clone(), value);
            }
            Selection::FragmentSpread(spread) => {
                if !spread.node.directives.is_empty() {
                    return None;
                }
                let fragment = ctx
                    .query_env
                    .fragments
                    .get(&spread.node.fragment_name.node)?;
                if applies(ctx, obj, Some(&fragment.node.type_condition.node.on.node)) {
                    collect(
                        &ctx.with_selection_set(&fragment.node.selection_set),
                        obj,
                        out,
                    )?;
                }
            }
            Selection::InlineFragment(inline) => {
                if !inline.node.directives.is_empty() {
                    return None;
                }
                let on = inline.node.type_condition.as_ref().map(|c| &c.node.on.node);
                if applies(ctx, obj, on) {
                    collect(
                        &ctx.with_selection_set(&inline.node.selection_set),
                        obj,
                        out,
                    )?;
                }
            }
        }
    }
    Some(())
}

/// Whether a fragment on type `on` (none: the enclosing type) applies to `obj`.
fn applies<T: Plain + ?Sized>(ctx: &ContextSelectionSet<'_>, obj: &T, on: Option<&Name>) -> bool {
    let Some(on) = on else { return true };
    let name = obj.introspection_type_name();
    name == on.as_str()
        || ctx
            .schema_env
            .registry
            .implements
            .get(name.as_ref())
            .is_some_and(|interfaces| interfaces.contains(on.as_str()))
}

/// Adds a field's value under its response key, merging the selections of a key that is
/// selected twice (`node { id } node { filename }`), as GraphQL's field merging does.
fn merge(out: &mut IndexMap<Name, Value>, key: Name, value: Value) {
    match out.get_mut(&key) {
        Some(prev) => merge_into(prev, value),
        None => {
            out.insert(key, value);
        }
    }
}

fn merge_into(prev: &mut Value, value: Value) {
    match (prev, value) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                merge(a, k, v);
            }
        }
        (Value::List(a), Value::List(b)) => {
            for (x, y) in a.iter_mut().zip(b) {
                merge_into(x, y);
            }
        }
        // The same leaf twice: the same value.
        _ => {}
    }
}

impl<C, N, EF, EN> Plain for Edge<C, N, EF, EN>
where
    C: CursorType + Send + Sync,
    N: Plain,
    EF: ObjectType,
    EN: EdgeNameType,
{
    fn plain_field(&self, ctx: &Context<'_>) -> Option<Value> {
        match ctx.item.node.name.node.as_str() {
            "node" => nested(ctx, &self.node),
            "cursor" => Some(Value::String(self.cursor.encode_cursor())),
            // The edge's own extra fields (an album member's `addedAt`, `link`) load.
            _ => None,
        }
    }
}

impl Plain for PageInfo {
    fn plain_field(&self, ctx: &Context<'_>) -> Option<Value> {
        let cursor = |c: &Option<String>| c.clone().map_or(Value::Null, Value::String);
        Some(match ctx.item.node.name.node.as_str() {
            "hasPreviousPage" => Value::Boolean(self.has_previous_page),
            "hasNextPage" => Value::Boolean(self.has_next_page),
            "startCursor" => cursor(&self.start_cursor),
            "endCursor" => cursor(&self.end_cursor),
            _ => return None,
        })
    }
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
    fn plain_field(&self, ctx: &Context<'_>) -> Option<Value> {
        match ctx.item.node.name.node.as_str() {
            "edges" => nested_list(ctx, self.edges.iter()),
            "nodes" => nested_list(ctx, self.edges.iter().map(|e| &e.node)),
            "pageInfo" => nested(
                ctx,
                &PageInfo {
                    has_previous_page: self.has_previous_page,
                    has_next_page: self.has_next_page,
                    start_cursor: self.edges.first().map(|e| e.cursor.encode_cursor()),
                    end_cursor: self.edges.last().map(|e| e.cursor.encode_cursor()),
                },
            ),
            _ => self.additional_fields.plain_field(ctx),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use async_graphql::connection::Connection;
    use async_graphql::{Context, EmptyMutation, EmptySubscription, Object, Schema};

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

    impl Plain for Thing {
        fn plain_field(&self, ctx: &Context<'_>) -> Option<Value> {
            Some(match ctx.item.node.name.node.as_str() {
                "n" => Value::from(self.0),
                "label" if self.0 % 2 == 0 => Value::String(format!("even {}", self.0)),
                "label" => Value::Null,
                _ => return None,
            })
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
                res.data.into_json().unwrap()[&field].take()
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
