-- PostgreSQL's twin of ../0043_retention_guard.sql.
-- The audit log's line (0040) guarded against more than moving back. The line is what lets an
-- audit row be deleted, so whoever could move it far forward, or delete it and draw it again,
-- could empty the log and leave no trace; a setting of a day (or a clock run ahead) would do it
-- by the purge itself. The line's row cannot be deleted (nor truncated), and the line cannot be
-- drawn later than a year before the database's own clock.
--
-- Why the database's clock and not the service's: the service takes its time from an injected
-- clock (tests set it; a host's clock may jump), and the guard is against the service and
-- anyone holding its database login, so it must rest on a time neither of them sets. The
-- database server keeps its own time; at worst it is off by minutes, which a year's floor
-- absorbs. clock_timestamp(), not now(): a transaction held open does not stop the clock.
-- (The format is storage.database.to_db's: UTC, ISO 8601 to the second.)
CREATE FUNCTION retention_state_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the retention state is not deleted (it holds the audit log line)';
END;
$$;
CREATE TRIGGER retention_state_no_delete BEFORE DELETE ON retention_state
    FOR EACH ROW EXECUTE FUNCTION retention_state_kept();
CREATE TRIGGER retention_state_no_truncate BEFORE TRUNCATE ON retention_state
    FOR EACH STATEMENT EXECUTE FUNCTION retention_state_kept();
CREATE FUNCTION retention_line_floor() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Only a line that moves is checked: the purge's own bookkeeping (purged_at) is written
    -- to the same row every day.
    IF (TG_OP = 'INSERT' OR NEW.audit_before <> OLD.audit_before) AND NEW.audit_before > to_char(
        (clock_timestamp() AT TIME ZONE 'UTC') - interval '365 days',
        'YYYY-MM-DD"T"HH24:MI:SS"+00:00"'
    ) THEN
        RAISE EXCEPTION 'the audit log line stays at least 365 days behind the database clock';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER retention_state_line_floor BEFORE INSERT OR UPDATE ON retention_state
    FOR EACH ROW EXECUTE FUNCTION retention_line_floor();
