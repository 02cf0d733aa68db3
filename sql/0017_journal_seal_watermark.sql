-- A seal only below the journal's watermark. Journal ids are drawn at insert time, so a row can commit after a row
-- with a higher id: while row 28's insert is in flight, row 29 may be committed and, being the first unsealed row
-- that can be seen, was accepted by journal_seal_check (sql/0004). Row 28 then committed outside the chain for good:
-- `provhook journal verify` reported it for ever, and nothing could seal or remove it.
--
-- journal_watermark() (sql/0004) learns, under a brief SHARE lock on the journal, the id below which every row is
-- committed or will never appear. It now also records that id here, as the tables' owner (it is SECURITY DEFINER),
-- and never lowers it: once every id up to W is committed or gone, it stays so. journal_seal_check refuses a seal
-- above the recorded watermark, so a seal can pass no insert in flight, whoever inserts it. The sealer calls
-- journal_watermark() before it seals, in a statement of its own: the seal's transaction takes no lock on the journal,
-- and ingest never waits for it.
--
-- The check reads the watermark as the tables' owner (journal_seal_check is now SECURITY DEFINER), so that no login
-- needs a grant on journal_seal_watermark: a database migrated without applying sql/roles.sql again still seals.

CREATE TABLE journal_seal_watermark (
    single     boolean PRIMARY KEY DEFAULT true CONSTRAINT journal_seal_watermark_single CHECK (single),
    journal_id bigint  NOT NULL
);

COMMENT ON TABLE journal_seal_watermark IS
    'the largest journal id below which every row is committed or will never appear, as journal_watermark() last found it; seals above it are refused';

-- The rows sealed so far were sealed; the sealer's next call of journal_watermark() raises it.
INSERT INTO journal_seal_watermark (journal_id) SELECT coalesce(max(journal_id), 0) FROM journal_seals;

DO $migration$
BEGIN
    EXECUTE format($create$
        CREATE OR REPLACE FUNCTION journal_watermark() RETURNS bigint
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = %I, pg_temp
        AS $body$
        DECLARE
            watermark bigint;
        BEGIN
            -- Waits only for the inserts in flight, and only briefly: new inserts queue behind this request.
            PERFORM set_config('lock_timeout', '200ms', true);
            LOCK TABLE journal IN SHARE MODE;
            watermark := (SELECT coalesce(max(id), 0) FROM journal);
            UPDATE journal_seal_watermark SET journal_id = watermark WHERE journal_id < watermark;
            RETURN watermark;
        END;
        $body$
    $create$, current_schema());

    EXECUTE format($create$
        CREATE OR REPLACE FUNCTION journal_seal_check() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = %I, pg_temp
        AS $body$
        DECLARE
            head journal_seals;
            next journal;
            watermark bigint;
        BEGIN
            SELECT * INTO head FROM journal_seals ORDER BY journal_id DESC LIMIT 1;
            SELECT * INTO next FROM journal WHERE id > coalesce(head.journal_id, 0) ORDER BY id LIMIT 1;
            IF next.id IS NULL OR next.id <> NEW.journal_id THEN
                RAISE EXCEPTION 'a seal must be for the first unsealed journal row (%%), not row %%',
                    coalesce(next.id::text, 'none'), NEW.journal_id
                    USING ERRCODE = 'insufficient_privilege';
            END IF;
            IF NEW.hash <> sha256(coalesce(head.hash, decode(repeat('00', 32), 'hex')) || journal_canonical(next)) THEN
                RAISE EXCEPTION 'the seal of journal row %% does not match the row and the chain before it', next.id
                    USING ERRCODE = 'insufficient_privilege';
            END IF;
            SELECT journal_id INTO watermark FROM journal_seal_watermark;
            IF NEW.journal_id > coalesce(watermark, 0) THEN
                RAISE EXCEPTION 'journal row %% cannot be sealed yet: it is above the journal''s watermark (%%), and a row before it may still be committing',
                    NEW.journal_id, coalesce(watermark, 0)
                    USING ERRCODE = 'insufficient_privilege',
                          HINT = 'seal only rows up to what SELECT journal_watermark() returns, called before the seal';
            END IF;
            NEW.sealed_at := now();
            RETURN NEW;
        END;
        $body$
    $create$, current_schema());
END;
$migration$;

COMMENT ON FUNCTION journal_watermark() IS
    'the largest journal id below which every row is committed or will never appear, recorded in journal_seal_watermark; for the sealer';

REVOKE EXECUTE ON FUNCTION journal_watermark() FROM PUBLIC;
