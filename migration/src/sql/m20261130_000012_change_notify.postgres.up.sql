-- Wakes the instances that follow a user's journal: each event sends a NOTIFY on
-- `hypernet_changes` with the user's id, delivered when its transaction commits (PostgreSQL
-- sends one notification per distinct payload of a transaction). The payload is only a
-- wake-up; what changed is read from the journal.
CREATE FUNCTION hypernet_changes_notify() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('hypernet_changes', NEW.user_id::text);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER trg_changes_notify AFTER INSERT ON changes
    FOR EACH ROW EXECUTE FUNCTION hypernet_changes_notify();
