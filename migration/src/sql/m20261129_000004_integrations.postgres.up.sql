-- Integrations: the key that encrypted each row of secrets, the sync lease that keeps two syncs
-- of one integration from running at once, and the index behind "was this item imported?".

ALTER TABLE integration_secrets ADD COLUMN key_id varchar(32);
ALTER TABLE integrations ADD COLUMN sync_lease_until timestamptz;

CREATE INDEX idx_links_source_external ON links (to_object_id, (metadata ->> 'external_id'))
    WHERE link_type = 'source' AND deleted_at IS NULL;
