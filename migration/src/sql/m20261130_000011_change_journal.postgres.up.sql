-- The change journal: for each user, an append-only sequence of what happened to their
-- objects (created, updated, deleted to the trash, restored, purged) and to their account,
-- written by triggers in the transaction of the change itself, whatever wrote it. `seq` is
-- the user's own counter, taken under the same per-user lock the server's graph writes hold
-- (`pg_advisory_xact_lock` of the user id's last eight bytes), so that a user's events commit
-- in `seq` order: a reader that sees one sees every one before it. `fields` names the fields
-- of the GraphQL type that changed. Thumbnails (and their links) are not journaled: they are
-- not objects of the library.
CREATE TABLE change_heads (
    user_id          uuid PRIMARY KEY,
    seq              bigint NOT NULL,
    -- Events up to this one were trimmed (retention): a cursor before it has expired.
    trimmed_through  bigint NOT NULL DEFAULT 0
);
CREATE TABLE changes (
    user_id      uuid NOT NULL,
    seq          bigint NOT NULL,
    kind         varchar(10) NOT NULL
                 CONSTRAINT changes_kind_check CHECK (kind IN ('created', 'updated', 'deleted', 'restored', 'purged')),
    object_type  varchar(20) NOT NULL,
    object_id    uuid NOT NULL,
    fields       jsonb NOT NULL DEFAULT '[]'::jsonb,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, seq)
);
CREATE INDEX idx_changes_created_at ON changes (created_at);

CREATE FUNCTION hypernet_journal() RETURNS trigger AS $$
DECLARE
    new_row jsonb;
    old_row jsonb;
    row_j   jsonb;
    kind    text;
    changed jsonb := '[]'::jsonb;
    owner   uuid;
    next    bigint;
BEGIN
    IF TG_OP = 'INSERT' THEN
        row_j := to_jsonb(NEW);
        kind := 'created';
    ELSIF TG_OP = 'DELETE' THEN
        row_j := to_jsonb(OLD);
        kind := 'purged';
    ELSE
        new_row := to_jsonb(NEW);
        old_row := to_jsonb(OLD);
        row_j := new_row;
        -- TG_ARGV: the GraphQL type, then pairs of column and field.
        FOR i IN 1 .. (TG_NARGS - 1) / 2 LOOP
            IF new_row -> TG_ARGV[2 * i - 1] IS DISTINCT FROM old_row -> TG_ARGV[2 * i - 1] THEN
                changed := changed || to_jsonb(TG_ARGV[2 * i]);
            END IF;
        END LOOP;
        IF old_row ->> 'deleted_at' IS NULL AND new_row ->> 'deleted_at' IS NOT NULL THEN
            kind := 'deleted';
        ELSIF old_row ->> 'deleted_at' IS NOT NULL AND new_row ->> 'deleted_at' IS NULL THEN
            kind := 'restored';
        ELSIF jsonb_array_length(changed) > 0 THEN
            kind := 'updated';
        ELSE
            RETURN NULL;
        END IF;
    END IF;
    IF (TG_TABLE_NAME = 'media' AND row_j ->> 'source_type' = 'variant')
        OR (TG_TABLE_NAME = 'links' AND row_j ->> 'link_type' = 'variant_of') THEN
        RETURN NULL;
    END IF;
    owner := CASE WHEN TG_TABLE_NAME = 'users' THEN (row_j ->> 'id')::uuid
                  ELSE (row_j ->> 'user_id')::uuid END;
    PERFORM pg_advisory_xact_lock(('x' || substr(replace(owner::text, '-', ''), 17, 16))::bit(64)::bigint);
    INSERT INTO change_heads (user_id, seq) VALUES (owner, 1)
        ON CONFLICT (user_id) DO UPDATE SET seq = change_heads.seq + 1
        RETURNING seq INTO next;
    INSERT INTO changes (user_id, seq, kind, object_type, object_id, fields)
        VALUES (owner, next, kind, TG_ARGV[0], (row_j ->> 'id')::uuid, changed);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER trg_media_journal AFTER INSERT OR UPDATE OR DELETE ON media
    FOR EACH ROW EXECUTE FUNCTION hypernet_journal('Media', 'filename', 'filename', 'media_type', 'mediaType', 'mime_type', 'mimeType', 'size', 'size', 'width', 'width', 'height', 'height', 'duration_ms', 'durationMs', 'hash', 'hash', 'taken_at', 'takenAt', 'metadata', 'metadata');
CREATE TRIGGER trg_albums_journal AFTER INSERT OR UPDATE OR DELETE ON albums
    FOR EACH ROW EXECUTE FUNCTION hypernet_journal('Album', 'name', 'name', 'description', 'description', 'cover_media_id', 'coverMedia', 'media_count', 'mediaCount', 'metadata', 'metadata');
CREATE TRIGGER trg_integrations_journal AFTER INSERT OR UPDATE OR DELETE ON integrations
    FOR EACH ROW EXECUTE FUNCTION hypernet_journal('Integration', 'integration_type', 'integrationType', 'name', 'name', 'status', 'status', 'sync_cursor', 'syncCursor', 'last_sync_at', 'lastSyncAt', 'last_error', 'lastError', 'config', 'config');
CREATE TRIGGER trg_tags_journal AFTER INSERT OR UPDATE OR DELETE ON tags
    FOR EACH ROW EXECUTE FUNCTION hypernet_journal('Tag', 'name', 'name');
CREATE TRIGGER trg_links_journal AFTER INSERT OR UPDATE OR DELETE ON links
    FOR EACH ROW EXECUTE FUNCTION hypernet_journal('Link', 'strength', 'strength', 'sort_order', 'sortOrder', 'metadata', 'metadata');
CREATE TRIGGER trg_users_journal AFTER INSERT OR UPDATE OR DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION hypernet_journal('User', 'email', 'email', 'display_name', 'displayName', 'is_admin', 'isAdmin', 'storage_quota', 'storageQuota', 'storage_used', 'storageUsed');

ALTER TABLE changes ENABLE ROW LEVEL SECURITY;
ALTER TABLE changes FORCE ROW LEVEL SECURITY;
CREATE POLICY changes_owner ON changes
    USING (user_id = hypernet_viewer()) WITH CHECK (user_id = hypernet_viewer());
CREATE POLICY changes_system ON changes
    USING (hypernet_is_system()) WITH CHECK (hypernet_is_system());
ALTER TABLE change_heads ENABLE ROW LEVEL SECURITY;
ALTER TABLE change_heads FORCE ROW LEVEL SECURITY;
CREATE POLICY change_heads_owner ON change_heads
    USING (user_id = hypernet_viewer()) WITH CHECK (user_id = hypernet_viewer());
CREATE POLICY change_heads_system ON change_heads
    USING (hypernet_is_system()) WITH CHECK (hypernet_is_system());
