-- Secrets bound to where they may be sent. A redirection account's password and a source's PBX API secret leave
-- provhook: they are sent to the account's URL and to the PBX's API. The app's login may change those rows, so a
-- sealed secret now authenticates, besides its owner, the origin (scheme, host, port) of the URL it is sent to and the
-- CA file that vouches for that host: a row whose URL or CA file changed without the secret being given again does
-- not open, and nothing is sent to the new place.
--
-- An account that keeps its password in a file (password_file) stores the file's path sealed the same way in
-- password_sealed: a row that names another file, or sends it elsewhere, does not open either.
--
-- Rows sealed before this migration are bound by `provhook migrate` run with PROVHOOK_SECRET_KEY_FILE (or by
-- `provhook tenant reseal`), to the URL and CA file they hold then, and journaled; `serve` refuses to start while any
-- is unbound.
ALTER TABLE redirect_accounts
    ADD COLUMN destination_bound boolean NOT NULL DEFAULT false,
    DROP CONSTRAINT account_has_credentials,
    ADD CONSTRAINT account_has_credentials CHECK (name = 'default' OR (
        username IS NOT NULL AND (password_sealed IS NOT NULL OR password_file IS NOT NULL))),
    ADD CONSTRAINT account_destination_bound CHECK (NOT destination_bound OR password_sealed IS NOT NULL);

COMMENT ON COLUMN redirect_accounts.password_sealed IS
    'AES-256-GCM under PROVHOOK_SECRET_KEY_FILE of the password, or of password_file''s path, bound to the account''s name, URL origin and CA file';
COMMENT ON COLUMN redirect_accounts.password_file IS
    'instead of a sealed password: a file under PROVHOOK_SECRETS_DIR that serve reads (its path is sealed in password_sealed)';
COMMENT ON COLUMN redirect_accounts.destination_bound IS
    'password_sealed is bound to the URL origin and CA file (migration 0016); false only for rows from before it';

ALTER TABLE sources ADD COLUMN api_secret_bound boolean NOT NULL DEFAULT false;

COMMENT ON COLUMN sources.api_secret_bound IS
    'api_secret_sealed is bound to the API URL''s origin and CA file (migration 0016); false only for rows from before it';
