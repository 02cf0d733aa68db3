-- Mapping sources: any other panel's webhooks, read through a declarative mapping (JSON Pointers into the body, the
-- panel's event names, an optional HMAC signature), kept with the source and checked when it is added.
ALTER TABLE sources
    ADD COLUMN mapping jsonb,
    DROP CONSTRAINT source_kind,
    ADD CONSTRAINT source_kind CHECK (kind IN ('kazoo', 'mapping')),
    ADD CONSTRAINT source_mapping_for_mapping_kind CHECK ((kind = 'mapping') = (mapping IS NOT NULL));
