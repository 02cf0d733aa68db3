-- What some services' accounts need besides a login (migration 0024):
--   override         the account takes a MAC that another account of its service holds (Yealink RPS's override flag;
--                    the Htek and Akuvox services built like it have one too). Taking a phone from another account is
--                    the operator's decision, so it is off unless the account says so; without it such a MAC is a
--                    conflict. Services without the flag refuse it when the account is added.
--   serial_required  the service registers a phone only with its serial number (a Yealink YMCS account that Yealink
--                    has not enabled for MAC-only registration): set by the operator, or by provhook when the service
--                    says so, and then kept.
--   profile          Poly ZTP: the profile an operator named for the account's phones; NULL: provhook keeps one of
--                    its own per provisioning URL.
-- An account that authenticates with a key alone (Poly ZTP's API key) has no user: `username` may be NULL there.

ALTER TABLE redirect_accounts
    ADD COLUMN override boolean NOT NULL DEFAULT false,
    ADD COLUMN serial_required boolean NOT NULL DEFAULT false,
    ADD COLUMN profile text,
    ADD CONSTRAINT account_default_no_options CHECK (name <> 'default' OR NOT (override OR serial_required)
        AND profile IS NULL),
    ADD CONSTRAINT account_profile_format CHECK (profile ~ '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$'),
    DROP CONSTRAINT account_has_credentials,
    ADD CONSTRAINT account_has_credentials CHECK (name = 'default'
        OR password_sealed IS NOT NULL OR password_file IS NOT NULL);

COMMENT ON COLUMN redirect_accounts.override IS
    'the account takes a MAC another account of its service holds (the service''s override flag); off: such a MAC is a conflict';
COMMENT ON COLUMN redirect_accounts.serial_required IS
    'the service registers a phone only with its serial number (Yealink YMCS without MAC-only registration); set by the operator or learned from the service';
COMMENT ON COLUMN redirect_accounts.profile IS
    'Poly ZTP: the profile the account''s phones are assigned to; NULL: one profile per provisioning URL, kept by provhook';
COMMENT ON COLUMN redirect_accounts.username IS
    'the identity the service knows the account by: basic-auth user, API key id or OAuth client id; NULL for a service that takes a key alone (poly-ztp)';
COMMENT ON COLUMN redirect_accounts.kind IS
    'the provisioning service the account is for: snom (Snom XML-RPC redirection), snom-sraps (Snom SRAPS REST), yealink-rps (Yealink RPS over XML-RPC), yealink-ymcs (Yealink YMCS REST), poly-ztp (Poly Zero Touch REST)';
