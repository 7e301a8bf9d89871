//! Running a plan: each entry that loads is resolved once for all the objects of its plan
//! node (every parent of the level), and the objects it gives are run through their own
//! plans together. The number of futures and statements follows the size of the document,
//! never the number of rows.

use std::sync::Arc;

use async_graphql::Value;
use chrono::{DateTime, Utc};
use futures_util::future::{BoxFuture, join_all};
use uuid::Uuid;

use super::obj::{Obj, Out};
use super::plan::{Answer, Entry, Plan};
use crate::graphql::loaders::Loaders;
use crate::service::Services;

/// What a running plan may use.
pub(crate) struct Cx {
    pub services: Arc<Services>,
    pub loaders: Arc<Loaders>,
    /// The signed-in user, if any.
    pub viewer: Option<Uuid>,
}

/// A plan run over its objects.
pub(crate) struct Done {
    pub objs: Vec<Obj>,
    /// Per entry, what it resolved (`None` for entries written straight from the object).
    pub slots: Vec<Option<Slots>>,
}

/// What one entry resolved, per parent, and the runs of the objects it gave.
pub(crate) struct Slots {
    pub outs: Vec<Slot>,
    /// One run per child plan of the entry.
    pub children: Vec<Done>,
}

/// The value of a field for one parent.
pub(crate) enum Slot {
    Null,
    Value(Value),
    Time(DateTime<Utc>),
    One(Ref),
    Many(Vec<Ref>),
    ManyOpt(Vec<Option<Ref>>),
    Err(async_graphql::Error),
}

/// An object given by a field: the child plan it runs through, and its index there.
#[derive(Clone, Copy)]
pub(crate) struct Ref {
    pub plan: usize,
    pub index: usize,
}

/// Runs `plan` over `objs`.
pub(crate) fn run_plan<'a>(cx: &'a Cx, plan: &'a Plan, objs: Vec<Obj>) -> BoxFuture<'a, Done> {
    Box::pin(async move {
        if objs.is_empty() {
            let slots = plan.entries.iter().map(|_| None).collect();
            return Done { objs, slots };
        }
        let slots = join_all(plan.entries.iter().map(|entry| {
            let objs = &objs;
            async move {
                match &entry.answer {
                    Answer::Batch(resolve) => {
                        let outs = resolve.resolve(cx, objs).await;
                        Some(settle(cx, entry, outs).await)
                    }
                    Answer::Typename | Answer::Direct(_) | Answer::Failed(_) => None,
                }
            }
        }))
        .await;
        Done { objs, slots }
    })
}

/// Places the objects of `outs` in the entry's child plans and runs each child plan once
/// over all of them.
pub(crate) async fn settle(cx: &Cx, entry: &Entry, outs: Vec<Out>) -> Slots {
    let mut groups: Vec<Vec<Obj>> = entry.children.iter().map(|_| Vec::new()).collect();
    let mut place = |obj: Obj| -> Result<Ref, async_graphql::Error> {
        let plan = match entry.children.len() {
            1 if entry.children[0].type_name == obj.type_name() => 0,
            _ => entry
                .children
                .iter()
                .position(|p| p.type_name == obj.type_name())
                .ok_or_else(|| {
                    tracing::error!(
                        field = entry.name,
                        found = obj.type_name(),
                        "a field gave an object of a type it cannot have"
                    );
                    async_graphql::Error::from(crate::error::AppError::internal(anyhow::anyhow!(
                        "unexpected object type"
                    )))
                })?,
        };
        groups[plan].push(obj);
        Ok(Ref {
            plan,
            index: groups[plan].len() - 1,
        })
    };
    let outs = outs
        .into_iter()
        .map(|out| match out {
            Out::Null => Slot::Null,
            Out::Value(v) => Slot::Value(v),
            Out::Time(t) => Slot::Time(t),
            Out::Err(e) => Slot::Err(e),
            Out::One(obj) => match place(obj) {
                Ok(r) => Slot::One(r),
                Err(e) => Slot::Err(e),
            },
            Out::Many(objs) => match objs.into_iter().map(&mut place).collect() {
                Ok(refs) => Slot::Many(refs),
                Err(e) => Slot::Err(e),
            },
            Out::ManyOpt(objs) => {
                let refs: Result<Vec<Option<Ref>>, _> = objs
                    .into_iter()
                    .map(|o| o.map(&mut place).transpose())
                    .collect();
                match refs {
                    Ok(refs) => Slot::ManyOpt(refs),
                    Err(e) => Slot::Err(e),
                }
            }
        })
        .collect();
    let children = join_all(
        entry
            .children
            .iter()
            .zip(groups)
            .map(|(plan, objs)| run_plan(cx, plan, objs)),
    )
    .await;
    Slots { outs, children }
}
