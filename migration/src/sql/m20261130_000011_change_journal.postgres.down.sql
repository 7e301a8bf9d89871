DROP TRIGGER trg_media_journal ON media;
DROP TRIGGER trg_albums_journal ON albums;
DROP TRIGGER trg_integrations_journal ON integrations;
DROP TRIGGER trg_tags_journal ON tags;
DROP TRIGGER trg_links_journal ON links;
DROP TRIGGER trg_users_journal ON users;
DROP FUNCTION hypernet_journal();
DROP TABLE changes;
DROP TABLE change_heads;
