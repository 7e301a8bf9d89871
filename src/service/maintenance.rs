//! Housekeeping that `serve` runs periodically and `hypernet purge` runs on demand: the trash
//! retention, expired upload sessions, missing thumbnails, quota reservations, the change
//! journal's retention.

use std::sync::Arc;
use std::time::Duration;

use uuid::Uuid;

use super::Services;
use crate::kinds::Kind;
use crate::store;

/// What one purge run removed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PurgeReport {
    /// Objects purged from the trash, by kind (every kind of `service::trash::IN_TRASH`).
    pub(crate) items: Vec<(Kind, usize)>,
    /// Events of the change journal past its retention.
    pub changes: u64,
    pub upload_sessions: usize,
    /// Stored bytes whose deletion had waited for a backup to end.
    pub blobs: usize,
}

impl PurgeReport {
    /// Whether the run removed nothing at all.
    pub fn is_nothing(&self) -> bool {
        self.items.iter().all(|(_, n)| *n == 0)
            && self.changes == 0
            && self.upload_sessions == 0
            && self.blobs == 0
    }

    /// What was purged from the trash, as "2 media, 0 albums, 1 tags".
    pub fn purged(&self) -> String {
        let items: Vec<String> = self
            .items
            .iter()
            .map(|(kind, n)| format!("{n} {}", kind.spec().table))
            .collect();
        items.join(", ")
    }
}

impl Services {
    /// Purges every item whose retention in the trash has ended, expired upload sessions, and
    /// the change journal's events past its retention.
    pub async fn purge_expired(&self) -> anyhow::Result<PurgeReport> {
        let mut report = PurgeReport::default();
        let cutoff = store::now() - self.trash_retention;
        report.items = self
            .purge_deleted_before(cutoff)
            .await
            .map_err(|e| e.into_anyhow().context("purging the trash"))?;
        report.upload_sessions = self.expire_upload_sessions().await?;
        report.changes = self.trim_changes().await.map_err(|e| e.into_anyhow())?;
        report.blobs = self.delete_deferred_blobs().await?;
        Ok(report)
    }

    /// One maintenance pass.
    pub(crate) async fn maintain(&self) -> anyhow::Result<()> {
        let report = self.purge_expired().await?;
        let queued = self.queue_missing_variants(1000).await?;
        let forgotten =
            store::login_throttle::forget_stale(&self.db, store::now() - chrono::Duration::days(1))
                .await?;
        if !report.is_nothing() || queued > 0 || forgotten > 0 {
            tracing::info!(
                purged = %report.purged(),
                expired_uploads = report.upload_sessions,
                queued_thumbnails = queued,
                forgotten_login_throttles = forgotten,
                trimmed_changes = report.changes,
                deleted_deferred_blobs = report.blobs,
                "maintenance"
            );
        }
        Ok(())
    }
}

/// The lease that lets one instance at a time run the sweep.
const MAINTENANCE_LEASE: &str = "maintenance";

/// Runs [`Services::maintain`] now and then every `interval`, on one instance at a time: each
/// tick, the instance that holds (or can take) the `maintenance` lease sweeps and keeps the
/// lease for two intervals; the others skip the tick. When the holder stops, another takes
/// the lease over once it has expired.
pub(crate) async fn run_periodic(services: Arc<Services>, interval: Duration) {
    let holder = Uuid::now_v7().to_string();
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let hold_for = chrono::Duration::from_std(interval * 2).unwrap_or(chrono::Duration::hours(2));
    loop {
        ticker.tick().await;
        // The sweep works across users: the system's work.
        let sweep = async {
            let until = store::now() + hold_for;
            if !store::leases::take(&services.db, MAINTENANCE_LEASE, &holder, until).await? {
                tracing::debug!("maintenance: another instance holds the lease");
                return Ok(());
            }
            services.maintain().await
        };
        if let Err(err) = crate::db::as_system(sweep).await {
            tracing::warn!(error = format!("{err:#}"), "maintenance failed");
        }
    }
}
