-- Roles, applied by a superuser (or a role with CREATEROLE that owns the tables) after every `provhook migrate`:
--   psql -d provhook -f sql/roles.sql
--   provhook_app      what `provhook serve` and the CLI need: read and write tenants, devices and events; the journal
--                     and its seals INSERT and SELECT only; the sealer's watermark function
--   provhook_auditor  read-only: the journal, its seals, devices, events, and tenants without their webhook secrets
-- Both are NOLOGIN groups: grant them to login roles, for example
--   CREATE ROLE provhook LOGIN PASSWORD '…' IN ROLE provhook_app;
--   CREATE ROLE alice LOGIN PASSWORD '…' IN ROLE provhook_auditor;
-- The tables belong to the role that runs `provhook migrate` (the owner), never to the app's login: an owner can
-- disable the journal's triggers. This file is not a migration: `provhook migrate` does not apply it.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'provhook_app') THEN
        CREATE ROLE provhook_app NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'provhook_auditor') THEN
        CREATE ROLE provhook_auditor NOLOGIN;
    END IF;
END;
$$;

REVOKE ALL ON ALL TABLES IN SCHEMA public FROM provhook_app, provhook_auditor;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM provhook_app, provhook_auditor;
-- Earlier versions of this file gave the auditor every future table; a table of secrets must not be among them.
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE SELECT ON TABLES FROM provhook_auditor;

GRANT SELECT, INSERT, UPDATE, DELETE ON tenants, devices, webhook_events, sources, source_accounts, source_lookups,
    source_sync_seen, redirect_accounts, tenant_vendors, device_pins TO provhook_app;
GRANT SELECT ON schema_migrations TO provhook_app;
GRANT SELECT, INSERT ON journal, journal_seals TO provhook_app;
GRANT USAGE ON SEQUENCE journal_id_seq, source_lookups_id_seq, tenant_credentials_version_seq,
    source_credentials_version_seq TO provhook_app;
GRANT EXECUTE ON FUNCTION journal_watermark() TO provhook_app;

GRANT SELECT ON journal, journal_seals, devices, webhook_events, schema_migrations TO provhook_auditor;
GRANT SELECT (id, name, url_template, allow_bearer, mac_prefixes, removed_at, created_at, updated_at) ON tenants
    TO provhook_auditor;
GRANT SELECT ON tenant_vendors TO provhook_auditor;
GRANT SELECT (name, kind, vendor, vendor_default, username, url, ca_file, concurrency, created_at, updated_at)
    ON redirect_accounts TO provhook_auditor;
GRANT SELECT (name, kind, tenant_id, mapping, api_url, api_user, api_ca_file, api_tenant, created_at, updated_at, removed_at,
    last_sync_at, last_sync_summary, last_sync_error, sync_interval_seconds) ON sources TO provhook_auditor;
GRANT SELECT ON source_accounts, source_lookups TO provhook_auditor;
