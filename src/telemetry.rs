//! Logs to standard error (filtered by `RUST_LOG`), and, when `HYPERNET_OTLP_ENDPOINT` is set,
//! traces sent to an OpenTelemetry collector over OTLP (HTTP, protobuf): the server's spans (a
//! span per request, with its request id; one per SQL statement inside it) and everything of
//! `hypernet` at `debug` and above, whatever `RUST_LOG` says.

use std::fmt::Debug;

use anyhow::Context;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_http::{Bytes, HttpClient, HttpError, Request, Response};
use opentelemetry_otlp::{WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::filter::{EnvFilter, LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{Layer, fmt};

/// What [`init`] set up; [`Telemetry::shutdown`] sends the spans not yet sent.
#[must_use]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Sends what is buffered and stops the exporter.
    pub fn shutdown(self) {
        if let Some(provider) = self.provider
            && let Err(err) = provider.shutdown()
        {
            eprintln!("hypernet: sending the last traces failed: {err}");
        }
    }
}

/// Installs the process's subscriber. `otlp_endpoint` is the collector's base URL (as
/// `OTEL_EXPORTER_OTLP_ENDPOINT`: `http://collector:4318`); traces go to `/v1/traces` there.
/// Call it inside the Tokio runtime: the exporter sends on it.
pub fn init(otlp_endpoint: Option<&str>) -> anyhow::Result<Telemetry> {
    let logs = fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn")),
        );
    let Some(endpoint) = otlp_endpoint.filter(|e| !e.is_empty()) else {
        tracing_subscriber::registry().with(logs).init();
        return Ok(Telemetry { provider: None });
    };
    let traces_url = format!("{}/v1/traces", endpoint.trim_end_matches('/'));
    // One TLS provider for the process: ring (as the S3 client).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_http_client(OnRuntime {
            client: reqwest::Client::new(),
            runtime: tokio::runtime::Handle::try_current()
                .context("the OTLP exporter needs the Tokio runtime")?,
        })
        .with_endpoint(&traces_url)
        .build()
        .with_context(|| format!("HYPERNET_OTLP_ENDPOINT {endpoint:?}"))?;
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(
            Resource::builder()
                .with_service_name("hypernet")
                .with_attribute(opentelemetry::KeyValue::new(
                    "service.version",
                    env!("CARGO_PKG_VERSION"),
                ))
                .build(),
        )
        .build();
    let traces = tracing_opentelemetry::layer()
        .with_tracer(provider.tracer("hypernet"))
        .with_filter(
            Targets::new()
                .with_target("hypernet", LevelFilter::DEBUG)
                .with_target("tower_http", LevelFilter::INFO),
        );
    tracing_subscriber::registry()
        .with(logs)
        .with(traces)
        .init();
    tracing::info!(endpoint = %traces_url, "sending traces over OTLP");
    Ok(Telemetry {
        provider: Some(provider),
    })
}

/// The exporter's HTTP client: the batch processor exports from a thread of its own, so each
/// request is sent on the server's runtime and awaited from there.
#[derive(Debug)]
struct OnRuntime {
    client: reqwest::Client,
    runtime: tokio::runtime::Handle,
}

#[async_trait::async_trait]
impl HttpClient for OnRuntime {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let (parts, body) = request.into_parts();
        let mut outgoing = self.client.request(parts.method, parts.uri.to_string());
        for (name, value) in &parts.headers {
            outgoing = outgoing.header(name, value);
        }
        let outgoing = outgoing.body(body);
        let sent = self
            .runtime
            .spawn(async move {
                let response = outgoing.send().await?;
                let status = response.status();
                let headers = response.headers().clone();
                let body = response.bytes().await?;
                Ok::<_, reqwest::Error>((status, headers, body))
            })
            .await??;
        let (status, headers, body) = sent;
        let mut response = Response::builder().status(status.as_u16());
        for (name, value) in &headers {
            response = response.header(name.as_str(), value.as_bytes());
        }
        Ok(response.body(body)?)
    }
}
