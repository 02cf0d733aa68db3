-- Inbound sources: a PBX platform's own webhooks (today Kazoo's object hooks), each for one tenant, reached at
-- POST (or GET) /v1/sources/{name}/events. A source authenticates with a token that provhook generates; the token is
-- sealed like the tenants' webhook secrets (AES-256-GCM under PROVHOOK_SECRET_KEY_FILE, bound to the source's name).
CREATE TABLE sources (
    name           text        PRIMARY KEY
                               CONSTRAINT source_name_format CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$'),
    kind           text        NOT NULL CONSTRAINT source_kind CHECK (kind IN ('kazoo')),
    tenant_id      text        NOT NULL REFERENCES tenants (id),
    token_sealed   bytea       NOT NULL CONSTRAINT source_token_sealed_size CHECK (octet_length(token_sealed) BETWEEN 50 AND 1024),
    token_key_id   text        NOT NULL CONSTRAINT source_token_key_id CHECK (token_key_id ~ '^[0-9a-f]{16}$'),
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    removed_at     timestamptz
);
CREATE INDEX sources_tenant ON sources (tenant_id);
