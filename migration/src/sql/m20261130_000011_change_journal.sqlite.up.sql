-- The change journal: for each user, an append-only sequence of what happened to their
-- objects (created, updated, deleted to the trash, restored, purged) and to their account,
-- written by triggers in the transaction of the change itself, whatever wrote it. `seq` is
-- the user's own counter; SQLite runs one write transaction at a time, so a user's events
-- commit in `seq` order. `fields` names the fields of the GraphQL type that changed.
-- Thumbnails (and their links) are not journaled: they are not objects of the library.
CREATE TABLE change_heads (
    user_id          blob PRIMARY KEY NOT NULL,
    seq              integer NOT NULL,
    -- Events up to this one were trimmed (retention): a cursor before it has expired.
    trimmed_through  integer NOT NULL DEFAULT 0
);
CREATE TABLE changes (
    user_id      blob NOT NULL,
    seq          integer NOT NULL,
    kind         text NOT NULL
                 CONSTRAINT changes_kind_check CHECK (kind IN ('created', 'updated', 'deleted', 'restored', 'purged')),
    object_type  text NOT NULL,
    object_id    blob NOT NULL,
    fields       text NOT NULL DEFAULT '[]' CHECK (json_valid(fields)),
    created_at   text NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    PRIMARY KEY (user_id, seq)
) WITHOUT ROWID;
CREATE INDEX idx_changes_created_at ON changes (created_at);

CREATE TRIGGER trg_media_journal_insert AFTER INSERT ON media
    FOR EACH ROW
    WHEN NEW.source_type IS NOT 'variant'
BEGIN
    INSERT INTO change_heads (user_id, seq) VALUES (NEW.user_id, 1)
        ON CONFLICT (user_id) DO UPDATE SET seq = seq + 1;
    INSERT INTO changes (user_id, seq, kind, object_type, object_id, fields)
        SELECT NEW.user_id, seq, 'created', 'Media', NEW.id, '[]'
        FROM change_heads WHERE user_id = NEW.user_id;
END;
CREATE TRIGGER trg_media_journal_delete AFTER DELETE ON media
    FOR EACH ROW
    WHEN OLD.source_type IS NOT 'variant'
BEGIN
    INSERT INTO change_heads (user_id, seq) VALUES (OLD.user_id, 1)
        ON CONFLICT (user_id) DO UPDATE SET seq = seq + 1;
    INSERT INTO changes (user_id, seq, kind, object_type, object_id, fields)
        SELECT OLD.user_id, seq, 'purged', 'Media', OLD.id, '[]'
        FROM change_heads WHERE user_id = OLD.user_id;
END;
CREATE TRIGGER trg_media_journal_update AFTER UPDATE ON media
    FOR EACH ROW WHEN NEW.source_type IS NOT 'variant' AND (NEW.filename IS NOT OLD.filename OR NEW.media_type IS NOT OLD.media_type OR NEW.mime_type IS NOT OLD.mime_type OR NEW.size IS NOT OLD.size OR NEW.width IS NOT OLD.width OR NEW.height IS NOT OLD.height OR NEW.duration_ms IS NOT OLD.duration_ms OR NEW.hash IS NOT OLD.hash OR NEW.taken_at IS NOT OLD.taken_at OR NEW.metadata IS NOT OLD.metadata OR NEW.deleted_at IS NOT OLD.deleted_at)
BEGIN
    INSERT INTO change_heads (user_id, seq) VALUES (NEW.user_id, 1)
        ON CONFLICT (user_id) DO UPDATE SET seq = seq + 1;
    INSERT INTO changes (user_id, seq, kind, object_type, object_id, fields)
        SELECT NEW.user_id, seq, CASE WHEN OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL THEN 'deleted' WHEN OLD.deleted_at IS NOT NULL AND NEW.deleted_at IS NULL THEN 'restored' ELSE 'updated' END, 'Media', NEW.id, (SELECT json_group_array(f) FROM (SELECT 'filename' AS f WHERE NEW.filename IS NOT OLD.filename UNION ALL SELECT 'mediaType' AS f WHERE NEW.media_type IS NOT OLD.media_type UNION ALL SELECT 'mimeType' AS f WHERE NEW.mime_type IS NOT OLD.mime_type UNION ALL SELECT 'size' AS f WHERE NEW.size IS NOT OLD.size UNION ALL SELECT 'width' AS f WHERE NEW.width IS NOT OLD.width UNION ALL SELECT 'height' AS f WHERE NEW.height IS NOT OLD.height UNION ALL SELECT 'durationMs' AS f WHERE NEW.duration_ms IS NOT OLD.duration_ms UNION ALL SELECT 'hash' AS f WHERE NEW.hash IS NOT OLD.hash UNION ALL SELECT 'takenAt' AS f WHERE NEW.taken_at IS NOT OLD.taken_at UNION ALL SELECT 'metadata' AS f WHERE NEW.metadata IS NOT OLD.metadata))
        FROM change_heads WHERE user_id = NEW.user_id;
