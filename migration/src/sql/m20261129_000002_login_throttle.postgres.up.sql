-- Failed-login back-off, kept in the database so that it holds across instances.
-- Keyed by the normalised email, whether or not an account has it, so that the back-off
-- reveals nothing about which emails exist.
CREATE TABLE login_throttle (
    email_key     varchar(255) PRIMARY KEY,
    failures      integer NOT NULL DEFAULT 0 CONSTRAINT login_throttle_failures_check CHECK (failures >= 0),
    locked_until  timestamptz,
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idx_login_throttle_updated_at ON login_throttle (updated_at);
