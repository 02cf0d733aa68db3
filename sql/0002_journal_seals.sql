-- The journal's hash chain: each journal row, in id order, is sealed with
--   hash = SHA-256(previous hash || canonical text of the row)
-- after it commits, by the sealer of `provhook serve` (or `provhook journal seal`). Sealing never holds a lock through
-- an ingest's commit: it takes a brief SHARE lock on journal only to learn which ids can no longer appear.
-- `provhook journal verify` recomputes the chain and reports the first edited, deleted or inserted row;
-- `provhook journal head` exports the last seal so that it can be kept outside the database.
CREATE TABLE journal_seals (
    journal_id bigint      PRIMARY KEY,
    hash       bytea       NOT NULL CONSTRAINT journal_seal_hash_length CHECK (length(hash) = 32),
    sealed_at  timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE journal_seals IS 'hash chain over journal rows in id order; append-only';

CREATE TRIGGER journal_seals_append_only
    BEFORE UPDATE OR DELETE ON journal_seals
    FOR EACH ROW EXECUTE FUNCTION journal_refuse_change();

CREATE TRIGGER journal_seals_no_truncate
    BEFORE TRUNCATE ON journal_seals
    FOR EACH STATEMENT EXECUTE FUNCTION journal_refuse_change();
