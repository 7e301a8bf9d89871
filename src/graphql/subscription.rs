//! `Subscription`: live updates over `/graphql/ws` (see `http::ws`).

use std::sync::Arc;

use async_graphql::connection::{Edge, EmptyFields};
use async_graphql::{Context, Result, Subscription};
use futures_util::{Stream, StreamExt};

use crate::graphql::connection::Cursor;
use crate::graphql::context::{services, viewer};
use crate::graphql::exec::Planned;
use crate::graphql::exec::ToOut;
use crate::graphql::exec::obj::{Conn, ConnKind, CursorKey, EdgeExtra, EdgeRow, Obj, Out, Total};
use crate::graphql::types::change::{Change, ChangeArgs, ChangeObjectType};

/// An event of the live feed: the edge `User.changes` pages through, whose `cursor` resumes
/// after it.
pub(crate) type ChangeEvent = Edge<Cursor<i64>, Change, EmptyFields>;

/// The root of subscriptions.
#[derive(Default)]
pub struct SubscriptionRoot;

#[Subscription(name = "Subscription")]
impl SubscriptionRoot {
    /// The viewer's changes as they commit, each once and in commit order: first those after
    /// `after` (a cursor of `User.changes`, `User.changeCursor`, or an event of this feed),
    /// then each new one, with no gap and no repeat between the two. Without `after`, what
    /// happens from now on. `CURSOR_EXPIRED` when `after` is older than the journal keeps;
    /// `TOO_MANY_SUBSCRIPTIONS` past the server's caps.
    async fn changes(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        types: Option<Vec<ChangeObjectType>>,
    ) -> Result<impl Stream<Item = Result<Planned<ChangeEvent>>> + use<>> {
        let viewer = viewer(ctx)?;
        let args = ChangeArgs::new(after, None, types)?;
        let services = services(ctx);
        let events = services
            .follow_changes(viewer, args.after, args.types)
            .await?;
        let metrics = services.metrics.clone();
        Ok(events.map(move |event| match event {
            Ok(change) => {
                let lag = (chrono::Utc::now() - change.at)
                    .to_std()
                    .unwrap_or_default();
                metrics.feed_lag(lag);
                Ok(Planned(Edge::new(Cursor(change.seq), Change(change))))
            }
            Err(err) => Err(err.into()),
        }))
    }
}

impl ToOut for ChangeEvent {
    fn to_out(&self) -> Out {
        let edge = EdgeRow {
            node: Obj::Change(self.node.0.clone()),
            cursor: CursorKey::Seq(self.cursor.0),
            extra: EdgeExtra::None,
        };
        let page = Conn {
            kind: ConnKind::Changes,
            edges: vec![edge],
            has_previous: false,
            has_next: false,
            total: Total::Known(0),
        };
        Out::One(Obj::Edge(Arc::new(page), 0))
    }

    fn event(&self) -> Option<i64> {
        Some(self.cursor.0)
    }
}
