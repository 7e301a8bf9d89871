//! The query root, merged from one object per domain area.

mod node;
mod traverse;
mod viewer;

use async_graphql::MergedObject;

#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(
    viewer::ViewerQuery,
    node::NodeQuery,
    traverse::TraverseQuery,
);