END;
CREATE TRIGGER trg_albums_journal_insert AFTER INSERT ON albums
    FOR EACH ROW
BEGIN
    INSERT INTO change_heads (user_id, seq) VALUES (NEW.user_id, 1)
        ON CONFLICT (user_id) DO UPDATE SET seq = seq + 1;
    INSERT INTO changes (user_id, seq, kind, object_type, object_id, fields)
        SELECT NEW.user_id, seq, 'created', 'Album', NEW.id, '[]'
        FROM change_heads WHERE user_id = NEW.user_id;
END;
CREATE TRIGGER trg_albums_journal_delete AFTER DELETE ON albums
    FOR EACH ROW
BEGIN
    INSERT INTO change_heads (user_id, seq) VALUES (OLD.user_id, 1)
        ON CONFLICT (user_id) DO UPDATE SET seq = seq + 1;
    INSERT INTO changes (user_id, seq, kind, object_type, object_id, fields)
        SELECT OLD.user_id, seq, 'purged', 'Album', OLD.id, '[]'
        FROM change_heads WHERE user_id = OLD.user_id;
END;
CREATE TRIGGER trg_albums_journal_update AFTER UPDATE ON albums
    FOR EACH ROW WHEN (NEW.name IS NOT OLD.name OR NEW.description IS NOT OLD.description OR NEW.cover_media_id IS NOT OLD.cover_media_id OR NEW.media_count IS NOT OLD.media_count OR NEW.metadata IS NOT OLD.metadata OR NEW.deleted_at IS NOT OLD.deleted_at)
BEGIN
    INSERT INTO change_heads (user_id, seq) VALUES (NEW.user_id, 1)
        ON CONFLICT (user_id) DO UPDATE SET seq = seq + 1;
    INSERT INTO changes (user_id, seq, kind, object_type, object_id, fields)
        SELECT NEW.user_id, seq, CASE WHEN OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL THEN 'deleted' WHEN OLD.deleted_at IS NOT NULL AND NEW.deleted_at IS NULL THEN 'restored' ELSE 'updated' END, 'Album', NEW.id, (SELECT json_group_array(f) FROM (SELECT 'name' AS f WHERE NEW.name IS NOT OLD.name UNION ALL SELECT 'description' AS f WHERE NEW.description IS NOT OLD.description UNION ALL SELECT 'coverMedia' AS f WHERE NEW.cover_media_id IS NOT OLD.cover_media_id UNION ALL SELECT 'mediaCount' AS f WHERE NEW.media_count IS NOT OLD.media_count UNION ALL SELECT 'metadata' AS f WHERE NEW.metadata IS NOT OLD.metadata))
        FROM change_heads WHERE user_id = NEW.user_id;
END;
CREATE TRIGGER trg_integrations_journal_insert AFTER INSERT ON integrations
    FOR EACH ROW
BEGIN
    INSERT INTO change_heads (user_id, seq) VALUES (NEW.user_id, 1)
        ON CONFLICT (user_id) DO UPDATE SET seq = seq + 1;
    INSERT INTO changes (user_id, seq, kind, object_type, object_id, fields)
        SELECT NEW.user_id, seq, 'created', 'Integration', NEW.id, '[]'
        FROM change_heads WHERE user_id = NEW.user_id;
END;
CREATE TRIGGER trg_integrations_journal_delete AFTER DELETE ON integrations
    FOR EACH ROW
BEGIN
    INSERT INTO change_heads (user_id, seq) VALUES (OLD.user_id, 1)
        ON CONFLICT (user_id) DO UPDATE SET seq = seq + 1;
    INSERT INTO changes (user_id, seq, kind, object_type, object_id, fields)
        SELECT OLD.user_id, seq, 'purged', 'Integration', OLD.id, '[]'
        FROM change_heads WHERE user_id = OLD.user_id;
