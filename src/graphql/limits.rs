//! Bounds on what one query document may ask for, checked before any resolver runs: aliases
//! and introspection when the document is parsed, depth and complexity when it is validated.
//! Every refusal carries `extensions.code` and, for limits, `extensions.limit`.

use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextValidation,
};
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{
    ErrorExtensionValues, Response, ServerError, ServerResult, ValidationResult, Variables,
};

use crate::config::Config;

/// The limits in force.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub max_depth: usize,
    pub max_complexity: usize,
    pub max_aliases: usize,
    pub introspection: bool,
}

impl Limits {
    pub(crate) fn from_config(config: &Config) -> Self {
        Self {
            max_depth: config.max_depth,
            max_complexity: config.max_complexity,
            max_aliases: config.max_aliases,
            introspection: config.introspection,
        }
    }
}

/// Sets `extensions.code` (and `extensions.limit`) on a server error.
pub(crate) fn with_code(mut err: ServerError, code: &str, limit: Option<&str>) -> ServerError {
    let ext = err
        .extensions
        .get_or_insert_with(ErrorExtensionValues::default);
    ext.set("code", code);
    if let Some(limit) = limit {
        ext.set("limit", limit);
    }
    err
}

fn refuse(message: String, limit: &str) -> ServerError {
    with_code(
        ServerError::new(message, None),
        "BAD_USER_INPUT",
        Some(limit),
    )
}

/// The extension that enforces [`Limits`].
pub(crate) struct QueryLimits(Limits);

impl QueryLimits {
    pub(crate) fn new(limits: Limits) -> Self {
        Self(limits)
    }
}

impl ExtensionFactory for QueryLimits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(QueryLimitsExtension(self.0))
    }
}

struct QueryLimitsExtension(Limits);

#[async_graphql::async_trait::async_trait]
impl Extension for QueryLimitsExtension {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let doc = next
            .run(ctx, query, variables)
            .await
            .map_err(|e| with_code(e, "GRAPHQL_PARSE_FAILED", None))?;
        let shape = DocumentShape::of(&doc);
        if shape.aliases > self.0.max_aliases {
            return Err(refuse(
                format!(
                    "the query uses {} aliases; at most {} are allowed",
                    shape.aliases, self.0.max_aliases
                ),
                "aliases",
            ));
        }
        if !self.0.introspection && shape.introspects {
            return Err(refuse(
                "introspection is disabled on this server".into(),
                "introspection",
            ));
        }
        Ok(doc)
    }

    /// Errors async-graphql raises itself while executing (an argument that cannot be
    /// coerced, say) have no code; every error a client sees has one.
    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let mut response = next.run(ctx, operation_name).await;
        for err in &mut response.errors {
            let has_code = err
                .extensions
                .as_ref()
                .is_some_and(|ext| ext.get("code").is_some());
            if !has_code {
                let ext = err
                    .extensions
                    .get_or_insert_with(ErrorExtensionValues::default);
                ext.set("code", "BAD_USER_INPUT");
            }
        }
        response
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let result = next.run(ctx).await.map_err(|errors| {
            errors
                .into_iter()
                .map(|e| with_code(e, "GRAPHQL_VALIDATION_FAILED", None))
                .collect::<Vec<_>>()
        })?;
        if result.depth > self.0.max_depth {
            return Err(vec![refuse(
                format!(
                    "the query is nested {} levels deep; at most {} are allowed",
                    result.depth, self.0.max_depth
                ),
                "depth",
            )]);
        }
        if result.complexity > self.0.max_complexity {
            return Err(vec![refuse(
                format!(
                    "the query's complexity is {}; at most {} is allowed (lists cost their page size: ask for smaller pages)",
                    result.complexity, self.0.max_complexity
                ),
                "complexity",
            )]);
        }
        Ok(result)
    }
}

/// What the limits need to know of a parsed document.
#[derive(Debug, Default, PartialEq, Eq)]
struct DocumentShape {
    aliases: usize,
    introspects: bool,
}

impl DocumentShape {
    fn of(doc: &ExecutableDocument) -> Self {
        let mut shape = DocumentShape::default();
        for (_, op) in doc.operations.iter() {
            shape.visit(&op.node.selection_set.node);
        }
        for fragment in doc.fragments.values() {
            shape.visit(&fragment.node.selection_set.node);
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
    use super::*;

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
    fn introspection_is_found_inside_fragments() {
        assert!(shape("{ ...F } fragment F on Query { __schema { types { name } } }").introspects);
        assert!(shape("{ x: __type(name: \"User\") { name } }").introspects);
        assert!(!shape("{ __typename }").introspects);
    }
}
