use clap::Parser;
use hypernet::cli::{self, Cli};

/// mimalloc: a GraphQL response is thousands of small, short-lived allocations, and glibc's
/// malloc spent a fifth of the album page's server time on them (perf, bench/README.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let telemetry = hypernet::telemetry::init(cli.config.otlp_endpoint.as_deref())?;
    let outcome = cli::run(cli).await;
    // The batch exporter sends from a thread of its own, on this runtime: flush off it.
    tokio::task::spawn_blocking(move || telemetry.shutdown())
        .await
        .ok();
    outcome
}
