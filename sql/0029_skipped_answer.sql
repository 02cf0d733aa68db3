-- record_events() answers 'skipped' for an event it accepted whose device no account serves (status 'skipped'),
-- instead of 'accepted', so that serve wakes its delivery worker only when a call is queued.
--
-- The planner knows a MAC outside PROVHOOK_VENDOR_PREFIXES is skipped, but only the database knows that no account
-- serves a device's vendor (devices_follow_tenant_account()). Until now serve took every other accepted event for
-- a queued call and woke the worker, whose claim and next-due queries then ran for nothing: two statements beside
-- each lone webhook's one. A device that is queued still wakes the worker (and NOTIFY wakes the others).
--
-- Only events carrying "answer_skipped" get the new answer: a serve from before this migration, still running while
-- it is applied, would take an answer it does not know for a refusal and record the event again.

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
                -- Only a serve that asks is told (one from before 0029 would take the answer for a refusal).
                IF answer = 'accepted' AND e ? 'answer_skipped'
                    AND (SELECT d.status FROM devices d WHERE d.mac = e->>'mac') = 'skipped' THEN
                    answer := 'skipped';
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
