-- A phone's vendor, and a tenant's accounts one per vendor.
--
-- Every device now has a vendor (devices.vendor): the brand its PBX gives, else the vendor of its MAC's prefix, as
-- the planner resolves them; NULL when neither says. An account serves the vendor of its kind
-- (redirect_accounts.vendor); a tenant names at most one account per vendor (tenant_vendors), and a device of
-- vendor V is served by its tenant's account for V, else by the installation's default account for V
-- (redirect_accounts.vendor_default; 'default', from PROVHOOK_REDIRECT_*, stays Snom's), else by none: it is then
-- `skipped` with the reason `no_account_for_vendor` (devices.skipped_because), and devices_reassign() hands it to
-- the account that appears for it later. vendor_account() is that choice, written once; the trigger of 0014 and the
-- reassignment ask it.
--
-- tenants.account (0014) moves into tenant_vendors and is dropped: a tenant that named an account other than
-- 'default' keeps it for that account's vendor; one that named 'default' follows Snom's default, as before.
-- A tenant may also give a URL template per vendor (tenant_vendors.url_template; vendor_url_template()), since phones
-- of different vendors fetch different files; tenants.url_template is every other vendor's.
--
-- device_set_desired() and ingest_event() (0013, 0020) take the vendor and are replaced; record_events() (0018)
-- passes it on; devices_follow_tenant_account() (0014) chooses by vendor. Devices from before this migration are
-- Snom's unless they were skipped (outside the vendor-prefix filter of the time): those keep no vendor and the
-- reason `vendor_not_allowed` until their next event.

ALTER TABLE redirect_accounts
    ADD COLUMN vendor text NOT NULL DEFAULT 'snom',
    ADD COLUMN vendor_default boolean NOT NULL DEFAULT false,
    ADD CONSTRAINT account_vendor_format CHECK (vendor ~ '^[a-z0-9][a-z0-9-]{0,31}$'),
    ADD CONSTRAINT account_name_vendor UNIQUE (name, vendor);
-- Every account so far is Snom's (kinds snom and snom-sraps); from now on the writer names the vendor.
ALTER TABLE redirect_accounts ALTER COLUMN vendor DROP DEFAULT;
CREATE UNIQUE INDEX account_one_default_per_vendor ON redirect_accounts (vendor) WHERE vendor_default;
UPDATE redirect_accounts SET vendor_default = true WHERE name = 'default';

COMMENT ON TABLE redirect_accounts IS
    'provisioning-service accounts of any kind; ''default'' is Snom XML-RPC with its credentials from PROVHOOK_REDIRECT_*';
COMMENT ON COLUMN redirect_accounts.vendor IS 'the vendor whose phones the account''s service provisions (its kind''s)';
COMMENT ON COLUMN redirect_accounts.vendor_default IS
    'the installation''s default account for its vendor: it serves the vendor''s devices of tenants that name none';

CREATE TABLE tenant_vendors (
    tenant_id text NOT NULL REFERENCES tenants (id),
    vendor text NOT NULL CONSTRAINT tenant_vendor_format CHECK (vendor ~ '^[a-z0-9][a-z0-9-]{0,31}$'),
    account text,
    url_template text
        CONSTRAINT tenant_vendor_url_template_scheme CHECK (url_template ~* '^(https?|ftp|tftp)://[^/?#[:space:]]+'),
    PRIMARY KEY (tenant_id, vendor),
    -- The account must serve the vendor it is named for.
    CONSTRAINT tenant_vendor_account FOREIGN KEY (account, vendor) REFERENCES redirect_accounts (name, vendor),
    CONSTRAINT tenant_vendor_says_something CHECK (account IS NOT NULL OR url_template IS NOT NULL)
);

COMMENT ON TABLE tenant_vendors IS
    'a tenant''s settings for one vendor: the account that serves its phones of that vendor, and their URL template';
COMMENT ON COLUMN tenant_vendors.account IS 'NULL: the installation''s default account for the vendor';
COMMENT ON COLUMN tenant_vendors.url_template IS 'NULL: tenants.url_template';

INSERT INTO tenant_vendors (tenant_id, vendor, account)
SELECT t.id, a.vendor, t.account FROM tenants t JOIN redirect_accounts a ON a.name = t.account
WHERE t.account <> 'default';

ALTER TABLE devices
    ADD COLUMN vendor text CONSTRAINT device_vendor_format CHECK (vendor ~ '^[a-z0-9][a-z0-9-]{0,31}$'),
    ADD COLUMN skipped_because text CONSTRAINT device_skip_reason
        CHECK (skipped_because IN ('vendor_not_allowed', 'unknown_vendor', 'no_account_for_vendor')),
    ALTER COLUMN account DROP NOT NULL,
    ALTER COLUMN account DROP DEFAULT;

UPDATE devices SET vendor = 'snom' WHERE status <> 'skipped';
UPDATE devices SET skipped_because = 'vendor_not_allowed' WHERE status = 'skipped';

ALTER TABLE devices
    ADD CONSTRAINT device_skipped_has_reason CHECK ((status = 'skipped') = (skipped_because IS NOT NULL)),
    ADD CONSTRAINT device_has_account CHECK (account IS NOT NULL OR status = 'skipped');

COMMENT ON COLUMN devices.vendor IS
    'the phone''s vendor: the brand its PBX gives, else its MAC prefix''s; NULL when neither says';
COMMENT ON COLUMN devices.skipped_because IS
    'why a skipped device is never sent: vendor_not_allowed (outside PROVHOOK_VENDOR_PREFIXES), unknown_vendor, no_account_for_vendor';
COMMENT ON COLUMN devices.account IS
    'the account the next call is made with (the one that holds the MAC, or will); NULL: none serves its vendor';

CREATE FUNCTION tenant_vendor_set(
    p_tenant text, p_vendor text, p_set_account boolean, p_account text, p_set_template boolean, p_template text
) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    current tenant_vendors%ROWTYPE;
    new_account text;
    new_template text;
BEGIN
    SELECT * INTO current FROM tenant_vendors WHERE tenant_id = p_tenant AND vendor = p_vendor FOR UPDATE;
    new_account := CASE WHEN p_set_account THEN p_account ELSE current.account END;
    new_template := CASE WHEN p_set_template THEN p_template ELSE current.url_template END;
    IF new_account IS NULL AND new_template IS NULL THEN
        DELETE FROM tenant_vendors WHERE tenant_id = p_tenant AND vendor = p_vendor;
    ELSE
        INSERT INTO tenant_vendors (tenant_id, vendor, account, url_template)
        VALUES (p_tenant, p_vendor, new_account, new_template)
        ON CONFLICT (tenant_id, vendor) DO UPDATE SET account = EXCLUDED.account, url_template = EXCLUDED.url_template;
    END IF;
    RETURN current.account;
END;
$$;

COMMENT ON FUNCTION tenant_vendor_set(text, text, boolean, text, boolean, text) IS
    'sets a tenant''s account and/or URL template for a vendor (NULL removes it; a row left with neither goes); returns the account it had';

-- vendor_account() and vendor_url_template() are PL/pgSQL, not SQL, although each is two lookups: every event calls
-- them from PL/pgSQL (device_set_desired() and the trigger), where a SQL function is planned again at each call and
-- a PL/pgSQL one keeps its plans for the session. As SQL functions they cost a quarter of ingest_event()'s rate.
CREATE FUNCTION vendor_account(p_tenant text, p_vendor text) RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
DECLARE
    found text;
BEGIN
    IF p_vendor IS NULL THEN
        RETURN NULL;
    END IF;
    SELECT tv.account INTO found FROM tenant_vendors tv WHERE tv.tenant_id = p_tenant AND tv.vendor = p_vendor;
    IF found IS NULL THEN
        SELECT a.name INTO found FROM redirect_accounts a WHERE a.vendor = p_vendor AND a.vendor_default;
    END IF;
    RETURN found;
END;
$$;

COMMENT ON FUNCTION vendor_account(text, text) IS
    'the account that serves a tenant''s phones of a vendor: the tenant''s own for it, else the vendor''s default; NULL: none';

CREATE FUNCTION vendor_url_template(p_tenant text, p_vendor text) RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
DECLARE
    found text;
BEGIN
    IF p_vendor IS NOT NULL THEN
        SELECT tv.url_template INTO found FROM tenant_vendors tv WHERE tv.tenant_id = p_tenant AND tv.vendor = p_vendor;
    END IF;
    IF found IS NULL THEN
        SELECT t.url_template INTO found FROM tenants t WHERE t.id = p_tenant;
    END IF;
    RETURN found;
END;
$$;

COMMENT ON FUNCTION vendor_url_template(text, text) IS
    'the URL template of a tenant''s phones of a vendor: the tenant''s for that vendor, else its own';

ALTER TABLE tenants DROP COLUMN account;

CREATE OR REPLACE FUNCTION devices_follow_tenant_account() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    wanted text;
BEGIN
    IF NEW.tenant_id IS NULL THEN
        RETURN NEW;
    END IF;
    wanted := vendor_account(NEW.tenant_id, NEW.vendor);
    IF TG_OP = 'INSERT' THEN
        NEW.account := wanted;
        NEW.move_to := NULL;
    ELSIF (NEW.tenant_id IS DISTINCT FROM OLD.tenant_id OR NEW.vendor IS DISTINCT FROM OLD.vendor
           OR OLD.account IS NULL)
          AND wanted IS DISTINCT FROM coalesce(OLD.move_to, OLD.account) THEN
        IF NOT device_may_be_held(OLD.status, OLD.move_to) THEN
            NEW.account := wanted;
            NEW.move_to := NULL;
        ELSIF wanted IS NULL THEN
            -- An account of ours may hold the MAC and none serves it now: it stays with that one, which can still
            -- deregister it.
            NEW.move_to := NULL;
        ELSIF wanted = OLD.account THEN
            NEW.move_to := NULL;
        ELSE
            NEW.move_to := wanted;
        END IF;
    END IF;
    IF NEW.account IS NULL AND NEW.status <> 'skipped' THEN
        NEW.status := 'skipped';
        NEW.skipped_because := CASE WHEN NEW.vendor IS NULL THEN 'unknown_vendor' ELSE 'no_account_for_vendor' END;
    END IF;
    RETURN NEW;
END;
$$;

COMMENT ON FUNCTION devices_follow_tenant_account() IS
    'gives a device the account vendor_account() chooses when it is added, changes tenant or vendor, or had none; a MAC an account of ours may hold moves (move_to); a device no account serves is skipped';

DROP TRIGGER devices_follow_tenant_account ON devices;
CREATE TRIGGER devices_follow_tenant_account BEFORE INSERT OR UPDATE OF tenant_id, vendor ON devices
    FOR EACH ROW EXECUTE FUNCTION devices_follow_tenant_account();

-- The wake-up compared accounts with <>, which says nothing once an account may be NULL.
DROP TRIGGER devices_wake_workers_on_update ON devices;
CREATE TRIGGER devices_wake_workers_on_update AFTER UPDATE ON devices
    FOR EACH ROW
    WHEN (NEW.status = 'pending' AND NEW.next_attempt_at <= now()
          AND (OLD.status <> 'pending' OR NEW.generation <> OLD.generation OR NEW.account IS DISTINCT FROM OLD.account))
    EXECUTE FUNCTION devices_wake_workers();

DROP FUNCTION device_set_desired(text, text, text, text, text, text, boolean, text, text);

CREATE FUNCTION device_set_desired(
    p_tenant text, p_mac text, p_desired text, p_device_id text, p_extension text, p_model text,
    p_brand_vendor text, p_prefix_vendor text, p_skipped boolean, p_source text, p_url text
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
    INSERT INTO devices AS d (mac, tenant_id, device_id, extension, model, vendor, desired, url, status,
                              skipped_because, source)
    VALUES (p_mac, p_tenant, p_device_id, p_extension, p_model, v, p_desired,
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
        desired = EXCLUDED.desired,
        url = coalesce(EXCLUDED.url, d.url),
        status = EXCLUDED.status,
        skipped_because = EXCLUDED.skipped_because,
        generation = d.generation + 1
    WHERE NOT mac_held_by_another(d.tenant_id, d.desired, EXCLUDED.tenant_id)
    RETURNING d.generation, d.url, d.vendor, d.account, d.status, d.skipped_because;
END;
$$;

COMMENT ON FUNCTION device_set_desired(text, text, text, text, text, text, text, text, boolean, text, text) IS
    'sets a device''s desired state at a new generation; no row when another tenant holds the MAC registered';

DROP FUNCTION ingest_event(text, text, text, jsonb, text, text, text, text, text, boolean, text, text, text, text, jsonb);

CREATE FUNCTION ingest_event(
    p_tenant text, p_webhook_id text, p_type text, p_payload jsonb, p_mac text, p_desired text,
    p_device_id text, p_extension text, p_model text, p_brand_vendor text, p_prefix_vendor text, p_skipped boolean,
    p_source text, p_actor text, p_action text, p_detail jsonb
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
        p_source, NULL);
    IF NOT FOUND THEN
        RAISE EXCEPTION 'MAC % was claimed by a concurrent event', p_mac USING ERRCODE = 'serialization_failure';
    END IF;
    -- The journal row as the store's full path writes it (JournalEntry.eventAccepted).
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
    text, text, text, jsonb, text, text, text, text, text, text, text, boolean, text, text, text, jsonb) IS
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
                    -- A serve from before this migration, still running while it is applied, names no vendor: every
                    -- event it did not skip was for Snom's service, as it still is.
                    CASE WHEN e ? 'prefix_vendor' THEN e->>'prefix_vendor' ELSE 'snom' END,
                    (e->>'skipped')::boolean, e->>'source', e->>'actor', e->>'action', e->'detail') r;
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

CREATE FUNCTION devices_reassign(p_tenant text, p_vendor text)
RETURNS TABLE (mac text, tenant_id text, desired text, generation bigint, from_account text, to_account text,
               status text)
LANGUAGE sql AS $$
    -- After a tenant's account for a vendor or a vendor's default changed: every device of the tenant (NULL: of every
    -- tenant) and of the vendor (NULL: of every vendor) whose account is not the one vendor_account() now chooses.
    WITH targets AS (
        SELECT d.mac, d.account AS old_account, vendor_account(d.tenant_id, d.vendor) AS wanted,
               device_may_be_held(d.status, d.move_to) AS held
        FROM devices d
        WHERE d.tenant_id IS NOT NULL AND d.vendor IS NOT NULL
          AND (p_tenant IS NULL OR d.tenant_id = p_tenant) AND (p_vendor IS NULL OR d.vendor = p_vendor)
          AND vendor_account(d.tenant_id, d.vendor) IS DISTINCT FROM coalesce(d.move_to, d.account)
    ), changed AS (
        UPDATE devices d SET
            -- A MAC an account of ours may hold moves: deregistered with that one first (move_to), as in 0014.
            account = CASE WHEN t.held THEN d.account ELSE t.wanted END,
            move_to = CASE WHEN t.held AND t.wanted IS DISTINCT FROM d.account THEN t.wanted END,
            -- One that no account served and wants registering is sent now, at its vendor's URL.
            status = CASE
                WHEN t.held THEN d.status
                WHEN t.wanted IS NULL THEN 'skipped'
                WHEN d.skipped_because = 'no_account_for_vendor' THEN
                    CASE WHEN d.desired = 'registered' THEN 'pending' ELSE 'deregistered' END
                ELSE d.status END,
            skipped_because = CASE
                WHEN t.held THEN d.skipped_because
                WHEN t.wanted IS NULL THEN coalesce(d.skipped_because, 'no_account_for_vendor')
                WHEN d.skipped_because = 'no_account_for_vendor' THEN NULL
                ELSE d.skipped_because END,
            url = CASE WHEN NOT t.held AND t.wanted IS NOT NULL AND d.skipped_because = 'no_account_for_vendor'
                            AND d.desired = 'registered'
                       THEN render_url(vendor_url_template(d.tenant_id, d.vendor), d.mac) ELSE d.url END,
            generation = d.generation + CASE
                WHEN (t.held AND t.wanted IS NOT NULL)
                     OR (NOT t.held AND t.wanted IS NOT NULL AND d.skipped_because = 'no_account_for_vendor'
                         AND d.desired = 'registered') THEN 1
                ELSE 0 END
        FROM targets t
        WHERE d.mac = t.mac AND NOT (t.held AND t.wanted IS NULL)
        RETURNING d.mac, d.tenant_id, d.desired, d.generation, t.old_account, d.account, d.move_to, d.status
    )
    SELECT c.mac, c.tenant_id, c.desired, c.generation, c.old_account, coalesce(c.move_to, c.account), c.status
    FROM changed c
$$;

COMMENT ON FUNCTION devices_reassign(text, text) IS
    'gives devices the account vendor_account() now chooses; returns those changed, with the account each moves from and to';
