//! What a document costs, counted before it runs: the most objects it can ask for.
//!
//! - A scalar or enum costs nothing: it comes with its object.
//! - An object costs 1 and its selection.
//! - A page of a list (`edges`, `nodes` of a connection) costs its page size (`first` or
//!   `last`, 20 when absent) times what one item selects; `nodes(ids:)` costs one per id,
//!   `traverse` its `first` (20) times `maxDepth` times the link types it follows (those of
//!   `via`, 4 for all); other lists (`variants`, `albums`,
//!   `duplicates`) count as 10 items.
//! - Fragments count as if their fields were written out, whichever types they apply to (an
//!   upper bound); introspection costs 1 a field.
//!
//! Twenty albums of fifty media, each with ten fields and five links with their far ends,
//! cost about 18,000; the default limit is 50,000.

use async_graphql::parser::types::{
    ExecutableDocument, Field, OperationDefinition, Selection, SelectionSet,
};
use async_graphql::{Name, Positioned, Value, Variables};

use super::schema::SchemaInfo;
use super::schema_info;

/// The size of a page when the document names none.
const DEFAULT_PAGE: u64 = 20;
/// The largest page.
const MAX_PAGE: u64 = 100;
/// Items counted for a list that is not a page.
const LIST: u64 = 10;
/// The fan-out of a walk that follows every link type.
const ALL_LINK_TYPES: u64 = 4;

/// The cost of running `op` of `doc` with `variables`.
pub(crate) fn of(doc: &ExecutableDocument, op: &OperationDefinition, variables: &Variables) -> u64 {
    let info = schema_info();
    let root = info.root(op.ty);
    Counter {
        doc,
        variables,
        info,
    }
    .set(&op.selection_set, root, None, 0)
}

struct Counter<'a> {
    doc: &'a ExecutableDocument,
    variables: &'a Variables,
    info: &'a SchemaInfo,
}

impl Counter<'_> {
    /// The cost of `set` on an object of type `ty`; `page` is the page size of the connection
    /// whose selection this is.
    fn set(
        &self,
        set: &Positioned<SelectionSet>,
        ty: &str,
        page: Option<u64>,
        depth: usize,
    ) -> u64 {
        // Validation bounds the depth and refuses cycles; this only guards the recursion.
        if depth > 64 {
            return u64::MAX;
        }
        set.node.items.iter().fold(0u64, |sum, item| {
            let cost = match &item.node {
                Selection::Field(field) => self.field(&field.node, ty, page, depth),
                Selection::InlineFragment(inline) => {
                    let on = inline
                        .node
                        .type_condition
                        .as_ref()
                        .map_or(ty, |c| c.node.on.node.as_str());
                    self.set(&inline.node.selection_set, on, page, depth + 1)
                }
                Selection::FragmentSpread(spread) => {
                    match self.doc.fragments.get(&spread.node.fragment_name.node) {
                        Some(f) => self.set(
                            &f.node.selection_set,
                            f.node.type_condition.node.on.node.as_str(),
                            page,
                            depth + 1,
                        ),
                        None => 0,
                    }
                }
            };
            sum.saturating_add(cost)
        })
    }

    fn field(&self, field: &Field, ty: &str, page: Option<u64>, depth: usize) -> u64 {
        let name = field.name.node.as_str();
        if name.starts_with("__") {
            return u64::from(name != "__typename");
        }
        let Some(ft) = self.info.field(ty, name) else {
            return 0;
        };
        if !ft.composite {
            return 0;
        }
        // A connection's page size applies to its item lists.
        let own_page = ft
            .named
            .ends_with("Connection")
            .then(|| self.page_size(field));
        let one =
            1u64.saturating_add(self.set(&field.selection_set, &ft.named, own_page, depth + 1));
        let query = ty == self.info.query;
        let items = match name {
            // The walk's nodes are its edges: counted here, once.
            "traverse" if query => self
                .int(field, "first")
                .map_or(DEFAULT_PAGE, |n| n.clamp(1, MAX_PAGE))
                .saturating_mul(self.int(field, "maxDepth").unwrap_or(1).clamp(1, 5))
                .saturating_mul(self.fan_out(field)),
            _ if ft.list.is_none() || ty == "Traversal" => 1,
            "edges" | "nodes" if page.is_some() => page.unwrap_or(DEFAULT_PAGE),
            "nodes" if query => self.list_len(field, "ids"),
            _ => LIST,
        };
        items.saturating_mul(one)
    }

    /// The link types a walk follows: those of `via`, else every one (counted as
    /// [`ALL_LINK_TYPES`]).
    fn fan_out(&self, field: &Field) -> u64 {
        match self.argument(field, "via") {
            Some(Value::List(types)) => (types.len() as u64).clamp(1, ALL_LINK_TYPES),
            _ => ALL_LINK_TYPES,
        }
    }

    fn page_size(&self, field: &Field) -> u64 {
        self.int(field, "first")
            .or_else(|| self.int(field, "last"))
            .unwrap_or(DEFAULT_PAGE)
            .clamp(1, MAX_PAGE)
    }

    /// An argument's value, variables resolved.
    fn argument(&self, field: &Field, name: &str) -> Option<Value> {
        let value = field.get_argument(name)?;
        value
            .node
            .clone()
            .into_const_with(|var: Name| self.variables.get(&var).cloned().ok_or(()))
            .ok()
    }

    fn int(&self, field: &Field, name: &str) -> Option<u64> {
        match self.argument(field, name)? {
            Value::Number(n) => n.as_u64(),
            _ => None,
        }
    }

    fn list_len(&self, field: &Field, name: &str) -> u64 {
        match self.argument(field, name) {
            Some(Value::List(items)) => items.len() as u64,
            _ => 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cost(query: &str, variables: serde_json::Value) -> u64 {
        let doc = async_graphql::parser::parse_query(query).unwrap();
        let op = crate::graphql::exec::reorder::operation(&doc, None).unwrap();
        of(&doc, op, &Variables::from_json(variables))
    }

    #[test]
    fn objects_count_scalars_do_not_pages_multiply() {
        assert_eq!(cost("{ viewer { id email } }", serde_json::json!({})), 1);
        // viewer 1 + the page 1 + 20 edges × (edge 1 + media 1).
        assert_eq!(
            cost(
                "{ viewer { media { edges { node { id } } } } }",
                serde_json::json!({})
            ),
            1 + 1 + 20 * 2
        );
        assert_eq!(
            cost(
                "query($n: Int) { viewer { media(first: $n) { totalCount nodes { id variants { id } } } } }",
                serde_json::json!({ "n": 3 })
            ),
            1 + 1 + 3 * (1 + 10)
        );
        assert_eq!(
            cost(
                "{ nodes(ids: [\"a\", \"b\"]) { id } }",
                serde_json::json!({})
            ),
            2
        );
    }

    #[test]
    fn a_real_screen_fits_the_default_limit() {
        let screen = "{ viewer { albums(first: 20) { edges { node { id name mediaCount coverMedia { id contentUrl }
            media(first: 50) { edges { addedAt node { id filename takenAt width height mediaType contentUrl size mimeType
              links(first: 5) { edges { other { id } node { id linkType } } } } } } } } } } }";
        let n = cost(screen, serde_json::json!({}));
        assert!(n < 50_000, "{n}");
        assert!(n > 10_000, "{n}");
    }
}
