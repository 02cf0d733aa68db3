-- Group commit: the one-MAC events that arrive together are recorded in one call and one COMMIT.
--
-- record_events() takes each event as the JSON text of ingest_event()'s arguments and runs ingest_event() for it in
-- a subtransaction of its own, so that an event the database refuses (a value it cannot store, a constraint, a MAC
-- a concurrent event claimed) undoes only its own writes. It commits once, after the last event, and only then
-- answers, with one outcome per event in order:
--   accepted, duplicate  recorded (or recorded before), by the COMMIT that precedes the answer;
--   full                 nothing written: the event needs the full transaction (see ingest_event);
--   again                nothing written: it collided with a concurrent event (serialization failure, deadlock);
--   refused              nothing written: the database refused it; recorded alone, it gets its precise rejection.
-- An event whose arguments carry `credentials` was authenticated with tenant credentials the listener cached: it is
-- recorded only if they are still the tenant's (credentials_version below), and answered
--   stale                nothing written: the credentials changed since they were read; read them again.
-- The caller keeps batches below 64 events, the subtransactions a backend tracks before every snapshot that sees it
-- gets slower.
-- It runs with the caller's privileges.

-- A listener may cache a tenant's credentials. Any change to a tenant's row (a rotated or re-sealed secret, bearer
-- permission, MAC ranges, removal) gives it a new credentials_version, drawn from a sequence so that no version is
-- ever given twice, not even to a tenant removed and added again.
CREATE SEQUENCE tenant_credentials_version_seq;

ALTER TABLE tenants ADD COLUMN credentials_version bigint NOT NULL DEFAULT nextval('tenant_credentials_version_seq');

COMMENT ON COLUMN tenants.credentials_version IS
    'changes with every change of the row; an event authenticated with cached credentials names the version it saw';

CREATE FUNCTION tenants_new_credentials_version() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.credentials_version := nextval('tenant_credentials_version_seq');
    RETURN NEW;
END;
$$;

CREATE TRIGGER tenants_new_credentials_version
    BEFORE UPDATE ON tenants
    FOR EACH ROW EXECUTE FUNCTION tenants_new_credentials_version();

CREATE PROCEDURE record_events(p_events text[], INOUT outcomes text[] DEFAULT NULL)
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
            ELSE
                SELECT r.outcome INTO answer FROM ingest_event(
                    e->>'tenant', e->>'event', e->>'type', (e->>'payload')::jsonb, e->>'mac', e->>'desired',
                    e->>'device_id', e->>'extension', e->>'model', (e->>'skipped')::boolean, e->>'source',
                    e->>'actor', e->>'action', e->>'outcome', e->'detail') r;
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

COMMENT ON PROCEDURE record_events(text[], text[]) IS
    'ingest_event() for each event, each in its own subtransaction, committed once before it answers';

-- record_events() replaces the one-event procedure.
DROP PROCEDURE record_event(text, text, text, jsonb, text, text, text, text, text, boolean, text, text, text, text,
    jsonb, text);
