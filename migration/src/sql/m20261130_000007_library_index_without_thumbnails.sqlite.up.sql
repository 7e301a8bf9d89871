-- The library (`User.media`, newest taken first) lists originals only, but the index it read,
-- idx_media_taken_at, holds every thumbnail too (two per photo, with the photo's taken_at), so
-- each page stepped over twice as many entries as it kept. This index holds the library's
-- rows alone, in the library's order with its tie-break. (SQLite sorts NULL first, so DESC
-- puts it last, as the library does.)
CREATE INDEX idx_media_library ON media (user_id, taken_at DESC, id DESC)
    WHERE deleted_at IS NULL AND (source_type IS NULL OR source_type <> 'variant');
