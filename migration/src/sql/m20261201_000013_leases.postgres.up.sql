-- Leases: a job that one instance at a time may do (the maintenance sweep) is done by the
-- holder of its lease until the lease expires; a backup holds `backup/<id>` while it copies
-- stored bytes, and no bytes are deleted while any such hold is live.
CREATE TABLE leases (
    name        text PRIMARY KEY,
    holder      text NOT NULL,
    expires_at  timestamptz NOT NULL
);

-- Stored bytes that nothing references any more, whose deletion waits for the backups that
-- were running to end (the maintenance sweep deletes them once no hold is live).
CREATE TABLE blob_deletions (
    hash          text PRIMARY KEY,
    requested_at  timestamptz NOT NULL DEFAULT now()
);
