-- Tags: a user's labels for media. A media carries a tag through a `tagged` link
-- (media -> tag), so tags are part of the graph like albums. Names are unique per user among
-- the tags not in the trash, compared case-insensitively through `name_key` (the name in
-- lower case, computed by the server so that both backends fold case alike).
CREATE TABLE tags (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name        varchar(100) NOT NULL,
    name_key    varchar(400) NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    deleted_at  timestamptz
);
-- One active tag per name and user; also the order of `User.tags`.
CREATE UNIQUE INDEX idx_tags_user_name ON tags (user_id, name_key) WHERE deleted_at IS NULL;
CREATE INDEX idx_tags_deleted_at ON tags (deleted_at) WHERE deleted_at IS NOT NULL;
CREATE TRIGGER trg_tags_updated_at BEFORE UPDATE ON tags
    FOR EACH ROW EXECUTE FUNCTION hypernet_touch_updated_at();

ALTER TABLE tags ENABLE ROW LEVEL SECURITY;
ALTER TABLE tags FORCE ROW LEVEL SECURITY;
CREATE POLICY tags_owner ON tags
    USING (user_id = hypernet_viewer()) WITH CHECK (user_id = hypernet_viewer());
CREATE POLICY tags_system ON tags
    USING (hypernet_is_system()) WITH CHECK (hypernet_is_system());
