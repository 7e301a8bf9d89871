DROP TRIGGER IF EXISTS trg_changes_notify ON changes;
DROP FUNCTION IF EXISTS hypernet_changes_notify();
