-- The MAC-holder rule, written once: a MAC that another tenant holds and still wants registered is not another
-- tenant's to take (the planner refuses it as `mac_in_use`). mac_held_by_another() is that rule; everything that
-- applies it asks it: device_set_desired()'s WHERE (a MAC held by another is left alone), ingest_event()'s check
-- (such an event takes the full transaction, whose planner refuses it), and the store's reads for the planner and
-- for a PBX sync, which take its answer as they read the devices. device_set_desired() and ingest_event() are
-- 0013's, unchanged but for that.
--
-- A device with no tenant is always deregistered (device_unclaimed_is_deregistered), so it is never held.

CREATE FUNCTION mac_held_by_another(holder_tenant text, holder_desired text, tenant text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT holder_desired = 'registered' AND holder_tenant IS DISTINCT FROM tenant $$;

COMMENT ON FUNCTION mac_held_by_another(text, text, text) IS
    'whether a device of holder_tenant wanting holder_desired keeps its MAC from tenant: the MAC-holder rule';

CREATE OR REPLACE FUNCTION device_set_desired(
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
    WHERE NOT mac_held_by_another(d.tenant_id, d.desired, EXCLUDED.tenant_id)
    RETURNING d.generation, d.url;
END;
$$;

-- p_action, p_outcome and p_detail are the journal row's, without the generation and URL that the write decides.
CREATE OR REPLACE FUNCTION ingest_event(
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
    IF EXISTS (SELECT 1 FROM devices d WHERE d.mac = p_mac
               AND mac_held_by_another(d.tenant_id, d.desired, p_tenant)) THEN
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
