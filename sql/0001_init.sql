-- provhook's schema: tenants, devices (desired state per MAC), accepted webhook events and the journal.

-- A tenant is one PBX customer: its webhooks are signed with its secret, and its phones are pointed at its
-- provisioning URL template.
CREATE TABLE tenants (
    id             text        PRIMARY KEY
                               CONSTRAINT tenant_id_format CHECK (id ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$'),
    name           text        NOT NULL CONSTRAINT tenant_name_length CHECK (length(name) BETWEEN 1 AND 200),
    url_template   text        NOT NULL
                               CONSTRAINT tenant_url_template_scheme CHECK (url_template ~* '^(https?|ftp|tftp)://[^/?#[:space:]]+'),
    webhook_secret text        NOT NULL CONSTRAINT tenant_webhook_secret_format CHECK (webhook_secret ~ '^whsec_[A-Za-z0-9+/=]{16,}$'),
    allow_bearer   boolean     NOT NULL DEFAULT false,
    removed_at     timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);

COMMENT ON COLUMN tenants.url_template IS 'absolute http, https, ftp or tftp URL; <mac> becomes the MAC as 12 uppercase hex digits';
COMMENT ON COLUMN tenants.removed_at IS 'set by tenant remove: its devices are deregistered and its webhooks answer 404';

-- One row per MAC: what the PBX wants (desired, url) and what provhook has applied at the Snom service.
-- A MAC belongs to at most one tenant at a time.
CREATE TABLE devices (
    mac             text        PRIMARY KEY CONSTRAINT device_mac_format CHECK (mac ~ '^[0-9A-F]{12}$'),
    tenant_id       text        NOT NULL REFERENCES tenants (id),
    device_id       text        CONSTRAINT device_id_length CHECK (length(device_id) BETWEEN 1 AND 200),
    extension       text,
    model           text,
    desired         text        NOT NULL CONSTRAINT device_desired_state CHECK (desired IN ('registered', 'deregistered')),
    url             text        CONSTRAINT device_url_scheme CHECK (url ~* '^(https?|ftp|tftp)://[^/?#[:space:]]+'),
    status          text        NOT NULL DEFAULT 'pending'
                                CONSTRAINT device_status CHECK (status IN ('pending', 'registered', 'deregistered', 'failed', 'conflict', 'skipped')),
    generation      bigint      NOT NULL DEFAULT 1,
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    claimed_until   timestamptz,
    pending_since   timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT device_registered_has_url CHECK (desired = 'deregistered' OR url IS NOT NULL),
    CONSTRAINT device_id_unique_per_tenant UNIQUE (tenant_id, device_id)
);

COMMENT ON COLUMN devices.generation IS 'bumped on every change of the desired state; outcomes are written only for the generation they worked on';
COMMENT ON COLUMN devices.pending_since IS 'when the current generation started waiting; the give-up age is measured from here';

-- The worker's claim: due pending devices, oldest first.
CREATE INDEX devices_due ON devices (next_attempt_at) WHERE status = 'pending';
CREATE INDEX devices_tenant_status ON devices (tenant_id, status);

-- Accepted webhooks, keyed by the sender's webhook-id: a redelivery is recognised and changes nothing.
CREATE TABLE webhook_events (
    tenant_id   text        NOT NULL REFERENCES tenants (id),
    webhook_id  text        NOT NULL CONSTRAINT webhook_id_length CHECK (length(webhook_id) BETWEEN 1 AND 256),
    type        text        NOT NULL,
    payload     jsonb       NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, webhook_id)
);

-- The audit trail: one row per event, decision and call (one row per MAC for list calls).
-- Append-only: the triggers below refuse UPDATE, DELETE and TRUNCATE. No row holds a secret.
CREATE TABLE journal (
    id        bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at        timestamptz NOT NULL DEFAULT clock_timestamp(),
    tenant_id text,
    mac       text        CONSTRAINT journal_mac_format CHECK (mac ~ '^[0-9A-F]{12}$'),
    actor     text        NOT NULL,
    action    text        NOT NULL,
    outcome   text        NOT NULL,
    event_id  text,
    detail    jsonb       NOT NULL DEFAULT '{}'::jsonb
);

COMMENT ON COLUMN journal.actor IS 'who caused the row: webhook:<source address>, cli:<user>, worker:<instance>, reconcile:<user>';
COMMENT ON COLUMN journal.action IS 'event.device.added, event.rejected, redirect.registerPhone, tenant.add, …';
COMMENT ON COLUMN journal.detail IS 'structured detail: method, url, attempt, latency_ms, error, …; never a secret';

CREATE INDEX journal_mac_at ON journal (mac, at);
CREATE INDEX journal_tenant_at ON journal (tenant_id, at);
CREATE INDEX journal_at ON journal (at);

CREATE FUNCTION journal_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'journal is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'journal rows can be added and read, never changed or removed';
END;
$$;

CREATE TRIGGER journal_append_only
    BEFORE UPDATE OR DELETE ON journal
    FOR EACH ROW EXECUTE FUNCTION journal_refuse_change();

CREATE TRIGGER journal_no_truncate
    BEFORE TRUNCATE ON journal
    FOR EACH STATEMENT EXECUTE FUNCTION journal_refuse_change();
