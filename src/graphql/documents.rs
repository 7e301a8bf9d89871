//! Parsed documents, kept by their text, and what the limits need to know of each (its
//! aliases, whether it introspects, an argument literal holding a NUL character), found once
//! when the document is parsed.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, PoisonError};

use async_graphql::ServerError;
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use lru::LruCache;

use crate::graphql::input::nul_in_literals;
use crate::graphql::limits::with_code;

/// Parsed documents by their text, most recently used kept. Clients send the same few
/// documents again and again with new variables, and parsing one (async-graphql's parser is
/// built on pest) was a tenth of the server's CPU on a `node(id:)` lookup.
pub(crate) struct Documents(Mutex<LruCache<String, Arc<Parsed>>>);

/// A parsed document and what the limits need to know of it.
#[derive(Debug)]
pub(crate) struct Parsed {
    pub doc: ExecutableDocument,
    pub(super) shape: DocumentShape,
}

impl Documents {
    /// How many documents are kept.
    const CAPACITY: NonZeroUsize = NonZeroUsize::new(256).unwrap();
    /// Longer documents are parsed each time: they are rare, and would crowd the cache.
    const MAX_TEXT: usize = 8 * 1024;

    pub(crate) fn new() -> Self {
        Self(Mutex::new(LruCache::new(Self::CAPACITY)))
    }

    /// The parse of `query`, from the cache or parsed now (and kept when it parses).
    pub(crate) fn parse(&self, query: &str) -> Result<Arc<Parsed>, ServerError> {
        let cache = || self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(parsed) = cache().get(query) {
            return Ok(parsed.clone());
        }
        let doc = async_graphql::parser::parse_query(query)
            .map_err(|e| with_code(e.into(), "GRAPHQL_PARSE_FAILED", None))?;
        let parsed = Arc::new(Parsed {
            shape: DocumentShape::of(&doc),
            doc,
        });
        if query.len() <= Self::MAX_TEXT {
            cache().put(query.to_owned(), parsed.clone());
        }
        Ok(parsed)
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).len()
    }
}

/// What the limits need to know of a parsed document.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct DocumentShape {
    pub(super) aliases: usize,
    pub(super) introspects: bool,
    /// The path of an argument literal holding a NUL character, if one does.
    pub(super) nul_literal: Option<String>,
}

impl DocumentShape {
    fn of(doc: &ExecutableDocument) -> Self {
        let mut shape = DocumentShape::default();
        let sets = || {
            doc.operations
                .iter()
                .map(|(_, op)| &op.node.selection_set.node)
                .chain(doc.fragments.values().map(|f| &f.node.selection_set.node))
        };
        for set in sets() {
            shape.visit(set);
        }
        let mut path = Vec::new();
        if sets().any(|set| nul_in_literals(&mut path, set)) {
            shape.nul_literal = Some(path.join("."));
        }
        shape
    }

    fn visit(&mut self, set: &SelectionSet) {
        for item in &set.items {
            match &item.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    if field.alias.is_some() {
                        self.aliases += 1;
                    }
                    if matches!(field.name.node.as_str(), "__schema" | "__type") {
                        self.introspects = true;
                    }
                    self.visit(&field.selection_set.node);
                }
                Selection::InlineFragment(fragment) => {
                    self.visit(&fragment.node.selection_set.node);
                }
                Selection::FragmentSpread(_) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::Request;

    use super::*;
    use crate::graphql::limits::{Limits, admit};

    fn shape(query: &str) -> DocumentShape {
        DocumentShape::of(&async_graphql::parser::parse_query(query).unwrap())
    }

    #[test]
    fn aliases_are_counted_everywhere() {
        let q = "query { a: viewer { b: id } ...F ... on Query { c: viewer { id } } }
                 fragment F on Query { d: viewer { id } }";
        assert_eq!(shape(q).aliases, 4);
        assert!(!shape(q).introspects);
    }

    #[test]
    fn a_nul_in_a_literal_is_found_once_with_its_path() {
        let q = r#"{ ...F } fragment F on Query { nodes(ids: ["ok", "a\u0000"]) { id } }"#;
        assert_eq!(shape(q).nul_literal.as_deref(), Some("ids.1"));
        let q = r#"mutation { createAlbum(input: { name: "x\u0000" }) { album { id } } }"#;
        assert_eq!(shape(q).nul_literal.as_deref(), Some("input.name"));
        assert_eq!(shape("{ viewer { id } }").nul_literal, None);
    }

    fn limits() -> Limits {
        Limits {
            max_depth: 10,
            max_complexity: 1000,
            max_aliases: 1,
            introspection: false,
        }
    }

    #[test]
    fn documents_are_parsed_once_and_checked_every_time() {
        let documents = Documents::new();
        let query = "query Q { viewer { id } }";
        for _ in 0..3 {
            let mut request = Request::new(query);
            admit(&limits(), &documents, &mut request).unwrap();
            let doc = request.parsed_query().unwrap();
            let fresh = async_graphql::parser::parse_query(query).unwrap();
            assert_eq!(format!("{doc:?}"), format!("{fresh:?}"));
        }
        assert_eq!(documents.len(), 1);
        let (first, again) = (documents.parse(query), documents.parse(query));
        assert!(
            Arc::ptr_eq(&first.unwrap(), &again.unwrap()),
            "parsed again"
        );

        // A kept document is refused each time it breaks a limit.
        let aliased = "{ a: viewer { b: id } }";
        for _ in 0..2 {
            let err = admit(&limits(), &documents, &mut Request::new(aliased)).unwrap_err();
            assert_eq!(code(&err), "BAD_USER_INPUT");
        }
        assert_eq!(documents.len(), 2);

        // What does not parse is not kept.
        let err = admit(&limits(), &documents, &mut Request::new("{ viewer { ")).unwrap_err();
        assert_eq!(code(&err), "GRAPHQL_PARSE_FAILED");
        assert_eq!(documents.len(), 2);
    }

    fn code(err: &ServerError) -> &str {
        let ext = err.extensions.as_ref().unwrap();
        match ext.get("code") {
            Some(async_graphql::Value::String(code)) => code,
            other => panic!("no code: {other:?}"),
        }
    }

    #[test]
    fn introspection_is_found_inside_fragments() {
        assert!(shape("{ ...F } fragment F on Query { __schema { types { name } } }").introspects);
        assert!(shape("{ x: __type(name: \"User\") { name } }").introspects);
        assert!(!shape("{ __typename }").introspects);
    }
}
