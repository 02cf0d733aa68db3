-- Ingest in one round trip.
--
-- device_set_desired() is the one place a device's desired state is written (events, operators, sync alike): the
-- device_id moves to this MAC, the row is inserted or given a new generation, and a MAC that another tenant holds
-- and still wants registered is left alone (no row comes back).
--
-- ingest_event() records the common event whole, in one call: a webhook event that names one MAC to register or
-- to deregister, to a tenant without MAC ranges, where no other MAC of the tenant carries the event's device_id.
-- It inserts the idempotency key, the device and the journal row. For anything else it writes nothing and answers
-- 'full', and the caller runs the full transaction, whose planner explains a refusal: a MAC held by another
-- tenant, MAC ranges, a device_id that moves. A MAC that a concurrent event gave to another tenant after the check
-- raises serialization_failure (40001), so that the caller runs the event again.
-- Both run with the caller's privileges.

CREATE FUNCTION device_set_desired(
    p_tenant text, p_mac text, p_desired text, p_device_id text, p_extension text, p_model text,
    p_skipped boolean, p_source text, p_url text
) RETURNS TABLE (generation bigint, url text)
LANGUAGE plpgsql AS $$
BEGIN
    IF p_device_id IS NOT NULL THEN
        -- device_id is unique per tenant: the id moves to this MAC.
        UPDATE devices d SET device_id = NULL
        WHERE d.tenant_id = p_tenant AND d.device_id = p_device_id AND d.mac <> p_mac;
    END IF;
    RETURN QUERY
    INSERT INTO devices AS d (mac, tenant_id, device_id, extension, model, desired, url, status, source)
    VALUES (p_mac, p_tenant, p_device_id, p_extension, p_model, p_desired,
            CASE WHEN p_desired = 'registered' THEN coalesce(p_url,
                (SELECT render_url(t.url_template, p_mac) FROM tenants t WHERE t.id = p_tenant)) END,
            CASE WHEN p_skipped THEN 'skipped' ELSE 'pending' END, p_source)
    ON CONFLICT (mac) DO UPDATE SET
        tenant_id = EXCLUDED.tenant_id,
        device_id = coalesce(EXCLUDED.device_id, CASE WHEN d.tenant_id = EXCLUDED.tenant_id THEN d.device_id END),
        extension = coalesce(EXCLUDED.extension, CASE WHEN d.tenant_id = EXCLUDED.tenant_id THEN d.extension END),
        source = coalesce(EXCLUDED.source, CASE WHEN d.tenant_id = EXCLUDED.tenant_id THEN d.source END),
        model = coalesce(EXCLUDED.model, d.model),
        desired = EXCLUDED.desired,
        url = coalesce(EXCLUDED.url, d.url),
        status = EXCLUDED.status,
        generation = d.generation + 1
    WHERE d.tenant_id = EXCLUDED.tenant_id OR d.desired = 'deregistered'
    RETURNING d.generation, d.url;
END;
$$;

COMMENT ON FUNCTION device_set_desired(text, text, text, text, text, text, boolean, text, text) IS
    'sets a device''s desired state at a new generation; no row when another tenant holds the MAC registered';

-- p_action, p_outcome and p_detail are the journal row's, without the generation and URL that the write decides.
CREATE FUNCTION ingest_event(
    p_tenant text, p_webhook_id text, p_type text, p_payload jsonb, p_mac text, p_desired text,
    p_device_id text, p_extension text, p_model text, p_skipped boolean, p_source text,
    p_actor text, p_action text, p_outcome text, p_detail jsonb
) RETURNS TABLE (outcome text, generation bigint, url text)
LANGUAGE plpgsql AS $$
DECLARE
    written record;
BEGIN
    IF p_desired = 'registered'
        AND EXISTS (SELECT 1 FROM tenants t WHERE t.id = p_tenant AND t.mac_prefixes IS NOT NULL) THEN
        RETURN QUERY SELECT 'full'::text, NULL::bigint, NULL::text;
        RETURN;
    END IF;
    IF p_device_id IS NOT NULL AND EXISTS (
        SELECT 1 FROM devices d WHERE d.tenant_id = p_tenant AND d.device_id = p_device_id AND d.mac <> p_mac) THEN
        RETURN QUERY SELECT 'full'::text, NULL::bigint, NULL::text;
        RETURN;
    END IF;
    IF EXISTS (SELECT 1 FROM devices d WHERE d.mac = p_mac AND d.tenant_id IS DISTINCT FROM p_tenant
               AND d.desired = 'registered') THEN
        RETURN QUERY SELECT 'full'::text, NULL::bigint, NULL::text;
        RETURN;
    END IF;
    INSERT INTO webhook_events (tenant_id, webhook_id, type, payload)
    VALUES (p_tenant, p_webhook_id, p_type, p_payload)
    ON CONFLICT (tenant_id, webhook_id) DO NOTHING;
    IF NOT FOUND THEN
        RETURN QUERY SELECT 'duplicate'::text, NULL::bigint, NULL::text;
        RETURN;
    END IF;
    SELECT * INTO written FROM device_set_desired(
        p_tenant, p_mac, p_desired, p_device_id, p_extension, p_model, p_skipped, p_source, NULL);
    IF NOT FOUND THEN
        RAISE EXCEPTION 'MAC % was claimed by a concurrent event', p_mac USING ERRCODE = 'serialization_failure';
    END IF;
    INSERT INTO journal (tenant_id, mac, actor, action, outcome, event_id, detail)
    VALUES (p_tenant, p_mac, p_actor, p_action, p_outcome, p_webhook_id,
            p_detail || jsonb_build_object('generation', written.generation)
                || CASE WHEN p_desired = 'registered' AND written.url IS NOT NULL
                        THEN jsonb_build_object('url', written.url) ELSE '{}'::jsonb END);
    RETURN QUERY SELECT 'accepted'::text, written.generation, written.url;
END;
$$;

COMMENT ON FUNCTION ingest_event(text, text, text, jsonb, text, text, text, text, text, boolean, text, text, text,
    text, jsonb) IS
    'records a one-MAC event in one call, or answers ''full'' having written nothing';

-- PostgreSQL commits a statement sent outside a transaction only when the client's Sync arrives, after the
-- statement's rows have gone out, and a client may act on the rows at once (PostgresNIO does). An answer of
-- ingest_event() alone therefore does not prove the event was committed; a webhook is acknowledged only after its
-- COMMIT. record_event() commits inside the call and answers after the COMMIT, in the same one round trip.
CREATE PROCEDURE record_event(
    p_tenant text, p_webhook_id text, p_type text, p_payload jsonb, p_mac text, p_desired text,
    p_device_id text, p_extension text, p_model text, p_skipped boolean, p_source text,
    p_actor text, p_action text, p_outcome text, p_detail jsonb, INOUT outcome text DEFAULT NULL
)
LANGUAGE plpgsql AS $$
BEGIN
    SELECT e.outcome INTO outcome FROM ingest_event(
        p_tenant, p_webhook_id, p_type, p_payload, p_mac, p_desired, p_device_id, p_extension, p_model, p_skipped,
        p_source, p_actor, p_action, p_outcome, p_detail) e;
    COMMIT;
END;
$$;

COMMENT ON PROCEDURE record_event(text, text, text, jsonb, text, text, text, text, text, boolean, text, text, text,
    text, jsonb, text) IS
    'ingest_event() committed before it answers: an answer of ''accepted'' is a committed event';
