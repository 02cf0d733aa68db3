-- Override: whether an account may take a MAC that another account of its service holds. Yealink's RPS (and the
-- Htek and Akuvox services built like it) take an `override` flag on registration; without it a MAC held elsewhere is
-- refused, which provhook reports as a conflict. Taking a phone from another account is the operator's decision, so it
-- is off unless the account says so (`account add|update --override`). Services without such a flag refuse it when the
-- account is added.

ALTER TABLE redirect_accounts ADD COLUMN override boolean NOT NULL DEFAULT false;

ALTER TABLE redirect_accounts
    ADD CONSTRAINT account_default_no_override CHECK (name <> 'default' OR NOT override);

COMMENT ON COLUMN redirect_accounts.override IS
    'the account takes a MAC another account of its service holds (the service''s override flag); off: such a MAC is a conflict';

COMMENT ON COLUMN redirect_accounts.kind IS
    'the provisioning service the account is for: snom (Snom XML-RPC redirection), snom-sraps (Snom SRAPS REST), yealink-rps (Yealink RPS over XML-RPC)';
