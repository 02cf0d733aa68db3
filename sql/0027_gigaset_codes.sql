-- The code printed on a Gigaset phone beside its MAC (devices.gigaset_code): Gigaset's auto-provisioning service
-- registers a phone only by its "MAC-ID", the MAC followed by '-' and that code (falconieri, peoplefone), as proof
-- that the caller has the phone in hand. provhook keeps the one its PBX, a mapping or an import gives, as it keeps a
-- serial number (0023): an event that gives one replaces it, an event without one keeps it, and it stays with the
-- phone when another tenant takes the MAC.
--
-- A code is 4 ASCII letters or digits, kept uppercase, as the service takes it (falconieri checks ^[A-Z0-9]{4}$;
-- peoplefone upper-cases the MAC-ID). provhook checks it where it arrives (GigasetCode: surrounding spaces trimmed,
-- lowercase raised, anything else refused with invalid_field naming the field); the CHECK keeps anything else out
-- whoever writes.
--
-- A phone of a service that needs the code, without one, waits (status 'waiting_for_code') as one without its serial
-- does (0025): it is never sent again until an event or an import gives its code.
--
-- The code is written after the event's desired state, by the statement that writes it: Store.setDesired on the
-- full path, and record_events() below for events recorded in one call, from the events' "gigaset_code", which a
-- serve from before this migration does not send (then nothing is written, and the device keeps its code).

ALTER TABLE devices
    ADD COLUMN gigaset_code text CONSTRAINT device_gigaset_code_format CHECK (gigaset_code ~ '^[A-Z0-9]{4}$');

COMMENT ON COLUMN devices.gigaset_code IS
    'the code printed on a Gigaset phone beside its MAC, as the last event that gave one said; NULL until one does';

ALTER TABLE devices DROP CONSTRAINT device_status;
ALTER TABLE devices ADD CONSTRAINT device_status CHECK (status = ANY (ARRAY[
    'pending', 'registered', 'deregistered', 'failed', 'conflict', 'skipped', 'waiting_for_serial',
    'waiting_for_code']));

COMMENT ON COLUMN devices.status IS
    'pending, registered, deregistered, failed, conflict, skipped (never sent: skipped_because), waiting_for_serial (its account''s service needs the serial number, which no event gave yet), or waiting_for_code (its account''s service needs the code printed on the phone, which no event gave yet)';

-- A code arriving for a waiting phone makes it due now.
CREATE FUNCTION devices_gigaset_code_arrived() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF OLD.status = 'waiting_for_code' AND NEW.status = 'waiting_for_code' AND NEW.gigaset_code IS NOT NULL
       AND NEW.gigaset_code IS DISTINCT FROM OLD.gigaset_code THEN
        NEW.status := 'pending';
        NEW.next_attempt_at := now();
        NEW.attempts := 0;
        NEW.pending_since := now();
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER devices_gigaset_code_arrived BEFORE UPDATE OF gigaset_code ON devices
    FOR EACH ROW EXECUTE FUNCTION devices_gigaset_code_arrived();

CREATE OR REPLACE PROCEDURE record_events(p_events text[], INOUT outcomes text[] DEFAULT NULL)
LANGUAGE plpgsql AS $$
DECLARE
    e jsonb;
    answer text;
BEGIN
    outcomes := '{}';
    FOR i IN 1 .. coalesce(array_length(p_events, 1), 0) LOOP
        answer := NULL;
        BEGIN
            e := p_events[i]::jsonb;
            IF e ? 'credentials' AND NOT EXISTS (
                SELECT 1 FROM tenants t
                WHERE t.id = e->>'tenant' AND t.removed_at IS NULL
                    AND t.credentials_version = (e->>'credentials')::bigint) THEN
                answer := 'stale';
            ELSIF e ? 'source_credentials' AND NOT EXISTS (
                SELECT 1 FROM sources s
                WHERE s.name = e->>'source' AND s.removed_at IS NULL
                    AND s.credentials_version = (e->>'source_credentials')::bigint
                FOR SHARE) THEN
                answer := 'stale';
            ELSE
                SELECT r.outcome INTO answer FROM ingest_event(
                    e->>'tenant', e->>'event', e->>'type', (e->>'payload')::jsonb, e->>'mac', e->>'desired',
                    e->>'device_id', e->>'extension', e->>'model', e->>'brand_vendor',
                    -- A serve from before 0022, still running while it is applied, names no vendor: every event it
                    -- did not skip was for Snom's service, as it still is.
                    CASE WHEN e ? 'prefix_vendor' THEN e->>'prefix_vendor' ELSE 'snom' END,
                    (e->>'skipped')::boolean, e->>'source', e->>'actor', e->>'action', e->'detail',
                    -- A serve from before 0023 sends no "serial": NULL, and the device keeps its own.
                    e->>'serial') r;
                -- The code the event gave replaces the device's; without one the device keeps its own.
                IF answer = 'accepted' AND e->>'gigaset_code' IS NOT NULL THEN
                    UPDATE devices SET gigaset_code = e->>'gigaset_code' WHERE mac = e->>'mac';
                END IF;
            END IF;
        EXCEPTION
            WHEN serialization_failure OR deadlock_detected THEN
                answer := 'again';
            WHEN OTHERS THEN
                answer := 'refused';
        END;
        outcomes := outcomes || coalesce(answer, 'refused');
    END LOOP;
    COMMIT;
END;
$$;
