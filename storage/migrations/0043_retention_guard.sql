-- The audit log's line (0040) guarded against more than moving back. The line is what lets an
-- audit row be deleted, so whoever could move it far forward, or delete it and draw it again,
-- could empty the log and leave no trace; a setting of a day (or a clock run ahead) would do it
-- by the purge itself. The line's row cannot be deleted, and the line cannot be drawn later
-- than a year before the database's own clock.
--
-- Why the database's clock and not the service's: the service takes its time from an injected
-- clock (tests set it; a host's clock may jump), and the guard is against the service and
-- anyone holding its database login, so it must rest on a time neither of them sets. The
-- database server keeps its own time; at worst it is off by minutes, which a year's floor
-- absorbs. (The format is storage.database.to_db's: UTC, ISO 8601 to the second.)
CREATE TRIGGER retention_state_no_delete BEFORE DELETE ON retention_state
BEGIN SELECT RAISE(ABORT, 'the retention state is not deleted (it holds the audit log line)'); END;
CREATE TRIGGER retention_state_line_floor_insert BEFORE INSERT ON retention_state
WHEN NEW.audit_before > strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now', '-365 days')
BEGIN SELECT RAISE(ABORT, 'the audit log line stays at least 365 days behind the database clock'); END;
-- Only a line that moves is checked: the purge's own bookkeeping (purged_at) is written to the
-- same row every day.
CREATE TRIGGER retention_state_line_floor_update BEFORE UPDATE ON retention_state
WHEN NEW.audit_before != OLD.audit_before AND NEW.audit_before > strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now', '-365 days')
BEGIN SELECT RAISE(ABORT, 'the audit log line stays at least 365 days behind the database clock'); END;
