//! The GraphQL schema: queries, mutations, types, limits. Resolvers are thin: they read the
//! viewer and the services from the context, call one service function, convert the result.

pub(crate) mod batch;
pub(crate) mod connection;
pub(crate) mod context;
pub(crate) mod documents;
pub(crate) mod error;
pub(crate) mod exec;
pub(crate) mod ids;
pub(crate) mod input;
pub(crate) mod json;
pub(crate) mod limits;
pub(crate) mod loaders;
mod mutation;
mod query;
pub(crate) mod scalars;
mod subscription;
mod types;

use std::sync::Arc;

use async_graphql::{Schema, SchemaBuilder};

use crate::service::Services;
#[cfg(test)]
pub(crate) use exec::schema_info;
use limits::Limits;
pub(crate) use mutation::MutationRoot;
pub(crate) use query::QueryRoot;
pub(crate) use subscription::SubscriptionRoot;

pub type HypernetSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

fn builder() -> SchemaBuilder<QueryRoot, MutationRoot, SubscriptionRoot> {
    use async_graphql::{Json, Upload};
    type Time = chrono::DateTime<chrono::Utc>;
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        SubscriptionRoot,
    )
    .override_output_type_description::<Time>(scalars::DATE_TIME)
    .override_input_type_description::<Time>(scalars::DATE_TIME)
    .override_output_type_description::<Json<serde_json::Value>>(scalars::JSON)
    .override_input_type_description::<Json<serde_json::Value>>(scalars::JSON)
    .override_input_type_description::<Upload>(scalars::UPLOAD)
}

/// The schema the server runs, with its limits and the services in its data.
pub(crate) fn build_schema(
    services: Arc<Services>,
    limits: Limits,
    executor: crate::config::ExecutorMode,
) -> HypernetSchema {
    let mut builder = builder()
        .data(services)
        .data(executor)
        .data(Arc::new(exec::shared::EventAnswers::default()))
        .disable_suggestions()
        .limit_depth(limits.max_depth);
    if !limits.introspection {
        builder = builder.disable_introspection();
    }
    builder.finish()
}

/// The SDL of the schema, as `hypernet schema` prints it and `schema.graphql` keeps it.
pub fn sdl() -> String {
    builder()
        .finish()
        .sdl_with_options(async_graphql::SDLExportOptions::new().include_specified_by())
}
