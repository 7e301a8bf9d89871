-- Persisted GraphQL documents, shared by every instance: those clients register through
-- automatic persisted queries (id = the SHA-256 of the text, in hex), and the trusted ones
-- an operator adds with `hypernet documents add` (id = what the client toolchain gave them).
CREATE TABLE persisted_documents (
    id          varchar(128) PRIMARY KEY,
    body        text NOT NULL,
    trusted     boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now()
);
-- Registered documents beyond the cap are evicted oldest first; trusted ones never are.
CREATE INDEX idx_persisted_documents_registered ON persisted_documents (created_at) WHERE NOT trusted;
