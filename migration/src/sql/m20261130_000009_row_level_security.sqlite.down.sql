-- Row-level security is PostgreSQL's; on SQLite, with one process and no database roles,
-- the queries' own `user_id` filters are the only wall. Nothing to change.
SELECT 1;
