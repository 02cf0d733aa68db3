-- PBX sync: `provhook source sync` reads every device behind a source and makes provhook's devices match.
--
-- devices.source names the source whose event or sync last registered the device, so that a sync deregisters only
-- the devices that its own source gave (a tenant may have several sources, and the native contract besides).
-- source_sync_seen holds, for the length of one run, the MACs the PBX listed: a run's memory does not grow with
-- the number of devices. sources.last_sync_* keep the last run's outcome for `source list`.
-- sync_interval_seconds makes `provhook serve` sync the source periodically (off when NULL); sync_leased_until lets
-- one process at a time run it when several share the database.
ALTER TABLE devices ADD COLUMN source text REFERENCES sources (name);
CREATE INDEX devices_source ON devices (source, tenant_id) WHERE source IS NOT NULL;

CREATE TABLE source_sync_seen (
    run  uuid NOT NULL,
    mac  text NOT NULL CONSTRAINT source_sync_seen_mac CHECK (mac ~ '^[0-9A-F]{12}$'),
    PRIMARY KEY (run, mac)
);

ALTER TABLE sources
    ADD COLUMN last_sync_at      timestamptz,
    ADD COLUMN last_sync_summary jsonb,
    ADD COLUMN last_sync_error   text,
    ADD COLUMN sync_interval_seconds integer
        CONSTRAINT source_sync_interval CHECK (sync_interval_seconds BETWEEN 60 AND 604800),
    ADD COLUMN sync_leased_until timestamptz,
    ADD CONSTRAINT source_sync_needs_api CHECK (sync_interval_seconds IS NULL OR api_url IS NOT NULL);
