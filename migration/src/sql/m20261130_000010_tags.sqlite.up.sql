-- Tags: a user's labels for media. A media carries a tag through a `tagged` link
-- (media -> tag), so tags are part of the graph like albums. Names are unique per user among
-- the tags not in the trash, compared case-insensitively through `name_key` (the name in
-- lower case, computed by the server so that both backends fold case alike).
CREATE TABLE tags (
    id          blob PRIMARY KEY NOT NULL DEFAULT (unhex(substr(hex(randomblob(6)), 1, 12) || '4' || substr(hex(randomblob(2)), 2, 3) || substr('89AB', abs(random()) % 4 + 1, 1) || substr(hex(randomblob(8)), 2, 15))),
    user_id     blob NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name        text NOT NULL,
    name_key    text NOT NULL,
    created_at  text NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    updated_at  text NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')),
    deleted_at  text
);
-- One active tag per name and user; also the order of `User.tags`.
CREATE UNIQUE INDEX idx_tags_user_name ON tags (user_id, name_key) WHERE deleted_at IS NULL;
CREATE INDEX idx_tags_deleted_at ON tags (deleted_at) WHERE deleted_at IS NOT NULL;
CREATE TRIGGER trg_tags_updated_at AFTER UPDATE ON tags
    FOR EACH ROW WHEN NEW.updated_at IS OLD.updated_at
BEGIN
    UPDATE tags SET updated_at = strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now') WHERE id = NEW.id;
END;
