DROP INDEX idx_media_library;
