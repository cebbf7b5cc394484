-- PostgreSQL's twin of ../0040_retention.sql.
-- Kept only as long as needed (care/retention.py): the daily purge deletes what is past its time.
-- A finished month's report figures (counts only, no names), stored before the purge removes
-- any row they count, so the monthly report of a month long past still says the same numbers.
CREATE TABLE monthly_figures (
    month TEXT PRIMARY KEY,                          -- YYYY-MM, in the deployment's time zone
    figures TEXT NOT NULL,                           -- JSON: care.report.MonthlyReport's counts
    stored_at TEXT NOT NULL
);
-- The purge's own bookkeeping, one row (id 1): when it last finished, so a restart runs a purge
-- a day missed; and the audit log's line, the moment before which an audit row may be deleted.
CREATE TABLE retention_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    audit_before TEXT NOT NULL DEFAULT '',
    purged_at TEXT
);
-- The audit log stays append-only (0004) except for rows older than the line the purge draws
-- (now less MIMAMORI_KEEP_AUDIT). A DELETE by mistake still removes nothing younger, and the
-- line itself is a row anyone can read: the log's end can only be moved where it shows.
-- TRUNCATE stays refused (audit_log_no_truncate).
CREATE FUNCTION audit_log_delete_past_line() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.at >= COALESCE((SELECT audit_before FROM retention_state WHERE id = 1), '') THEN
        RAISE EXCEPTION 'the audit log is append-only until its retention has passed';
    END IF;
    RETURN OLD;
END;
$$;
DROP TRIGGER audit_log_no_delete ON audit_log;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_delete_past_line();
-- The line moves forward only: moving it back could not delete anything, moving it forward past
-- a row is what lets the row go, so only that is the purge's (and it is logged).
CREATE FUNCTION retention_line_forward() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.audit_before < OLD.audit_before THEN
        RAISE EXCEPTION 'the audit log line only moves forward';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER retention_state_line_forward BEFORE UPDATE ON retention_state
    FOR EACH ROW EXECUTE FUNCTION retention_line_forward();
-- The purge finds what is past its time by these.
CREATE INDEX checkin_rounds_slot ON checkin_rounds (slot_at);
CREATE INDEX outbox_kept ON outbox (sent_at) WHERE messages != '[]' OR tellings != '[]';
CREATE INDEX audit_log_at ON audit_log (at);
