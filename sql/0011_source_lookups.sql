-- Wazo and FusionPBX sources, PBX APIs for events that carry no MAC, and Kazoo hooks that serve many accounts.
-- A FusionPBX source's "API" is its database: api_url is the URL without its password (for display), the sealed
-- secret the whole URL, api_tenant the FusionPBX domain.
--
-- A source may name its PBX's API (Kazoo crossbar, or Wazo's wazo-auth and wazo-confd behind one base URL). Its
-- secret (a Kazoo API key, a Wazo user's password) is sealed like the token, bound to the source's name and to its
-- use; the CA file is a path, read by `provhook serve`. A Kazoo source may map Kazoo accounts to tenants
-- (source_accounts), so that one hook on a reseller account, with include_subaccounts, serves all of them; its
-- own tenant, if any, takes the accounts that are not listed.
ALTER TABLE sources
    DROP CONSTRAINT source_kind,
    ADD CONSTRAINT source_kind CHECK (kind IN ('kazoo', 'wazo', 'mapping', 'fusionpbx')),
    ALTER COLUMN tenant_id DROP NOT NULL,
    ADD COLUMN api_url            text CONSTRAINT source_api_url CHECK (api_url ~ '^(https?|postgres|postgresql)://[^/?#\x01-\x20\x7F]+(/[^?#\x01-\x20\x7F]*)?$'),
    ADD COLUMN api_user           text CONSTRAINT source_api_user CHECK (length(api_user) BETWEEN 1 AND 200),
    ADD COLUMN api_secret_sealed  bytea CONSTRAINT source_api_secret_size CHECK (octet_length(api_secret_sealed) BETWEEN 29 AND 4096),
    ADD COLUMN api_secret_key_id  text CONSTRAINT source_api_secret_key_id CHECK (api_secret_key_id ~ '^[0-9a-f]{16}$'),
    ADD COLUMN api_ca_file        text CONSTRAINT source_api_ca_file CHECK (api_ca_file LIKE '/%'),
    ADD COLUMN api_tenant         text CONSTRAINT source_api_tenant CHECK (length(api_tenant) BETWEEN 1 AND 200),
    ADD CONSTRAINT source_api_complete CHECK (
        (api_url IS NULL) = (api_secret_sealed IS NULL) AND (api_secret_sealed IS NULL) = (api_secret_key_id IS NULL)
        AND (api_url IS NOT NULL OR (api_user IS NULL AND api_ca_file IS NULL AND api_tenant IS NULL))),
    ADD CONSTRAINT source_api_for_kind CHECK (
        kind <> 'mapping' OR api_url IS NULL),
    ADD CONSTRAINT source_wazo_user CHECK (
        kind <> 'wazo' OR api_url IS NULL OR api_user IS NOT NULL),
    ADD CONSTRAINT source_kazoo_no_user CHECK (
        kind <> 'kazoo' OR (api_user IS NULL AND api_tenant IS NULL));

CREATE TABLE source_accounts (
    source     text NOT NULL REFERENCES sources (name),
    account_id text NOT NULL CONSTRAINT source_account_format CHECK (account_id ~ '^[A-Za-z0-9_.-]{1,64}$'),
    tenant_id  text NOT NULL REFERENCES tenants (id),
    PRIMARY KEY (source, account_id)
);
CREATE INDEX source_accounts_tenant ON source_accounts (tenant_id);

-- Events that name a device only by the PBX's id and must be looked up in its API before they can be planned: a
-- Wazo device_created or device_edited, a Kazoo doc_created or doc_edited without mac_address. Each is committed
-- here before the webhook is answered, then resolved by `provhook serve`: looked up, then recorded through the
-- planner like any event (under the same event id, so a row resolved twice is recorded once), and deleted.
-- A lookup that fails for a reason that can pass (the API is down, slow, or refuses the credentials) is tried again
-- later, never dropped; one the PBX answers "no such device" is journaled as a rejection and dropped.
CREATE TABLE source_lookups (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source          text        NOT NULL REFERENCES sources (name),
    tenant_id       text        NOT NULL REFERENCES tenants (id),
    event_id        text        NOT NULL CONSTRAINT source_lookup_event_id CHECK (length(event_id) BETWEEN 1 AND 200),
    type            text        NOT NULL CONSTRAINT source_lookup_type CHECK (type IN ('device.added', 'device.updated')),
    device_id       text        NOT NULL CONSTRAINT source_lookup_device_id CHECK (length(device_id) BETWEEN 1 AND 200),
    account_id      text        CONSTRAINT source_lookup_account CHECK (account_id ~ '^[A-Za-z0-9_.-]{1,64}$'),
    actor           text        NOT NULL,
    received_at     timestamptz NOT NULL DEFAULT now(),
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    leased_until    timestamptz,
    last_error      text,
    CONSTRAINT source_lookup_once UNIQUE (tenant_id, event_id)
);
CREATE INDEX source_lookups_due ON source_lookups (next_attempt_at);
CREATE INDEX source_lookups_device ON source_lookups (tenant_id, device_id);
