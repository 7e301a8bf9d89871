//! The `hypernet` command line: `serve` (the default), `migrate`, `schema`, `purge`,
//! `backup`, `restore`, `secrets`, `user`, `documents`.

use std::io::BufRead;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use migration::{Migrator, MigratorTrait};

use crate::config::Config;
use crate::startup::{self, App};

#[derive(Debug, Parser)]
#[command(
    name = "hypernet",
    version,
    about = "Hypernet Core: a GraphQL server over a personal media library"
)]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply pending migrations, then serve HTTP (the default).
    Serve,
    /// Manage the database schema.
    Migrate {
        #[command(subcommand)]
        action: MigrateAction,
    },
    /// Print the GraphQL schema (SDL).
    Schema,
    /// Purge what the trash retention and upload expiry release now (`serve` does it hourly).
    Purge,
    /// Back up the database and the stored bytes it references into DIR (new or empty), while
    /// the server runs.
    Backup {
        dir: std::path::PathBuf,
        /// `copy` the referenced blobs into the backup, or `list` them with their hashes (for
        /// an object store that keeps its own copies).
        #[arg(long, value_enum, default_value_t = crate::backup::BlobsMode::Copy)]
        blobs: crate::backup::BlobsMode,
    },
    /// Restore a backup made by `hypernet backup` into the configured database, store and data
    /// dir, after checking every file against its manifest. Stop the servers first.
    Restore {
        dir: std::path::PathBuf,
        /// Replace a database that is not empty.
        #[arg(long)]
        force: bool,
    },
    /// Manage the key that seals integration credentials.
    Secrets {
        #[command(subcommand)]
        action: SecretsAction,
    },
    /// Manage accounts.
    User {
        #[command(subcommand)]
        action: UserAction,
    },
    /// Manage the trusted documents (`HYPERNET_DOCUMENTS=trusted` runs only those).
    Documents {
        #[command(subcommand)]
        action: DocumentsAction,
    },
}

