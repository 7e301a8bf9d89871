-- Row-level security: a second wall behind the queries' own `user_id` filters.
--
-- The server sets `hypernet.viewer` on its connection to the user a statement runs for, to
-- 'system' for work that has no single user (sign-in before the user is known, maintenance,
-- the thumbnail worker, signed downloads, the operator's commands), or leaves it empty (no
-- user's row). Policies apply to the tables' owner too (FORCE); superusers and roles with
-- BYPASSRLS are above them, so the server should connect as a role of its own.

-- The viewer's id, or NULL for nobody and for the system.
CREATE FUNCTION hypernet_viewer() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT NULLIF(NULLIF(current_setting('hypernet.viewer', true), ''), 'system')::uuid $$;

-- Whether the statement is the system's work.
CREATE FUNCTION hypernet_is_system() RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT coalesce(current_setting('hypernet.viewer', true) = 'system', false) $$;

-- Whether any row, of any user, still holds the bytes with this hash: the one question a
-- user's request asks across users (before deleting stored bytes), answered without showing
-- any row.
CREATE FUNCTION hypernet_hash_in_use(wanted text) RETURNS boolean
    LANGUAGE sql STABLE
    SET hypernet.viewer = 'system'
    AS $$ SELECT EXISTS (SELECT 1 FROM media WHERE hash = wanted) $$;

ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;
CREATE POLICY users_self ON users
    USING (id = hypernet_viewer()) WITH CHECK (id = hypernet_viewer());
CREATE POLICY users_system ON users
    USING (hypernet_is_system()) WITH CHECK (hypernet_is_system());

ALTER TABLE media ENABLE ROW LEVEL SECURITY;
ALTER TABLE media FORCE ROW LEVEL SECURITY;
CREATE POLICY media_owner ON media
    USING (user_id = hypernet_viewer()) WITH CHECK (user_id = hypernet_viewer());
CREATE POLICY media_system ON media
    USING (hypernet_is_system()) WITH CHECK (hypernet_is_system());

ALTER TABLE albums ENABLE ROW LEVEL SECURITY;
ALTER TABLE albums FORCE ROW LEVEL SECURITY;
CREATE POLICY albums_owner ON albums
    USING (user_id = hypernet_viewer()) WITH CHECK (user_id = hypernet_viewer());
CREATE POLICY albums_system ON albums
    USING (hypernet_is_system()) WITH CHECK (hypernet_is_system());

ALTER TABLE integrations ENABLE ROW LEVEL SECURITY;
ALTER TABLE integrations FORCE ROW LEVEL SECURITY;
CREATE POLICY integrations_owner ON integrations
    USING (user_id = hypernet_viewer()) WITH CHECK (user_id = hypernet_viewer());
CREATE POLICY integrations_system ON integrations
    USING (hypernet_is_system()) WITH CHECK (hypernet_is_system());

-- Secrets belong to the integration they are for (itself behind its policies).
ALTER TABLE integration_secrets ENABLE ROW LEVEL SECURITY;
ALTER TABLE integration_secrets FORCE ROW LEVEL SECURITY;
CREATE POLICY integration_secrets_owner ON integration_secrets
    USING (integration_id IN (SELECT id FROM integrations))
    WITH CHECK (integration_id IN (SELECT id FROM integrations));

ALTER TABLE links ENABLE ROW LEVEL SECURITY;
ALTER TABLE links FORCE ROW LEVEL SECURITY;
CREATE POLICY links_owner ON links
    USING (user_id = hypernet_viewer()) WITH CHECK (user_id = hypernet_viewer());
CREATE POLICY links_system ON links
    USING (hypernet_is_system()) WITH CHECK (hypernet_is_system());

ALTER TABLE refresh_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE refresh_tokens FORCE ROW LEVEL SECURITY;
CREATE POLICY refresh_tokens_owner ON refresh_tokens
    USING (user_id = hypernet_viewer()) WITH CHECK (user_id = hypernet_viewer());
CREATE POLICY refresh_tokens_system ON refresh_tokens
    USING (hypernet_is_system()) WITH CHECK (hypernet_is_system());

-- Entries without a user (a failed sign-in for an unknown email) are the system's.
ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_log FORCE ROW LEVEL SECURITY;
CREATE POLICY audit_log_owner ON audit_log
    USING (user_id = hypernet_viewer()) WITH CHECK (user_id = hypernet_viewer());
CREATE POLICY audit_log_system ON audit_log
    USING (hypernet_is_system()) WITH CHECK (hypernet_is_system());

ALTER TABLE upload_sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE upload_sessions FORCE ROW LEVEL SECURITY;
CREATE POLICY upload_sessions_owner ON upload_sessions
    USING (user_id = hypernet_viewer()) WITH CHECK (user_id = hypernet_viewer());
CREATE POLICY upload_sessions_system ON upload_sessions
    USING (hypernet_is_system()) WITH CHECK (hypernet_is_system());

-- Chunks belong to the upload session they are part of (itself behind its policies).
ALTER TABLE upload_chunks ENABLE ROW LEVEL SECURITY;
ALTER TABLE upload_chunks FORCE ROW LEVEL SECURITY;
CREATE POLICY upload_chunks_owner ON upload_chunks
    USING (upload_id IN (SELECT id FROM upload_sessions))
    WITH CHECK (upload_id IN (SELECT id FROM upload_sessions));

-- The views read their tables with the rights, and under the policies, of whoever queries them.
ALTER VIEW album_media SET (security_invoker = true);
ALTER VIEW media_sources SET (security_invoker = true);
ALTER VIEW user_storage SET (security_invoker = true);
