-- Lookups fair between sources, concurrent within a bound, collapsed per device, and given up after a bound.
--
-- One slow PBX (a lookup can take a minute: login, call, 401, login again, call again) used to hold back every other
-- source's lookups, which were taken first in, first out and one at a time. Claims now take the oldest due lookup of
-- each source first, then the second of each, and so on, and never more than a set number of one source's lookups at
-- once (counted from the leases, so across all `serve` processes): a slow PBX takes only its own share.
--
-- Wazo gives no event id, so provhook draws a random one for each webhook, and every resend of a device event was a
-- lookup of its own, each a call to the PBX. An event for a device that already has a lookup waiting (not in flight:
-- one in flight may have read the device before the change the new event reports) is now merged into it: its id is
-- kept in merged_event_ids (so that the same id sent again is a duplicate), it is journaled as `merged`, and when the
-- lookup is resolved each merged id is recorded in webhook_events beside the lookup's own.
ALTER TABLE source_lookups
    ADD COLUMN merged_event_ids text[] NOT NULL DEFAULT '{}'
        CONSTRAINT source_lookup_merged_ids CHECK (cardinality(merged_event_ids) <= 1000);

COMMENT ON COLUMN source_lookups.merged_event_ids IS
    'ids of later events for the same device merged into this lookup while it waited; recorded with it when resolved';

-- The walk over the sources with lookups, and each source's oldest lookups.
CREATE INDEX source_lookups_by_source ON source_lookups (source, id);
-- Each source's lookups in flight: only the leased rows, which are few.
CREATE INDEX source_lookups_leased ON source_lookups (source, leased_until) WHERE leased_until IS NOT NULL;
