DROP INDEX IF EXISTS idx_links_source_external;
ALTER TABLE integrations DROP COLUMN sync_lease_until;
ALTER TABLE integration_secrets DROP COLUMN key_id;
