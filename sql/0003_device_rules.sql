-- The rules that every change to a device obeys, written once here so that no statement can forget one: rendering a
-- provisioning URL, what a new generation means, and waking the delivery workers.

-- A tenant's provisioning URL for one device: <mac> becomes the MAC as stored (12 uppercase hex digits). Phone-side
-- placeholders such as {mac} stay as they are.
CREATE FUNCTION render_url(template text, mac text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT replace(template, '<mac>', mac) $$;

COMMENT ON FUNCTION render_url(text, text) IS 'a tenant''s url_template with <mac> replaced by the MAC';

-- A new generation is a new desired state to apply: whoever bumps devices.generation (an event, an operator, a
-- re-point, a tenant's removal, a reconcile fix), the device waits again from now, pending unless it is skipped,
-- with no attempts and no error.
CREATE FUNCTION devices_new_generation() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status <> 'skipped' THEN
        NEW.status := 'pending';
    END IF;
    NEW.attempts := 0;
    NEW.next_attempt_at := now();
    NEW.pending_since := now();
    NEW.last_error := NULL;
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;

CREATE TRIGGER devices_new_generation
    BEFORE UPDATE ON devices
    FOR EACH ROW WHEN (NEW.generation <> OLD.generation)
    EXECUTE FUNCTION devices_new_generation();

-- Workers LISTEN on provhook_work. A device that starts waiting and is due wakes them when its transaction commits
-- (PostgreSQL delivers one notification per transaction). Claims, outcomes and retries set for later do not.
CREATE FUNCTION devices_wake_workers() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('provhook_work', '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER devices_wake_workers_on_insert
    AFTER INSERT ON devices
    FOR EACH ROW WHEN (NEW.status = 'pending')
    EXECUTE FUNCTION devices_wake_workers();

CREATE TRIGGER devices_wake_workers_on_update
    AFTER UPDATE ON devices
    FOR EACH ROW WHEN (NEW.status = 'pending' AND NEW.next_attempt_at <= now()
                       AND (OLD.status <> 'pending' OR NEW.generation <> OLD.generation))
    EXECUTE FUNCTION devices_wake_workers();
