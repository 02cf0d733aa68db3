-- Optional roles, applied by hand by a superuser after `provhook migrate` (psql -f sql/roles.sql):
--   provhook_app      what `provhook serve` needs: read and write tenants, devices and events; journal INSERT and SELECT only
--   provhook_auditor  read-only access to everything, for auditors
-- Both are NOLOGIN groups: grant them to login roles, for example
--   CREATE ROLE provhook LOGIN PASSWORD '…' IN ROLE provhook_app;
--   CREATE ROLE alice LOGIN PASSWORD '…' IN ROLE provhook_auditor;
-- This file is not a migration: `provhook migrate` does not apply it.
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

REVOKE ALL ON journal, journal_seals FROM provhook_app, provhook_auditor;
GRANT SELECT, INSERT, UPDATE, DELETE ON tenants, devices, webhook_events TO provhook_app;
GRANT SELECT ON schema_migrations TO provhook_app;
GRANT SELECT, INSERT ON journal, journal_seals TO provhook_app;

GRANT SELECT ON ALL TABLES IN SCHEMA public TO provhook_auditor;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO provhook_auditor;
