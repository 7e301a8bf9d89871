//! Building and running the server: connect, migrate, load secrets, bind, serve.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use migration::{Migrator, MigratorTrait};
use tokio::net::TcpListener;

use crate::auth::{password, secret_file};
use crate::config::Config;
use crate::db::{self, Db, StatementCounter};
use crate::graphql::{self, documents::Documents, limits::Limits};
use crate::http::{self, AppState, HttpLimits};
use crate::service::{Services, maintenance, variants};

/// A server ready to run: its database is migrated and its port is bound.
pub struct App {
    listener: TcpListener,
    router: axum::Router,
    port: u16,
    shutdown_grace: Duration,
    db: Db,
    /// The live change feed, stopped (its sockets closed) when the server stops.
    feed: Arc<crate::service::feed::Feed>,
}

/// The services the CLI's commands use, on a migrated database.
pub async fn services(config: &Config) -> anyhow::Result<Arc<Services>> {
    // A command does one thing at a time: one connection, so that on SQLite it never waits
    // on a lock held by another connection of its own.
    let config = &Config {
        db_max_connections: 1,
        ..config.clone()
    };
    let (db, _) = connect_and_migrate(config).await?;
    let secret = jwt_secret(config)?;
    // No thumbnail worker here: the next `serve` picks up whatever is missing.
    let (services, _jobs) = Services::new(db, config, &secret)?;
    Ok(Arc::new(services))
}

/// Applies pending migrations (as the schema's owner when one is configured, granting the
/// server's role its rows) and opens the server's pool.
async fn connect_and_migrate(config: &Config) -> anyhow::Result<(Db, Arc<StatementCounter>)> {
    let orm = db::connect(config).await?;
    let owner = match config.owner_database_url {
        Some(_) => Some(db::connect_owner(config).await?),
        None => None,
    };
    let migrator = owner.as_ref().unwrap_or(&orm);
    // The grants under the same lock as the migrations: processes granting the same tables
    // at once fail with "tuple concurrently updated".
    db::migrating(&config.owner_url(), async {
        Migrator::up(migrator, None)
            .await
            .context("applying database migrations")?;
        db::grant_server_role(migrator, config).await
    })
    .await??;
    if let Some(owner) = owner {
        owner.close().await.ok();
    }
    db::open(config, orm).await
}

/// The file in the data dir of the token signing key, when `HYPERNET_JWT_SECRET` is unset.
pub const JWT_SECRET_FILE: &str = "jwt_secret";

fn jwt_secret(config: &Config) -> anyhow::Result<Vec<u8>> {
    match &config.jwt_secret {
        Some(secret) => Ok(secret.as_bytes().to_vec()),
        None => secret_file::load_or_create(&config.data_dir, JWT_SECRET_FILE, 32),
    }
}

impl App {
    /// Connects, applies pending migrations, and binds `config.bind` (port 0 picks one).
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let (db, statements) = connect_and_migrate(&config).await?;
        let secret = jwt_secret(&config)?;
        let (services, jobs) = Services::new(db.clone(), &config, &secret)?;
        let services = Arc::new(services);
        tokio::task::spawn_blocking(password::warm_up);
        tokio::spawn(variants::run_worker(services.clone(), jobs));
        services
            .feed
            .start(db.clone(), config.effective_database_url());
        if config.maintenance_interval_secs > 0 {
            tokio::spawn(maintenance::run_periodic(
                services.clone(),
                Duration::from_secs(config.maintenance_interval_secs),
            ));
        }
        let graphql_limits = Limits::from_config(&config);
        let schema = graphql::build_schema(services.clone(), graphql_limits, config.executor);
        let state = AppState {
            schema,
            executor: config.executor,
            graphql_limits,
            documents: Arc::new(Documents::new()),
            cors_origins: Arc::new(config.cors_origins.clone()),
            documents_mode: config.documents,
            services,
            statements,
            limits: HttpLimits {
                max_body_bytes: config.max_body_bytes,
                max_batch: config.max_batch,
                trust_forwarded_for: config.trust_forwarded_for,
                ws_send_timeout: Duration::from_secs(config.ws_send_timeout_secs.max(1)),
                session_check_secs: config.session_check_secs,
            },
        };
        let services_feed = state.services.feed.clone();
        let listener = TcpListener::bind(config.bind)
            .await
            .with_context(|| format!("binding {}", config.bind))?;
        let port = listener.local_addr()?.port();
        Ok(Self {
            listener,
            router: http::router(state),
            port,
            shutdown_grace: Duration::from_secs(config.shutdown_grace_secs),
            db,
            feed: services_feed,
        })
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The database pool (tests read the schema catalogs through it).
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Serves until SIGINT or SIGTERM, then drains for at most the shutdown grace period.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.run(shutdown_signal()).await
    }

    /// Serves until `shutdown` completes, then waits at most the grace period for requests in
    /// flight.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let grace = self.shutdown_grace;
        let feed = self.feed.clone();
        let (stopping_tx, stopping_rx) = tokio::sync::oneshot::channel::<()>();
        let server = axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            shutdown.await;
            tracing::info!("shutting down; draining requests in flight");
            // WebSockets are not requests the server waits for: they close, and their
            // clients connect again elsewhere.
            feed.stop();
            let _ = stopping_tx.send(());
        });
        let deadline = async move {
            if stopping_rx.await.is_ok() {
                tokio::time::sleep(grace).await;
            } else {
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            result = server => result.context("serving HTTP")?,
            () = deadline => tracing::warn!(?grace, "requests still in flight after the grace period; stopping anyway"),
        }
        self.db.close().await;
        Ok(())
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        tokio::signal::ctrl_c().await.ok();
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sig) => {
                sig.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
