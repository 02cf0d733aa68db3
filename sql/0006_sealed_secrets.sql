-- Webhook secrets encrypted at rest. provhook seals each tenant's secret with AES-256-GCM under the key in
-- PROVHOOK_SECRET_KEY_FILE, which never reaches the database; the tenant's id is authenticated with it, so a sealed
-- secret copied onto another row does not open. `webhook_secret_key_id` names the key that sealed it, so that a
-- rotation knows which rows to re-seal.
--
-- Rows from before this migration keep their secret in clear in `webhook_secret` until `provhook migrate` runs with
-- PROVHOOK_SECRET_KEY_FILE set: it seals them and clears the column, in one transaction, and journals each as a
-- `tenant.update`. `provhook serve` refuses to start while any secret is still in clear. The column stays only for
-- that step; nothing writes to it any more.
ALTER TABLE tenants
    ALTER COLUMN webhook_secret DROP NOT NULL,
    ADD COLUMN webhook_secret_sealed bytea,
    ADD COLUMN webhook_secret_key_id text,
    -- Exactly one form: in clear (from before) or sealed.
    ADD CONSTRAINT tenant_webhook_secret_one_form
        CHECK ((webhook_secret IS NULL) <> (webhook_secret_sealed IS NULL)),
    ADD CONSTRAINT tenant_webhook_secret_key_id
        CHECK ((webhook_secret_sealed IS NULL) = (webhook_secret_key_id IS NULL)
               AND (webhook_secret_key_id IS NULL OR webhook_secret_key_id ~ '^[0-9a-f]{16}$')),
    -- A 12-byte nonce, the secret (whsec_ and at least 16 characters, at most a few hundred) and a 16-byte tag.
    ADD CONSTRAINT tenant_webhook_secret_sealed_size
        CHECK (webhook_secret_sealed IS NULL OR octet_length(webhook_secret_sealed) BETWEEN 50 AND 1024);
