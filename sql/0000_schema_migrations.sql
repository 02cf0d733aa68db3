-- provhook's record of applied migrations. `provhook migrate` runs this file first, every time, so it must stay
-- idempotent; it is recorded like every other file.
CREATE TABLE IF NOT EXISTS schema_migrations (
    version     integer     PRIMARY KEY,
    name        text        NOT NULL,
    checksum    text        NOT NULL CHECK (checksum ~ '^[0-9a-f]{64}$'),
    applied_at  timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE schema_migrations IS 'sql/ files applied by provhook migrate, with the SHA-256 of each file';
