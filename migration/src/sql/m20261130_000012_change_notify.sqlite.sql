-- SQLite has no NOTIFY: the server's own commits wake its subscribers (one process serves a
-- SQLite database).
SELECT 1;
