-- Redirection accounts. A MAC registered at the Snom redirection service belongs to the account that registered it,
-- so a hosting provider with one Snom account per reseller keeps each tenant's phones under that tenant's account.
-- The account named 'default' is the installation's own: its credentials come from the PROVHOOK_REDIRECT_*
-- variables, never from this table, so an existing deployment keeps working unchanged.
CREATE TABLE redirect_accounts (
    name            text        PRIMARY KEY
                                CONSTRAINT account_name_format CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$'),
    username        text        CONSTRAINT account_username_format CHECK (username ~ '^[^:[:cntrl:]]{1,200}$'),
    password_sealed bytea       CONSTRAINT account_password_sealed_size
                                CHECK (octet_length(password_sealed) BETWEEN 29 AND 1100),
    password_key_id text        CONSTRAINT account_password_key_id_format CHECK (password_key_id ~ '^[0-9a-f]{16}$'),
    password_file   text        CONSTRAINT account_password_file_absolute CHECK (password_file ~ '^/'),
    url             text        CONSTRAINT account_url_scheme CHECK (url ~* '^https?://[^/?#[:space:]@]+/'),
    ca_file         text        CONSTRAINT account_ca_file_absolute CHECK (ca_file ~ '^/'),
    concurrency     integer     CONSTRAINT account_concurrency_range CHECK (concurrency BETWEEN 1 AND 64),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT account_default_from_environment CHECK (name <> 'default' OR (
        username IS NULL AND password_sealed IS NULL AND password_file IS NULL AND url IS NULL AND ca_file IS NULL
        AND concurrency IS NULL)),
    CONSTRAINT account_has_credentials CHECK (name = 'default' OR (
        username IS NOT NULL AND (password_sealed IS NULL) <> (password_file IS NULL))),
    CONSTRAINT account_password_key_id CHECK ((password_sealed IS NULL) = (password_key_id IS NULL))
);

COMMENT ON TABLE redirect_accounts IS 'Snom redirection-service accounts; ''default'' takes its credentials from PROVHOOK_REDIRECT_*';
COMMENT ON COLUMN redirect_accounts.password_sealed IS 'AES-256-GCM under PROVHOOK_SECRET_KEY_FILE, bound to the account''s name';
COMMENT ON COLUMN redirect_accounts.password_file IS 'instead of a sealed password: a file that serve reads';
COMMENT ON COLUMN redirect_accounts.url IS 'the XML-RPC endpoint; NULL: PROVHOOK_REDIRECT_URL';

INSERT INTO redirect_accounts (name) VALUES ('default');

ALTER TABLE tenants ADD COLUMN account text NOT NULL DEFAULT 'default' REFERENCES redirect_accounts (name);

COMMENT ON COLUMN tenants.account IS 'the redirection account its devices are registered with';

-- A device's account is the one its next call is made with: the account that holds the MAC at the service, or will.
-- A move between two of our accounts is two steps, each a call: while move_to is set, the next call deregisters the
-- MAC with `account`; once that is done the row takes `account = move_to` and registers with it. Each step is
-- committed before the next, so a crash at any point resumes where it stopped.
ALTER TABLE devices
    ADD COLUMN account text NOT NULL DEFAULT 'default' REFERENCES redirect_accounts (name),
    ADD COLUMN move_to text REFERENCES redirect_accounts (name),
    ADD CONSTRAINT device_move_to_another_account CHECK (move_to <> account);

COMMENT ON COLUMN devices.account IS 'the redirection account the next call is made with (the one that holds the MAC, or will)';
COMMENT ON COLUMN devices.move_to IS 'set while the MAC moves to another of our accounts: deregister with account first, then register with this one';

-- Each account's worker claims only its own devices, fairly between tenants: this index replaces
-- devices_due_by_tenant with the account first.
DROP INDEX devices_due_by_tenant;
CREATE INDEX devices_due_by_account ON devices (account, tenant_id, next_attempt_at) WHERE status = 'pending';

-- Whether an account of ours may hold a device's MAC at the service: unless it is deregistered (or was never sent,
-- skipped) with no move under way. Such a device simply takes another account; any other moves.
CREATE FUNCTION device_may_be_held(status text, move_to text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT NOT (status IN ('deregistered', 'skipped') AND move_to IS NULL) $$;

-- A new device takes its tenant's account. A device that passes to a tenant of another account (a deregistered MAC
-- taken over) takes the new account at once if no account of ours may still hold it, and moves otherwise.
CREATE FUNCTION devices_follow_tenant_account() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    wanted text;
BEGIN
    IF NEW.tenant_id IS NULL THEN
        RETURN NEW;
    END IF;
    SELECT t.account INTO wanted FROM tenants t WHERE t.id = NEW.tenant_id;
    IF TG_OP = 'INSERT' THEN
        NEW.account := wanted;
        NEW.move_to := NULL;
    ELSIF NEW.tenant_id IS DISTINCT FROM OLD.tenant_id AND wanted IS DISTINCT FROM coalesce(OLD.move_to, OLD.account) THEN
        IF NOT device_may_be_held(OLD.status, OLD.move_to) THEN
            NEW.account := wanted;
            NEW.move_to := NULL;
        ELSIF wanted = OLD.account THEN
            NEW.move_to := NULL;
        ELSE
            NEW.move_to := wanted;
        END IF;
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER devices_follow_tenant_account
    BEFORE INSERT OR UPDATE OF tenant_id ON devices
    FOR EACH ROW EXECUTE FUNCTION devices_follow_tenant_account();

-- A move's first step hands the device to another account's worker: wake the workers for that too.
DROP TRIGGER devices_wake_workers_on_update ON devices;
CREATE TRIGGER devices_wake_workers_on_update
    AFTER UPDATE ON devices
    FOR EACH ROW WHEN (NEW.status = 'pending' AND NEW.next_attempt_at <= now()
                       AND (OLD.status <> 'pending' OR NEW.generation <> OLD.generation
                            OR NEW.account <> OLD.account))
    EXECUTE FUNCTION devices_wake_workers();
