-- A MAC registered to our Snom account that no tenant claims is pruned (`reconcile --prune`) through the same
-- desired-state path as every other change: a devices row with no tenant, desired 'deregistered', pending. The
-- worker claims it and deregisters it like any device, under the same lease and fencing; and a tenant that claims
-- the MAC meanwhile (a webhook) takes the row over as it takes over any deregistered device: a new generation, so a
-- prune call still in flight can neither count nor land after the registration.
ALTER TABLE devices
    ALTER COLUMN tenant_id DROP NOT NULL,
    ADD CONSTRAINT device_unclaimed_is_deregistered CHECK (tenant_id IS NOT NULL OR desired = 'deregistered');
