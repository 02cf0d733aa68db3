-- Claims take due devices tenant by tenant (the oldest of each tenant first, then the next of each, …), so that one
-- tenant's bulk work (a re-point of 50,000 phones) never holds back another tenant's new phone. This index serves
-- both the walk over the tenants that have waiting devices and each tenant's oldest due devices.
CREATE INDEX devices_due_by_tenant ON devices (tenant_id, next_attempt_at) WHERE status = 'pending';
