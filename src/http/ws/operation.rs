//! One `subscribe` of a WebSocket connection: let in as over HTTP, then a query or mutation
//! answered once, or a subscription's events answered as the client takes them.

use std::sync::atomic::AtomicBool;

use async_graphql::parser::types::OperationType;
use async_graphql::{BatchResponse, Request};
use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::Event;
use crate::graphql::context::RequestContext;
use crate::graphql::exec::reorder;
use crate::graphql::exec::shared::SubscriptionDocument;
use crate::graphql::{json, limits};
use crate::http::AppState;
use crate::http::admission;

/// One `subscribe` of a connection.
pub(super) struct Operation {
    pub state: AppState,
    pub id: String,
    pub generation: u64,
    pub events: mpsc::Sender<Box<Event>>,
    pub stop: CancellationToken,
}

impl Operation {
    pub(super) async fn run(self, ctx: RequestContext, mut request: Request) {
        let authenticated = AtomicBool::new(false);
        let started = std::time::Instant::now();
        // The checks and a query's execution are boxed: a subscription's task keeps only what
        // its stream needs while it waits for events.
        let admitted = match Box::pin(admission::admit(
            &self.state,
            &mut request,
            false,
            &authenticated,
        ))
        .await
        {
            Ok(admitted) => admitted,
            Err(err) => {
                let metrics = &self.state.services.metrics;
                metrics.error(admission::error_code(&err));
                return self
                    .send(Event::Error(self.id(), self.generation, vec![err]))
                    .await;
            }
        };
        if admitted.ty != OperationType::Subscription {
            let execution = admission::execute_admitted(&self.state, ctx, request, &admitted);
            let (response, ran) = Box::pin(execution).await;
            admission::observe(&self.state, &admitted, started, &response);
            if !ran {
                let errors = response.errors;
                return self
                    .send(Event::Error(self.id(), self.generation, errors))
                    .await;
            }
            self.next(response).await;
            return self.send(Event::Complete(self.id(), self.generation)).await;
        }
        // A subscription counts once, with the time it took to be let in.
        self.state
            .services
            .metrics
            .operation(&admitted.labels, started.elapsed(), []);
        let operation_name = request.operation_name.clone();
        let variables = request.variables.clone();
        // Subscriptions of one user that run this same text with these same variables, and
        // reached this server at the same address (the base of the URLs answers hold), answer
        // each event once between them (`exec::shared`).
        let document = match serde_json::to_string(&variables) {
            Ok(values) if !request.query.is_empty() => Some(SubscriptionDocument::new([
                request.query.as_str(),
                operation_name.as_deref().unwrap_or(""),
                &values,
                &ctx.base_url,
            ])),
            _ => None,
        };
        let mut request = request.data(ctx);
        if let Some(document) = document {
            request = request.data(document);
        }
        let mut responses = self.state.schema.execute_stream(request);
        let mut first = true;
        loop {
            let next = tokio::select! {
                () = self.stop.cancelled() => return,
                next = responses.next() => next,
            };
            let Some(mut response) = next else { break };
            limits::give_codes(&self.state.graphql_limits, &mut response);
            for err in &response.errors {
                let metrics = &self.state.services.metrics;
                metrics.error(admission::error_code(err));
            }
            if first && !admission::ran(&response) {
                let errors = response.errors;
                return self
                    .send(Event::Error(self.id(), self.generation, errors))
                    .await;
            }
            first = false;
            let doc = &admitted.parsed.doc;
            reorder::finish_root(doc, operation_name.as_deref(), &variables, &mut response);
            if !self.next(response).await {
                return;
            }
        }
        self.send(Event::Complete(self.id(), self.generation)).await;
    }

    fn id(&self) -> String {
        self.id.clone()
    }

    /// Sends a response as `next`; false when the connection is gone.
    async fn next(&self, response: async_graphql::Response) -> bool {
        let body = match json::response(&BatchResponse::Single(response), &[true]) {
            Ok(body) => body,
            Err(err) => {
                tracing::error!(error = %err, "a subscription's event could not be serialised");
                return false;
            }
        };
        let event = Event::Next(self.id(), self.generation, body);
        tokio::select! {
            () = self.stop.cancelled() => false,
            sent = self.events.send(Box::new(event)) => sent.is_ok(),
        }
    }

    async fn send(&self, event: Event) {
        tokio::select! {
            () = self.stop.cancelled() => {}
            _ = self.events.send(Box::new(event)) => {}
        }
    }
}
