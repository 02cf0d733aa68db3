-- A phone that its account's service registers only with a serial number, and that has none yet, waits for one
-- (status 'waiting_for_serial'): it is never sent again until an event or an import gives its serial, or its account
-- no longer needs serials. The service saying so is remembered on the account (serial_required), so that the account's
-- other phones are registered by serial from then on.

ALTER TABLE devices DROP CONSTRAINT device_status;
ALTER TABLE devices ADD CONSTRAINT device_status CHECK (status = ANY (ARRAY[
    'pending', 'registered', 'deregistered', 'failed', 'conflict', 'skipped', 'waiting_for_serial']));

-- A serial arriving for a waiting phone makes it due now.
CREATE FUNCTION devices_serial_arrived() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF OLD.status = 'waiting_for_serial' AND NEW.status = 'waiting_for_serial' AND NEW.serial IS NOT NULL
       AND NEW.serial IS DISTINCT FROM OLD.serial THEN
        NEW.status := 'pending';
        NEW.next_attempt_at := now();
        NEW.attempts := 0;
        NEW.pending_since := now();
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER devices_serial_arrived BEFORE UPDATE OF serial ON devices
    FOR EACH ROW EXECUTE FUNCTION devices_serial_arrived();

-- The service said the account needs serials: remembered on the account.
CREATE FUNCTION devices_account_needs_serial() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    UPDATE redirect_accounts SET serial_required = true, updated_at = now()
    WHERE name = NEW.account AND NOT serial_required;
    RETURN NULL;
END;
$$;

CREATE TRIGGER devices_account_needs_serial AFTER UPDATE OF status ON devices
    FOR EACH ROW WHEN (NEW.status = 'waiting_for_serial' AND OLD.status <> 'waiting_for_serial')
    EXECUTE FUNCTION devices_account_needs_serial();

-- An account that no longer needs serials (the vendor enabled MAC-only registration): its waiting phones are due.
CREATE FUNCTION accounts_serial_no_longer_required() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    UPDATE devices SET status = 'pending', next_attempt_at = now(), attempts = 0, pending_since = now()
    WHERE account = NEW.name AND status = 'waiting_for_serial';
    RETURN NULL;
END;
$$;

CREATE TRIGGER accounts_serial_no_longer_required AFTER UPDATE OF serial_required ON redirect_accounts
    FOR EACH ROW WHEN (OLD.serial_required AND NOT NEW.serial_required)
    EXECUTE FUNCTION accounts_serial_no_longer_required();

COMMENT ON COLUMN devices.status IS
    'pending, registered, deregistered, failed, conflict, skipped (never sent: skipped_because), or waiting_for_serial (its account''s service needs the serial number, which no event gave yet)';
