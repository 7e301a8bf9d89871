//! What `/metrics` reports beyond the plain counters: per-operation request counts and
//! latencies, errors by code, SQL statements and time per request, uploads, and the live
//! feed's delivery lag, in Prometheus' text format (through `prometheus-client`).
//!
//! Operation names come from clients, so the label set is bounded: past
//! [`MAX_OPERATIONS`] distinct names, new ones are counted as `other`.

use std::collections::HashSet;
use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Distinct operation names counted apart.
pub const MAX_OPERATIONS: usize = 200;
/// Distinct error codes counted apart.
const MAX_CODES: usize = 64;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelValue)]
#[allow(non_camel_case_types)]
pub enum OperationType {
    query,
    mutation,
    subscription,
}

impl From<async_graphql::parser::types::OperationType> for OperationType {
    fn from(ty: async_graphql::parser::types::OperationType) -> Self {
        use async_graphql::parser::types::OperationType as T;
        match ty {
            T::Query => Self::query,
            T::Mutation => Self::mutation,
            T::Subscription => Self::subscription,
        }
    }
}

/// An operation's labels (its name, bounded, and its type), built once per operation.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct OperationLabels {
    operation: String,
    r#type: OperationType,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CodeLabels {
    code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelValue)]
#[allow(non_camel_case_types)]
pub enum UploadPath {
    /// `uploadMedia` through a GraphQL multipart request.
    multipart,
    /// A chunk of a resumable upload (`PATCH /uploads/{id}`).
    resumable,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct UploadLabels {
    path: UploadPath,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

fn seconds() -> Histogram {
    // 1 ms to about 33 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

fn statements() -> Histogram {
    // 1 to 512 statements.
    Histogram::new(exponential_buckets(1.0, 2.0, 10))
}

/// The server's metrics.
pub struct Metrics {
    registry: Registry,
    operations: Histograms<OperationLabels>,
    operation_statements: Histograms<OperationLabels>,
    operation_sql_seconds: Histograms<OperationLabels>,
    errors: Family<CodeLabels, Counter>,
    upload_bytes: Family<UploadLabels, Counter>,
    upload_seconds: Histograms<UploadLabels>,
    feed_lag: Histogram,
    names: Mutex<HashSet<String>>,
    codes: Mutex<HashSet<String>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("hypernet");
        let operations: Histograms<OperationLabels> = Family::new_with_constructor(seconds);
        registry.register(
            "graphql_operation_duration_seconds",
            "GraphQL operations by name and type, and how long each took (a subscription: to be let in)",
            operations.clone(),
        );
        let operation_statements: Histograms<OperationLabels> =
            Family::new_with_constructor(statements);
        registry.register(
            "graphql_operation_sql_statements",
            "SQL statements a GraphQL request sent (a batch counts under its first operation)",
            operation_statements.clone(),
        );
        let operation_sql_seconds: Histograms<OperationLabels> =
            Family::new_with_constructor(seconds);
        registry.register(
            "graphql_operation_sql_duration_seconds",
            "Time a GraphQL request spent in SQL statements (summed over those that ran at once)",
            operation_sql_seconds.clone(),
        );
        let errors = Family::<CodeLabels, Counter>::default();
        registry.register(
            "graphql_errors",
            "GraphQL errors by extensions.code",
            errors.clone(),
        );
        let upload_bytes = Family::<UploadLabels, Counter>::default();
        registry.register(
            "upload_bytes",
            "Bytes received by uploads",
            upload_bytes.clone(),
        );
        let upload_seconds: Histograms<UploadLabels> = Family::new_with_constructor(seconds);
        registry.register(
            "upload_duration_seconds",
            "How long an upload request took (a resumable upload: each chunk)",
            upload_seconds.clone(),
        );
        let feed_lag = seconds();
        registry.register(
            "feed_lag_seconds",
            "From a change being written to its event being taken for a subscriber (a replay counts its age)",
            feed_lag.clone(),
        );
        Self {
            registry,
            operations,
            operation_statements,
            operation_sql_seconds,
            errors,
            upload_bytes,
            upload_seconds,
            feed_lag,
            names: Mutex::new(HashSet::new()),
            codes: Mutex::new(HashSet::new()),
        }
    }

    /// `name` if it is counted apart, else `other`.
    fn bounded(set: &Mutex<HashSet<String>>, max: usize, name: &str) -> String {
        let mut set = set.lock().unwrap_or_else(|e| e.into_inner());
        if set.contains(name) {
            return name.to_string();
        }
        if set.len() < max {
            set.insert(name.to_string());
            return name.to_string();
        }
        "other".to_string()
    }

    /// The labels an operation named `name` (`None`: anonymous) of type `ty` is counted under.
    pub(crate) fn labels(&self, name: Option<&str>, ty: OperationType) -> OperationLabels {
        let operation = match name {
            Some(name) => Self::bounded(&self.names, MAX_OPERATIONS, name),
            None => "anonymous".to_string(),
        };
        OperationLabels {
            operation,
            r#type: ty,
        }
    }

    /// One operation that ran for `elapsed`, and the codes of its errors.
    pub(crate) fn operation<'a>(
        &self,
        labels: &OperationLabels,
        elapsed: Duration,
        codes: impl IntoIterator<Item = &'a str>,
    ) {
        self.operations
            .get_or_create(labels)
            .observe(elapsed.as_secs_f64());
        for code in codes {
            self.error(code);
        }
    }

    /// An error with this code (one refused before any operation ran, say).
    pub fn error(&self, code: &str) {
        let code = Self::bounded(&self.codes, MAX_CODES, code);
        self.errors.get_or_create(&CodeLabels { code }).inc();
    }

    /// The SQL a request sent.
    pub(crate) fn request_sql(&self, labels: &OperationLabels, sql: &SqlUse) {
        self.operation_statements
            .get_or_create(labels)
            .observe(sql.statements() as f64);
        self.operation_sql_seconds
            .get_or_create(labels)
            .observe(sql.time().as_secs_f64());
    }

    /// An upload request that received `bytes` in `elapsed`.
    pub fn upload(&self, path: UploadPath, bytes: u64, elapsed: Duration) {
        let labels = UploadLabels { path };
        self.upload_bytes.get_or_create(&labels).inc_by(bytes);
        self.upload_seconds
            .get_or_create(&labels)
            .observe(elapsed.as_secs_f64());
    }

    /// A feed event answered `lag` after its change committed.
    pub fn feed_lag(&self, lag: Duration) {
        self.feed_lag.observe(lag.as_secs_f64());
    }

    /// The metrics in the text format, appended to `out`.
    pub fn encode(&self, out: &mut String) {
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode_registry(out, &self.registry);
    }
}

/// The SQL statements a request sent, and the time they took.
#[derive(Debug, Default)]
pub struct SqlUse {
    statements: AtomicU64,
    nanos: AtomicU64,
}

impl SqlUse {
    pub fn statements(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    pub fn time(&self) -> Duration {
        Duration::from_nanos(self.nanos.load(Ordering::Relaxed))
    }

    fn add(&self, elapsed: Duration) {
        self.statements.fetch_add(1, Ordering::Relaxed);
        self.nanos
            .fetch_add(elapsed.as_nanos() as u64, Ordering::Relaxed);
    }
}

tokio::task_local! {
    static SQL_USE: std::sync::Arc<SqlUse>;
}

/// Runs `work`, adding the statements it sends through [`crate::db::Db`] to `sql`.
pub async fn measuring_sql<F: Future>(sql: std::sync::Arc<SqlUse>, work: F) -> F::Output {
    SQL_USE.scope(sql, work).await
}

/// Records a statement of the running task, if it is measured.
pub(crate) fn record_statement(elapsed: Duration) {
    let _ = SQL_USE.try_with(|sql| sql.add(elapsed));
}
