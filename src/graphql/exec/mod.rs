//! The planned executor: how every read selection is answered.
//!
//! async-graphql stays the schema, the parser, the validator and the HTTP integration, and
//! it calls the root fields' resolvers. Each root field returns [`Planned`], which takes over
//! from there: the field's merged selection is compiled into a [`plan::Plan`] (fields
//! collected and merged as the spec's CollectFields and MergeSelectionSets do, arguments
//! coerced once), the plan runs level by level with every field that loads resolved once for
//! all the parents of its level ([`run`]), and the result is written as JSON text in
//! selection order with the spec's null propagation ([`write`]). Keys come in the order
//! asked by construction, and two selections of one key are one field.
//!
//! What still goes through async-graphql's own resolvers, and why:
//! - the root fields' resolvers themselves (`viewer`, `node`, `nodes`, `traverse`, and each
//!   mutation, run one after another as the spec wants): they are where arguments meet the
//!   services, and async-graphql calls them. [`reorder::finish_root`] then puts the root keys
//!   in selection order and applies null propagation at the root (async-graphql inserts root
//!   values as they complete and leaves out a field that failed), and
//!   [`rewrite::merged_mutation`] makes a mutation selected twice under one key one field, so
//!   that it runs once;
//! - the subscription root's resolver (`Subscription.changes`), which async-graphql runs as a
//!   stream; each event it yields is answered here like a root field, with loaders of its
//!   own (see [`execute_root`]);
//! - introspection (`__schema`, `__type`): async-graphql answers it from its registry, and
//!   its resolvers complete at once, so in selection order;
//! - everything, when the server runs with `HYPERNET_EXECUTOR=resolvers`: the reference the
//!   differential tests compare this executor with. [`reorder`] then rewrites the document
//!   around two async-graphql bugs (fragments on unions; empty selections) and puts its whole
//!   answer in selection order, with the errors graphql-js would report.
//!
//! Each object type's fields are answered by a table in [`fields`]; a field that reads only
//! the object in hand is written straight from it, the others resolve through the request's
//! loaders and the services, with the same visibility rules as the resolvers.

pub(crate) mod collect;
pub(crate) mod cost;
mod fields;
pub(in crate::graphql) mod obj;
mod plan;
pub(crate) mod reorder;
pub(crate) mod rewrite;
mod run;
pub(crate) mod schema;
pub(crate) mod shared;
mod to_out;
mod write;

use std::borrow::Cow;
use std::sync::Arc;

use async_graphql::parser::types::{Field, OperationType};
use async_graphql::registry::Registry;
use async_graphql::{ContextSelectionSet, OutputType, Positioned, ServerResult, Value};

pub(crate) use collect::with_defaults;
pub(crate) use obj::{Out, Record};
pub(crate) use to_out::ToOut;

use crate::config::ExecutorMode;
use crate::db::{self, Scope};
use crate::graphql::batch::drive;

use crate::graphql::context::RequestContext;
use crate::graphql::loaders::Loaders;
use crate::service::Services;
use collect::{Document, Group, collect};
use plan::{Answer, Entry, Planner};
use run::{Cx, settle};
use schema::SchemaInfo;
use shared::{EventAnswers, SubscriptionDocument};
use write::Writer;

/// A root field's value, answered by the planned executor (or by async-graphql's resolvers
/// when the server runs in [`ExecutorMode::Resolvers`]).
pub(crate) struct Planned<T>(pub T);

impl<T: OutputType + ToOut> OutputType for Planned<T> {
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
        // A subscription's events always run here, each with loaders of its own (see
        // `execute_root`); `User.changes` is their reference.
        if ctx.data_opt::<ExecutorMode>() == Some(&ExecutorMode::Resolvers)
            && ctx.query_env.operation.node.ty != OperationType::Subscription
        {
            return self.0.resolve(ctx, field).await;
        }
        execute_root(ctx, field, self.0.to_out(), self.0.event()).await
    }
}

/// The schema as the executor knows it, read once from the types that make it.
pub(crate) fn schema_info() -> &'static SchemaInfo {
    static INFO: std::sync::LazyLock<SchemaInfo> = std::sync::LazyLock::new(|| {
        let mut registry = Registry {
            query_type: crate::graphql::QueryRoot::type_name().into_owned(),
            mutation_type: Some(crate::graphql::MutationRoot::type_name().into_owned()),
            subscription_type: Some(
                <crate::graphql::SubscriptionRoot as async_graphql::SubscriptionType>::type_name()
                    .into_owned(),
            ),
            ..Registry::default()
        };
        crate::graphql::QueryRoot::create_type_info(&mut registry);
        crate::graphql::MutationRoot::create_type_info(&mut registry);
        <crate::graphql::SubscriptionRoot as async_graphql::SubscriptionType>::create_type_info(
            &mut registry,
        );
        SchemaInfo::from_registry(&registry)
    });
    &INFO
}

