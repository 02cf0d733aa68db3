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
-- The caller keeps batches below 64 events, the subtransactions a backend tracks before every snapshot that sees it
-- gets slower.
-- It runs with the caller's privileges.

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
            SELECT r.outcome INTO answer FROM ingest_event(
                e->>'tenant', e->>'event', e->>'type', (e->>'payload')::jsonb, e->>'mac', e->>'desired',
                e->>'device_id', e->>'extension', e->>'model', (e->>'skipped')::boolean, e->>'source',
                e->>'actor', e->>'action', e->>'outcome', e->'detail') r;
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
