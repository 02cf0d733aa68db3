-- A phone's serial number (devices.serial), stored with its device: some provisioning services register a phone by
-- its serial number rather than its MAC alone (Yealink's YMCS), so provhook keeps the one its PBX, a mapping or an
-- import gives. An event that gives one replaces it; an event without one keeps the one the device has, as the
-- vendor is kept (0022). Like the model and the vendor, it belongs to the phone: it stays when another tenant takes
-- the MAC.
--
-- A serial number is 1 to 64 ASCII letters, digits and - . _ : / (Yealink's are digits, Poly's the MAC or an
-- alphanumeric code). provhook checks it where it arrives (DeviceSerial: surrounding spaces trimmed, anything else
-- refused with invalid_field naming the field, or read as none from a PBX's API); the CHECK keeps anything else out
-- whoever writes.
--
-- device_set_desired() and ingest_event() (0022) take it as a last argument, p_serial, that defaults to NULL: a
-- serve from before this migration, still running while it is applied, calls them as it did and keeps every serial.
-- record_events() (0022) passes it on from the events' "serial", which such a serve does not send.

ALTER TABLE devices
    ADD COLUMN serial text CONSTRAINT device_serial_format CHECK (serial ~ '^[A-Za-z0-9._:/-]{1,64}$');

COMMENT ON COLUMN devices.serial IS
    'the phone''s serial number, as the last event that gave one said; NULL until one does (an event without one keeps it)';

DROP FUNCTION device_set_desired(text, text, text, text, text, text, text, text, boolean, text, text);

CREATE FUNCTION device_set_desired(
    p_tenant text, p_mac text, p_desired text, p_device_id text, p_extension text, p_model text,
    p_brand_vendor text, p_prefix_vendor text, p_skipped boolean, p_source text, p_url text, p_serial text DEFAULT NULL
) RETURNS TABLE (generation bigint, url text, vendor text, account text, status text, skipped_because text)
LANGUAGE plpgsql AS $$
DECLARE
    v text;
BEGIN
    IF p_device_id IS NOT NULL THEN
        -- device_id is unique per tenant: the id moves to this MAC.
        UPDATE devices d SET device_id = NULL
        WHERE d.tenant_id = p_tenant AND d.device_id = p_device_id AND d.mac <> p_mac;
    END IF;
    -- A brand the PBX gives wins; without one a device keeps the vendor it has, and a new one takes its prefix's.
    v := coalesce(p_brand_vendor, (SELECT d.vendor FROM devices d WHERE d.mac = p_mac), p_prefix_vendor);
    RETURN QUERY
    INSERT INTO devices AS d (mac, tenant_id, device_id, extension, model, vendor, serial, desired, url, status,
                              skipped_because, source)
    VALUES (p_mac, p_tenant, p_device_id, p_extension, p_model, v, p_serial, p_desired,
            CASE WHEN p_desired = 'registered'
                 THEN coalesce(p_url, render_url(vendor_url_template(p_tenant, v), p_mac)) END,
            CASE WHEN p_skipped THEN 'skipped' ELSE 'pending' END,
            CASE WHEN p_skipped THEN 'vendor_not_allowed' END, p_source)
    ON CONFLICT (mac) DO UPDATE SET
        tenant_id = EXCLUDED.tenant_id,
        device_id = coalesce(EXCLUDED.device_id, CASE WHEN d.tenant_id = EXCLUDED.tenant_id THEN d.device_id END),
        extension = coalesce(EXCLUDED.extension, CASE WHEN d.tenant_id = EXCLUDED.tenant_id THEN d.extension END),
        source = coalesce(EXCLUDED.source, CASE WHEN d.tenant_id = EXCLUDED.tenant_id THEN d.source END),
        model = coalesce(EXCLUDED.model, d.model),
        vendor = EXCLUDED.vendor,
        -- Given, it replaces the one the device has; not given, the device keeps its own, whatever the tenant.
        serial = coalesce(EXCLUDED.serial, d.serial),
        desired = EXCLUDED.desired,
        url = coalesce(EXCLUDED.url, d.url),
        status = EXCLUDED.status,
        skipped_because = EXCLUDED.skipped_because,
        generation = d.generation + 1
    WHERE NOT mac_held_by_another(d.tenant_id, d.desired, EXCLUDED.tenant_id)
    RETURNING d.generation, d.url, d.vendor, d.account, d.status, d.skipped_because;
END;
$$;

COMMENT ON FUNCTION device_set_desired(text, text, text, text, text, text, text, text, boolean, text, text, text) IS
    'sets a device''s desired state at a new generation; no row when another tenant holds the MAC registered';

DROP FUNCTION ingest_event(
    text, text, text, jsonb, text, text, text, text, text, text, text, boolean, text, text, text, jsonb);

CREATE FUNCTION ingest_event(
    p_tenant text, p_webhook_id text, p_type text, p_payload jsonb, p_mac text, p_desired text,
    p_device_id text, p_extension text, p_model text, p_brand_vendor text, p_prefix_vendor text, p_skipped boolean,
    p_source text, p_actor text, p_action text, p_detail jsonb, p_serial text DEFAULT NULL
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
        p_tenant, p_mac, p_desired, p_device_id, p_extension, p_model, p_brand_vendor, p_prefix_vendor, p_skipped,
        p_source, NULL, p_serial);
    IF NOT FOUND THEN
        RAISE EXCEPTION 'MAC % was claimed by a concurrent event', p_mac USING ERRCODE = 'serialization_failure';
    END IF;
    -- The journal row as the store's full path writes it (JournalEntry.eventAccepted; p_detail already holds the
    -- serial the event gave, as it holds its model).
    INSERT INTO journal (tenant_id, mac, actor, action, outcome, event_id, detail)
    VALUES (p_tenant, p_mac, p_actor, p_action,
            CASE WHEN written.status = 'skipped' THEN 'skipped' ELSE 'accepted' END, p_webhook_id,
            p_detail || jsonb_build_object('generation', written.generation)
                || CASE WHEN p_desired = 'registered' AND written.url IS NOT NULL
                        THEN jsonb_build_object('url', written.url) ELSE '{}'::jsonb END
                || jsonb_strip_nulls(jsonb_build_object(
                       'vendor', written.vendor, 'account', written.account, 'reason', written.skipped_because)));
    RETURN QUERY SELECT 'accepted'::text, written.generation, written.url;
END;
$$;

COMMENT ON FUNCTION ingest_event(
    text, text, text, jsonb, text, text, text, text, text, text, text, boolean, text, text, text, jsonb, text) IS
    'records a one-MAC event in one call, or answers ''full'' having written nothing';

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
                    -- A serve from before this migration sends no "serial": NULL, and the device keeps its own.
                    e->>'serial') r;
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