/// Runs the merged selection of the root field `field` over its value `out`. A
/// subscription's event (`event`: its place in the journal) is answered once for all the
/// subscriptions of the user that run the same document (see [`shared`]).
async fn execute_root(
    ctx: &ContextSelectionSet<'_>,
    field: &Positioned<Field>,
    out: Out,
    event: Option<i64>,
) -> ServerResult<Value> {
    let Some((answers, key)) = shared_key(ctx, field, event).await else {
        // Queries, mutations and unshared events: the answer is this request's alone.
        let answer = answer_root(ctx, field, out).await?;
        for err in answer.errors {
            ctx.add_error(err);
        }
        return Ok(answer.value);
    };
    let answering = async { answer_root(ctx, field, out).await.map(Arc::new) };
    let answer = answers.answer(key, answering).await?;
    for err in &answer.errors {
        ctx.add_error(err.clone());
    }
    Ok(answer.value.clone())
}

/// Where a subscription's event may find its answer shared, and under which key: when the
/// socket named the subscription's document and someone here follows the viewer's journal.
async fn shared_key<'a>(
    ctx: &'a ContextSelectionSet<'_>,
    field: &Positioned<Field>,
    event: Option<i64>,
) -> Option<(&'a EventAnswers, shared::Key)> {
    let seq = event?;
    let document = *ctx.data_opt::<SubscriptionDocument>()?;
    let answers = ctx.data_opt::<Arc<EventAnswers>>()?;
    let viewer = ctx.data_opt::<RequestContext>()?.viewer?;
    let head = ctx.data_opt::<Arc<Services>>()?.feed.head(viewer).await?;
    let key = field.node.response_key().node.as_str();
    Some((answers, shared::Key::new(viewer, document, key, seq, head)))
}

/// The answer of the root field `field` over its value `out`: its value and its errors.
async fn answer_root(
    ctx: &ContextSelectionSet<'_>,
    field: &Positioned<Field>,
    out: Out,
) -> ServerResult<shared::Answer> {
    let info = schema_info();
    let env = ctx.query_env;
    let root_type = info.root(env.operation.node.ty);
    let services = ctx
        .data::<Arc<Services>>()
        .map_err(|e| e.into_server_error(field.pos))?;
    let viewer = ctx.data_opt::<RequestContext>().and_then(|r| r.viewer);
    // A subscription runs for hours: each event is answered with loaders of its own, so that
    // it reads the objects as they are now and nothing accumulates between events.
    let subscription = env.operation.node.ty == OperationType::Subscription;
    let loaders = match subscription {
        true => Loaders::new(services.clone(), viewer),
        false => ctx
            .data::<Arc<Loaders>>()
            .map_err(|e| e.into_server_error(field.pos))?
            .clone(),
    };
    let key = field.node.response_key().node.as_str();
    let entry = {
        let doc = Document {
            fragments: &env.fragments,
            variables: &env.variables,
        };
        // Every field of this key at the root, so that two selections of it are one.
        let group = collect(doc, info, root_type, [&env.operation.node.selection_set])
            .into_iter()
            .find(|g| g.key == key)
            .unwrap_or_else(|| Group {
                key,
                fields: vec![field],
            });
        let Some(ty) = info.field(root_type, group.name()).cloned() else {
            return Err(async_graphql::ServerError::new(
                format!("the executor has no field `{root_type}.{}`", group.name()),
                Some(field.pos),
            ));
        };
        let planner = Planner {
            info,
            doc,
            query_env: env,
            schema_env: ctx.schema_env,
            execute_data: ctx.execute_data,
            services,
            request: ctx.data_opt::<RequestContext>(),
        };
        Entry {
            key: key.to_string(),
            name: group.name().to_string(),
            prefix: Vec::new(),
            locations: group.fields.iter().map(|f| f.pos).collect(),
            children: planner.children(&ty, &group),
            ty,
            answer: Answer::Typename,
        }
    };
    let cx = Cx {
        services: services.clone(),
        loaders: loaders.clone(),
        viewer,
    };
    let slots = match subscription {
        true => {
            let settled = drive(&loaders.jobs, settle(&cx, &entry, vec![out]));
            db::within(Scope::of(viewer), settled).await
        }
        false => settle(&cx, &entry, vec![out]).await,
    };
    // A page of a thousand media is some 100 KB: start big rather than grow to it.
    let mut writer = Writer::new(16 * 1024, Vec::new());
    let written = writer.field(&entry, &slots, 0);
    Ok(shared::Answer {
        // A non-null root field that is null: `reorder::finish_root` nulls the data.
        value: match written {
            true => Value::Binary(writer.out.into()),
            false => Value::Null,
        },
        errors: writer.errors,
    })
}
