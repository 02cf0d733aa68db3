-- The device PIN a vendor's service keeps for a phone (Yealink YMCS's listDevicePins): a Yealink phone may ask for it
-- on first boot, and the operator reads it with `provhook device show MAC` or GET /v1/devices/{mac}. provhook fetches
-- it after the service registered the phone and forgets it once the phone is deregistered.
--
-- It is sealed under PROVHOOK_SECRET_KEY_FILE (AES-256-GCM, as the other sealed columns) and bound to its MAC, so
-- neither a copy of the database nor a sealed PIN copied onto another MAC's row gives it. It has a table of its own
-- rather than a column of devices: the auditor role reads devices whole (sql/roles.sql), and has no business with a
-- phone's PIN, sealed or not; only provhook_app is granted this table.

CREATE TABLE device_pins (
    mac text PRIMARY KEY REFERENCES devices (mac) ON DELETE CASCADE,
    pin_sealed bytea NOT NULL,
    pin_key_id text NOT NULL,
    fetched_at timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE device_pins IS
    'the PIN each phone''s provisioning service keeps for it (Yealink YMCS), sealed under the secret key and bound to the MAC';