END;
CREATE TRIGGER trg_integrations_journal_update AFTER UPDATE ON integrations
    FOR EACH ROW WHEN (NEW.integration_type IS NOT OLD.integration_type OR NEW.name IS NOT OLD.name OR NEW.status IS NOT OLD.status OR NEW.sync_cursor IS NOT OLD.sync_cursor OR NEW.last_sync_at IS NOT OLD.last_sync_at OR NEW.last_error IS NOT OLD.last_error OR NEW.config IS NOT OLD.config OR NEW.deleted_at IS NOT OLD.deleted_at)
BEGIN
    INSERT INTO change_heads (user_id, seq) VALUES (NEW.user_id, 1)
        ON CONFLICT (user_id) DO UPDATE SET seq = seq + 1;
    INSERT INTO changes (user_id, seq, kind, object_type, object_id, fields)
        SELECT NEW.user_id, seq, CASE WHEN OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL THEN 'deleted' WHEN OLD.deleted_at IS NOT NULL AND NEW.deleted_at IS NULL THEN 'restored' ELSE 'updated' END, 'Integration', NEW.id, (SELECT json_group_array(f) FROM (SELECT 'integrationType' AS f WHERE NEW.integration_type IS NOT OLD.integration_type UNION ALL SELECT 'name' AS f WHERE NEW.name IS NOT OLD.name UNION ALL SELECT 'status' AS f WHERE NEW.status IS NOT OLD.status UNION ALL SELECT 'syncCursor' AS f WHERE NEW.sync_cursor IS NOT OLD.sync_cursor UNION ALL SELECT 'lastSyncAt' AS f WHERE NEW.last_sync_at IS NOT OLD.last_sync_at UNION ALL SELECT 'lastError' AS f WHERE NEW.last_error IS NOT OLD.last_error UNION ALL SELECT 'config' AS f WHERE NEW.config IS NOT OLD.config))
        FROM change_heads WHERE user_id = NEW.user_id;
END;
CREATE TRIGGER trg_tags_journal_insert AFTER INSERT ON tags
    FOR EACH ROW
BEGIN
    INSERT INTO change_heads (user_id, seq) VALUES (NEW.user_id, 1)
        ON CONFLICT (user_id) DO UPDATE SET seq = seq + 1;
    INSERT INTO changes (user_id, seq, kind, object_type, object_id, fields)
        SELECT NEW.user_id, seq, 'created', 'Tag', NEW.id, '[]'
        FROM change_heads WHERE user_id = NEW.user_id;
END;
CREATE TRIGGER trg_tags_journal_delete AFTER DELETE ON tags
    FOR EACH ROW
BEGIN
    INSERT INTO change_heads (user_id, seq) VALUES (OLD.user_id, 1)
        ON CONFLICT (user_id) DO UPDATE SET seq = seq + 1;
    INSERT INTO changes (user_id, seq, kind, object_type, object_id, fields)
        SELECT OLD.user_id, seq, 'purged', 'Tag', OLD.id, '[]'
        FROM change_heads WHERE user_id = OLD.user_id;
END;
CREATE TRIGGER trg_tags_journal_update AFTER UPDATE ON tags
    FOR EACH ROW WHEN (NEW.name IS NOT OLD.name OR NEW.deleted_at IS NOT OLD.deleted_at)
BEGIN
    INSERT INTO change_heads (user_id, seq) VALUES (NEW.user_id, 1)
        ON CONFLICT (user_id) DO UPDATE SET seq = seq + 1;
    INSERT INTO changes (user_id, seq, kind, object_type, object_id, fields)
        SELECT NEW.user_id, seq, CASE WHEN OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL THEN 'deleted' WHEN OLD.deleted_at IS NOT NULL AND NEW.deleted_at IS NULL THEN 'restored' ELSE 'updated' END, 'Tag', NEW.id, (SELECT json_group_array(f) FROM (SELECT 'name' AS f WHERE NEW.name IS NOT OLD.name))
        FROM change_heads WHERE user_id = NEW.user_id;
END;
CREATE TRIGGER trg_links_journal_insert AFTER INSERT ON links
    FOR EACH ROW
    WHEN NEW.link_type IS NOT 'variant_of'
BEGIN
    INSERT INTO change_heads (user_id, seq) VALUES (NEW.user_id, 1)
        ON CONFLICT (user_id) DO UPDATE SET seq = seq + 1;
    INSERT INTO changes (user_id, seq, kind, object_type, object_id, fields)
        SELECT NEW.user_id, seq, 'created', 'Link', NEW.id, '[]'
        FROM change_heads WHERE user_id = NEW.user_id;
END;
CREATE TRIGGER trg_links_journal_delete AFTER DELETE ON links
    FOR EACH ROW
    WHEN OLD.link_type IS NOT 'variant_of'
