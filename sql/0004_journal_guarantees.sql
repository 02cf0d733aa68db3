-- The journal's guarantees, kept by the database itself whoever the client is:
--   * a row's id and time are the database's: an INSERT cannot choose them (OVERRIDING SYSTEM VALUE included);
--   * a seal is accepted only for the first unsealed row, and only with that row's hash, so no login can forge a
--     seal or stall the chain with one;
--   * the sealer's watermark needs no lock privilege of the app role: journal_watermark() takes the lock as the
--     owner of the tables.
-- The functions name their schema in search_path, with pg_temp last, so that a temporary table or sequence of the
-- caller's cannot stand in for the journal's (format() writes the schema for %I; a literal % is written %%).

ALTER TABLE journal ALTER COLUMN id DROP IDENTITY;

CREATE SEQUENCE journal_id_seq OWNED BY journal.id;

SELECT setval('journal_id_seq', coalesce(max(id), 0) + 1, false) FROM journal;

COMMENT ON SEQUENCE journal_id_seq IS 'journal ids; drawn only by the journal_stamp trigger';

-- The canonical text of a row, as the chain hashes it: its columns joined with U+001F, with `at` as microseconds
-- since 1970 and an absent value as the empty string (README, "For auditors").
CREATE FUNCTION journal_canonical(j journal) RETURNS bytea
LANGUAGE sql STABLE
AS $$
    SELECT convert_to(concat_ws(chr(31), j.id::text, (extract(epoch FROM j.at) * 1000000)::bigint::text,
        coalesce(j.tenant_id, ''), coalesce(j.mac, ''), j.actor, j.action, j.outcome, coalesce(j.event_id, ''),
        j.detail::text), 'UTF8')
$$;

DO $migration$
BEGIN
    EXECUTE format($create$
        CREATE FUNCTION journal_stamp() RETURNS trigger
        LANGUAGE plpgsql SET search_path = %I, pg_temp
        AS $body$
        BEGIN
            NEW.id := nextval('journal_id_seq');
            NEW.at := clock_timestamp();
            RETURN NEW;
        END;
        $body$
    $create$, current_schema());

    EXECUTE format($create$
        CREATE FUNCTION journal_seal_check() RETURNS trigger
        LANGUAGE plpgsql SET search_path = %I, pg_temp
        AS $body$
        DECLARE
            head journal_seals;
            next journal;
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
            NEW.sealed_at := now();
            RETURN NEW;
        END;
        $body$
    $create$, current_schema());

    EXECUTE format($create$
        CREATE FUNCTION journal_watermark() RETURNS bigint
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = %I, pg_temp
        AS $body$
        BEGIN
            -- Waits only for the inserts in flight, and only briefly: new inserts queue behind this request.
            PERFORM set_config('lock_timeout', '200ms', true);
            LOCK TABLE journal IN SHARE MODE;
            RETURN (SELECT coalesce(max(id), 0) FROM journal);
        END;
        $body$
    $create$, current_schema());
END;
$migration$;

CREATE TRIGGER journal_stamp
    BEFORE INSERT ON journal
    FOR EACH ROW EXECUTE FUNCTION journal_stamp();

CREATE TRIGGER journal_seal_check
    BEFORE INSERT ON journal_seals
    FOR EACH ROW EXECUTE FUNCTION journal_seal_check();

COMMENT ON FUNCTION journal_watermark() IS
    'the largest journal id below which every row is committed or will never appear; for the sealer';

REVOKE EXECUTE ON FUNCTION journal_watermark() FROM PUBLIC;
