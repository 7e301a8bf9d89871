-- The media library: quota reservations, resumable upload sessions and their chunks, and the
-- indexes behind the library's sort orders.

ALTER TABLE users ADD COLUMN storage_reserved bigint NOT NULL DEFAULT 0
    CONSTRAINT users_storage_reserved_check CHECK (storage_reserved >= 0);

CREATE TABLE upload_sessions (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id        uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    sha256         varchar(64) NOT NULL,
    size           bigint NOT NULL CONSTRAINT upload_sessions_size_check CHECK (size >= 0),
    mime_type      varchar(100),
    filename       varchar(255) NOT NULL,
    upload_offset  bigint NOT NULL DEFAULT 0
                   CONSTRAINT upload_sessions_offset_check CHECK (upload_offset >= 0 AND upload_offset <= size),
    expires_at     timestamptz NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idx_upload_sessions_user_id ON upload_sessions (user_id);
CREATE INDEX idx_upload_sessions_expires_at ON upload_sessions (expires_at);
CREATE TRIGGER trg_upload_sessions_updated_at BEFORE UPDATE ON upload_sessions
    FOR EACH ROW EXECUTE FUNCTION hypernet_touch_updated_at();

-- One row per accepted PATCH: only the writer that advanced the offset records its chunk.
CREATE TABLE upload_chunks (
    upload_id     uuid NOT NULL REFERENCES upload_sessions (id) ON DELETE CASCADE,
    chunk_offset  bigint NOT NULL CONSTRAINT upload_chunks_offset_check CHECK (chunk_offset >= 0),
    length        bigint NOT NULL CONSTRAINT upload_chunks_length_check CHECK (length > 0),
    object_key    text NOT NULL,
    PRIMARY KEY (upload_id, chunk_offset)
);

CREATE INDEX idx_media_created_at ON media (user_id, created_at DESC, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX idx_media_filename ON media (user_id, filename, id) WHERE deleted_at IS NULL;
CREATE INDEX idx_media_size ON media (user_id, size, id) WHERE deleted_at IS NULL;
-- Purge asks "does any row still use these bytes?" across all users.
CREATE INDEX idx_media_hash_any ON media (hash);
-- A user holds one active copy of any bytes: concurrent uploads of the same file deduplicate
-- instead of creating a second row. Thumbnails may coincide and are left out.
CREATE UNIQUE INDEX idx_media_user_hash_unique ON media (user_id, hash)
    WHERE deleted_at IS NULL AND (source_type IS NULL OR source_type <> 'variant');
