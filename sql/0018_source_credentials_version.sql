-- A source's token checked when its event is recorded, not only when the request began. A webhook's body may take
-- a while to arrive; a `source rotate-token` or `source remove` that commits meanwhile must turn the request away, as
-- a rotated tenant secret does (credentials_version in 0015).
--
-- Every change of what authenticates a source or decides its tenant (its token, its removal, its tenant, its
-- mapping) gives it a new credentials_version, drawn from a sequence so that no version is ever given twice. The
-- listener reads the version with the token; the transaction that records the event, journals its refusal or
-- queues its lookup first checks, holding the row with FOR SHARE, that the version is still the source's (else it
-- writes nothing, and the request is authenticated again with the source as it is now).
CREATE SEQUENCE source_credentials_version_seq;

ALTER TABLE sources
    ADD COLUMN credentials_version bigint NOT NULL DEFAULT nextval('source_credentials_version_seq');

COMMENT ON COLUMN sources.credentials_version IS
    'changes with the token, the removal, the tenant or the mapping; an event is recorded only under the version it was authenticated with';

CREATE FUNCTION sources_new_credentials_version() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.credentials_version := nextval('source_credentials_version_seq');
    RETURN NEW;
END;
$$;

CREATE TRIGGER sources_new_credentials_version
    BEFORE UPDATE OF token_sealed, token_key_id, removed_at, tenant_id, mapping ON sources
    FOR EACH ROW EXECUTE FUNCTION sources_new_credentials_version();

-- record_events() checks the source's version as it checks the tenant's: an event whose arguments carry
-- `source_credentials` is recorded only while that is still the source's version (holding the row until the COMMIT),
-- and answered `stale` otherwise, having written nothing. The rest is 0015's procedure unchanged.
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
