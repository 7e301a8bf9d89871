DROP INDEX IF EXISTS idx_media_user_hash_unique;
DROP INDEX IF EXISTS idx_media_hash_any;
DROP INDEX IF EXISTS idx_media_size;
DROP INDEX IF EXISTS idx_media_filename;
DROP INDEX IF EXISTS idx_media_created_at;
DROP TABLE IF EXISTS upload_chunks;
DROP TABLE IF EXISTS upload_sessions;
ALTER TABLE users DROP COLUMN storage_reserved;
