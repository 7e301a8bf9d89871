use clap::Parser;
use hypernet::cli::{self, Cli};
use tracing_subscriber::EnvFilter;

/// mimalloc: a GraphQL response is thousands of small, short-lived allocations, and glibc's
/// malloc spent a fifth of the album page's server time on them (perf, bench/README.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    cli::run(cli).await
}
