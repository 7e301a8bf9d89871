//! The lifetime of stored bytes. Bytes are stored once per hash and shared by every row with
//! that hash, whoever's it is, so they may only be deleted when no row uses them, and the two
//! sides must not interleave: a purge that finds a hash unused and a transaction whose new row
//! starts using the bytes it found stored would otherwise leave that row naming deleted bytes.
//!
//! Both sides hold the hash's lock (`store::media::lock_hashes`) across their decision: the
//! deleting side exclusively, from its check that no row uses the hash until the bytes are
//! gone; the using side shared, from its check that the bytes are there until its rows commit.
//! Whichever comes second sees what the first did: a purge after the commit sees the row and
//! keeps the bytes; a row after the purge finds the bytes gone and writes them again.

use std::path::Path;

use super::Services;
use crate::db::Txn;
use crate::error::AppResult;
use crate::storage::blob_key;
use crate::store;
use crate::store::media::HashLock;

/// Where the bytes of a row being written can be had again.
pub(crate) enum BlobSource<'a> {
    File(&'a Path),
    Bytes(&'a [u8]),
}

impl Services {
    /// Keeps the bytes of `hashes` stored for rows that `txn` writes: holds their locks
    /// (shared) until `txn` ends, and writes again any a purge deleted since they were found
    /// stored. Call it after the rows are written and before the commit.
    pub(super) async fn keep_blobs(
        &self,
        txn: &Txn,
        blobs: &[(&str, BlobSource<'_>)],
    ) -> AppResult<()> {
        let hashes: Vec<&str> = blobs.iter().map(|(hash, _)| *hash).collect();
        store::media::lock_hashes(txn, &hashes, HashLock::Shared).await?;
        for (hash, source) in blobs {
            let key = blob_key(hash);
            if !self.blobs.exists(&key).await? {
                match source {
                    BlobSource::File(path) => self.blobs.put_file(&key, path).await?,
                    BlobSource::Bytes(bytes) => {
                        self.blobs.put_bytes(&key, bytes.to_vec().into()).await?
                    }
                }
            }
        }
        Ok(())
    }

    /// Deletes the stored bytes of these hashes that no row uses any more (call it after the
    /// rows' deletion has committed). While a backup holds the stored bytes (its database
    /// snapshot may still reference these), the deletions are recorded instead, and done by
    /// the first sweep after the backup.
    pub(super) async fn delete_unused_blobs(
        &self,
        hashes: impl IntoIterator<Item = &str>,
    ) -> AppResult<()> {
        let hashes: Vec<&str> = hashes.into_iter().collect();
        if hashes.is_empty() {
            return Ok(());
        }
        let held = store::leases::backup_holds(&self.db).await?;
        let txn = self.db.begin_write().await?;
        store::media::lock_hashes(&txn, &hashes, HashLock::Exclusive).await?;
        for hash in hashes {
            if store::media::hash_in_use(&txn, hash).await? {
                continue;
            }
            if held {
                store::leases::defer_deletion(&txn, hash).await?;
            } else {
                self.blobs.delete(&blob_key(hash)).await?;
            }
        }
        txn.commit().await?;
        Ok(())
    }

    /// Deletes the bytes whose deletion waited for a backup, once no backup holds them.
    pub(super) async fn delete_deferred_blobs(&self) -> anyhow::Result<usize> {
        let mut deleted = 0;
        loop {
            if store::leases::backup_holds(&self.db).await? {
                return Ok(deleted);
            }
            let hashes = store::leases::deferred(&self.db, 100).await?;
            if hashes.is_empty() {
                return Ok(deleted);
            }
            let txn = self.db.begin_write().await?;
            let locked: Vec<&str> = hashes.iter().map(String::as_str).collect();
            store::media::lock_hashes(&txn, &locked, HashLock::Exclusive).await?;
            for hash in &hashes {
                if !store::media::hash_in_use(&txn, hash).await? {
                    self.blobs.delete(&blob_key(hash)).await?;
                    deleted += 1;
                }
                store::leases::forget_deletion(&txn, hash).await?;
            }
            txn.commit().await?;
        }
    }
}
