-- Accounts of a kind: which provisioning service an account is for, so that one installation can hold Snom XML-RPC
-- accounts beside Snom SRAPS ones (and, later, other vendors' services). Every account so far is Snom's XML-RPC
-- service, kind 'snom'; `default` (PROVHOOK_REDIRECT_*) stays that.
--
-- The columns keep their names for every kind: `username` is the identity the service knows the account by (the
-- basic-auth user of XML-RPC, the API key's Access Key ID of SRAPS), `password_sealed`/`password_file` its secret (the
-- password, or the key's Access Key Secret), `url` the service's base URL (nil: the kind's default).

ALTER TABLE redirect_accounts
    ADD COLUMN kind text NOT NULL DEFAULT 'snom',
    ADD CONSTRAINT account_kind_format CHECK (kind ~ '^[a-z][a-z0-9-]{0,31}$'),
    ADD CONSTRAINT account_default_is_snom CHECK (name <> 'default' OR kind = 'snom');

COMMENT ON COLUMN redirect_accounts.kind IS
    'the provisioning service the account is for: snom (Snom XML-RPC redirection), snom-sraps (Snom SRAPS REST)';