BEGIN
    INSERT INTO change_heads (user_id, seq) VALUES (OLD.user_id, 1)
        ON CONFLICT (user_id) DO UPDATE SET seq = seq + 1;
    INSERT INTO changes (user_id, seq, kind, object_type, object_id, fields)
        SELECT OLD.user_id, seq, 'purged', 'Link', OLD.id, '[]'
        FROM change_heads WHERE user_id = OLD.user_id;
END;
CREATE TRIGGER trg_links_journal_update AFTER UPDATE ON links
    FOR EACH ROW WHEN NEW.link_type IS NOT 'variant_of' AND (NEW.strength IS NOT OLD.strength OR NEW.sort_order IS NOT OLD.sort_order OR NEW.metadata IS NOT OLD.metadata OR NEW.deleted_at IS NOT OLD.deleted_at)
BEGIN
    INSERT INTO change_heads (user_id, seq) VALUES (NEW.user_id, 1)
        ON CONFLICT (user_id) DO UPDATE SET seq = seq + 1;
    INSERT INTO changes (user_id, seq, kind, object_type, object_id, fields)
        SELECT NEW.user_id, seq, CASE WHEN OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL THEN 'deleted' WHEN OLD.deleted_at IS NOT NULL AND NEW.deleted_at IS NULL THEN 'restored' ELSE 'updated' END, 'Link', NEW.id, (SELECT json_group_array(f) FROM (SELECT 'strength' AS f WHERE NEW.strength IS NOT OLD.strength UNION ALL SELECT 'sortOrder' AS f WHERE NEW.sort_order IS NOT OLD.sort_order UNION ALL SELECT 'metadata' AS f WHERE NEW.metadata IS NOT OLD.metadata))
        FROM change_heads WHERE user_id = NEW.user_id;
END;
CREATE TRIGGER trg_users_journal_insert AFTER INSERT ON users
    FOR EACH ROW
BEGIN
    INSERT INTO change_heads (user_id, seq) VALUES (NEW.id, 1)
        ON CONFLICT (user_id) DO UPDATE SET seq = seq + 1;
    INSERT INTO changes (user_id, seq, kind, object_type, object_id, fields)
        SELECT NEW.id, seq, 'created', 'User', NEW.id, '[]'
        FROM change_heads WHERE user_id = NEW.id;
END;
CREATE TRIGGER trg_users_journal_delete AFTER DELETE ON users
    FOR EACH ROW
BEGIN
    INSERT INTO change_heads (user_id, seq) VALUES (OLD.id, 1)
        ON CONFLICT (user_id) DO UPDATE SET seq = seq + 1;
    INSERT INTO changes (user_id, seq, kind, object_type, object_id, fields)
        SELECT OLD.id, seq, 'purged', 'User', OLD.id, '[]'
        FROM change_heads WHERE user_id = OLD.id;
END;
CREATE TRIGGER trg_users_journal_update AFTER UPDATE ON users
    FOR EACH ROW WHEN (NEW.email IS NOT OLD.email OR NEW.display_name IS NOT OLD.display_name OR NEW.is_admin IS NOT OLD.is_admin OR NEW.storage_quota IS NOT OLD.storage_quota OR NEW.storage_used IS NOT OLD.storage_used OR NEW.deleted_at IS NOT OLD.deleted_at)
BEGIN
    INSERT INTO change_heads (user_id, seq) VALUES (NEW.id, 1)
        ON CONFLICT (user_id) DO UPDATE SET seq = seq + 1;
    INSERT INTO changes (user_id, seq, kind, object_type, object_id, fields)
        SELECT NEW.id, seq, CASE WHEN OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL THEN 'deleted' WHEN OLD.deleted_at IS NOT NULL AND NEW.deleted_at IS NULL THEN 'restored' ELSE 'updated' END, 'User', NEW.id, (SELECT json_group_array(f) FROM (SELECT 'email' AS f WHERE NEW.email IS NOT OLD.email UNION ALL SELECT 'displayName' AS f WHERE NEW.display_name IS NOT OLD.display_name UNION ALL SELECT 'isAdmin' AS f WHERE NEW.is_admin IS NOT OLD.is_admin UNION ALL SELECT 'storageQuota' AS f WHERE NEW.storage_quota IS NOT OLD.storage_quota UNION ALL SELECT 'storageUsed' AS f WHERE NEW.storage_used IS NOT OLD.storage_used))
        FROM change_heads WHERE user_id = NEW.id;
END;