#[derive(Debug, Subcommand)]
pub enum DocumentsAction {
    /// Add the documents of a persisted-documents file as trusted: the JSON object of id to
    /// text that relay-compiler (`persistConfig`) and graphql-codegen's client preset
    /// (`persistedDocuments`) write, or Apollo's persisted query manifest.
    Add {
        /// The file.
        file: std::path::PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum MigrateAction {
    /// Apply every pending migration.
    Up,
    /// Roll back the last migration (or `-n N` of them, or `--all`).
    Down {
        /// Roll back every applied migration.
        #[arg(long, conflicts_with = "steps")]
        all: bool,
        /// How many migrations to roll back.
        #[arg(short = 'n', long = "steps", default_value_t = 1)]
        steps: u32,
    },
    /// List migrations and whether each is applied.
    Status,
    /// Roll back every migration, then apply them all again (destroys all data).
    Fresh,
}

#[derive(Debug, Subcommand)]
pub enum SecretsAction {
    /// Re-seal every integration secret under a new key. With a generated key (the default)
    /// the new key replaces `<data dir>/secrets_key`; with `HYPERNET_SECRETS_KEY`, pass the new
    /// key with `--new-key`, then set it in the environment.
    Rotate {
        /// The new key, 64 hex digits (default: a random one).
        #[arg(long, env = "HYPERNET_NEW_SECRETS_KEY", hide_env_values = true)]
        new_key: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserAction {
    /// Create an account; the password is read from standard input.
    Create {
        email: String,
        /// Make the account an admin.
        #[arg(long)]
        admin: bool,
    },
    /// Set an account's password (read from standard input) and end its sessions.
    SetPassword { email: String },
    /// Set an account's storage quota in bytes.
    SetQuota { email: String, bytes: i64 },
}

/// Runs one command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve) {
        // Each request runs in its caller's scope, each background job in the system's.
        Command::Serve => serve(cli.config).await,
        // The operator's commands may touch any user's rows (see `db::scope`).
        command => crate::db::as_system(operate(cli.config, command)).await,
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let app = App::build(config.clone()).await?;
    tracing::info!(
        "Hypernet listening on http://{}:{}/graphql",
        config.bind.ip(),
        app.port()
    );
    app.run_until_stopped().await
}

async fn operate(config: Config, command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve => serve(config).await,
        Command::Schema => {
            print!("{}", crate::graphql::sdl());
            Ok(())
        }
        Command::Migrate { action } => migrate(&config, action).await,
        Command::User { action } => user(&config, action).await,
        Command::Documents {
            action: DocumentsAction::Add { file },
        } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let docs = crate::service::documents::parse_documents_file(&text)
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            let services = startup::services(&config).await?;
            let added = services
                .add_trusted_documents(&docs)
                .await
                .map_err(|e| e.into_anyhow())?;
            println!(
                "{} trusted documents in {} ({added} new)",
                docs.len(),
                file.display()
            );
            Ok(())
        }
        Command::Secrets {
            action: SecretsAction::Rotate { new_key },
        } => rotate_secrets(&config, new_key).await,
        Command::Backup { dir, blobs } => {
            let report = crate::backup::backup(&config, &dir, blobs).await?;
            println!("backed up into {}: {report}", dir.display());
            Ok(())
        }
        Command::Restore { dir, force } => {
            let report = crate::backup::restore(&config, &dir, force).await?;
            println!("restored from {}: {report}", dir.display());
            Ok(())
        }
        Command::Purge => {
            let services = startup::services(&config).await?;
            let report = services.purge_expired().await?;
            println!(
                "purged {}, {} expired upload sessions and {} journal events; deleted {} blobs that had waited for a backup",
                report.purged(),
                report.upload_sessions,
                report.changes,
                report.blobs
            );
            Ok(())
        }
    }
}

async fn migrate(config: &Config, action: MigrateAction) -> anyhow::Result<()> {
    let db = crate::db::connect_owner(config).await?;
    if let MigrateAction::Status = action {
        for m in Migrator::get_migration_with_status(&db).await? {
            let status = m.status().to_string().to_lowercase();
            println!("{status:8} {}", m.name());
        }
        return Ok(());
    }
    // The change and the grants that follow it under one lock: processes granting the same
    // tables at once fail with "tuple concurrently updated".
    crate::db::migrating(&config.owner_url(), async {
        match action {
            MigrateAction::Up => Migrator::up(&db, None).await?,
            MigrateAction::Down { all: true, .. } => Migrator::down(&db, None).await?,
            MigrateAction::Down { steps, .. } => Migrator::down(&db, Some(steps)).await?,
            MigrateAction::Fresh => Migrator::refresh(&db).await?,
            MigrateAction::Status => unreachable!("answered above"),
        }
        crate::db::grant_server_role(&db, config).await
    })
    .await??;
    for m in Migrator::get_migration_with_status(&db).await? {
        tracing::info!(migration = m.name(), status = %m.status(), "migration");
    }
    Ok(())
}

async fn rotate_secrets(config: &Config, new_key: Option<String>) -> anyhow::Result<()> {
    use crate::auth::secret_box::SecretBox;
    use crate::service::SECRETS_KEY_FILE;
    let from_env = config.secrets_key.is_some();
    let new_hex = match (new_key, from_env) {
        (Some(k), _) => k,
        (None, true) => bail!(
            "HYPERNET_SECRETS_KEY is set: pass the new key with --new-key, then put it in HYPERNET_SECRETS_KEY"
        ),
        (None, false) => hex::encode(rand::random::<[u8; 32]>()),
    };
    let new = SecretBox::from_hex(&new_hex)?;
    let services = startup::services(config).await?;
    let key_file = config.data_dir.join(SECRETS_KEY_FILE);
    let next = config.data_dir.join(format!("{SECRETS_KEY_FILE}.next"));
    if !from_env {
        // The new key is on disk before any row is sealed with it.
        crate::auth::secret_file::write_private(&next, new_hex.as_bytes())?;
    }
    let rows = match services.rotate_secrets(&new).await {
        Ok(rows) => rows,
        Err(e) => {
            std::fs::remove_file(&next).ok();
            return Err(e.context("re-sealing the secrets (nothing was changed)"));
        }
    };
    if !from_env {
        std::fs::rename(
            &key_file,
            config.data_dir.join(format!("{SECRETS_KEY_FILE}.previous")),
        )
        .context("keeping the previous key")?;
        std::fs::rename(&next, &key_file).context("installing the new key")?;
    }
    println!(
        "re-sealed {rows} rows of integration secrets under key {}",
        new.key_id()
    );
    Ok(())
}

fn read_password() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    let password = line.trim_end_matches(['\r', '\n']).to_string();
    if password.is_empty() {
        bail!("no password on standard input");
    }
    Ok(password)
}

async fn user(config: &Config, action: UserAction) -> anyhow::Result<()> {
    let services = startup::services(config).await?;
    let outcome = match action {
        UserAction::Create { email, admin } => {
            let password = read_password()?;
            services
                .create_user_as_operator(&email, password, admin)
                .await
                .map(|u| println!("created {} ({})", u.email, u.id))
        }
        UserAction::SetPassword { email } => {
            let password = read_password()?;
            services
                .set_password_as_operator(&email, password)
                .await
                .map(|()| println!("password set; every session of {email} ended"))
        }
        UserAction::SetQuota { email, bytes } => services
            .set_quota_as_operator(&email, bytes)
            .await
            .map(|()| println!("quota of {email} set to {bytes} bytes")),
    };
    outcome.map_err(|e| e.into_anyhow())
}
