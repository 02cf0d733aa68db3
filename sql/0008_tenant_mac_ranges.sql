-- The MACs a tenant may claim, as uppercase hex prefixes (1 to 12 digits). NULL: any MAC that no other tenant holds,
-- first come first served. A webhook that would register a MAC outside its tenant's ranges is refused
-- (`mac_not_allowed`) and journaled; deregistering a MAC the tenant already holds is always allowed.
ALTER TABLE tenants
    ADD COLUMN mac_prefixes text[],
    ADD CONSTRAINT tenant_mac_prefixes_format CHECK (
        mac_prefixes IS NULL
        OR (cardinality(mac_prefixes) BETWEEN 1 AND 100
            AND array_to_string(mac_prefixes, ',') ~ '^[0-9A-F]{1,12}(,[0-9A-F]{1,12})*$'
            AND array_position(mac_prefixes, NULL) IS NULL));
