-- What keeps the service from doing its work (care/health.py): LINE refusing the access
-- token or the month's messages, the sweeps falling behind. One row a cause, open while
-- cleared_at is NULL; the console, /healthz and the operator's e-mail read it. The two
-- *_mailed_at say which e-mail went (its start, its end), once each however many sends fail.
CREATE TABLE service_alarms (
    cause TEXT PRIMARY KEY,
    raised_at TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '',
    cleared_at TEXT,
    raised_mailed_at TEXT,
    cleared_mailed_at TEXT
);
-- A webhook event that failed its tries is set aside (taken, so that it blocks nobody), not
-- forgotten: a person's tap or words, listed on the console until put back.
ALTER TABLE webhook_events ADD COLUMN set_aside_at TEXT;
ALTER TABLE webhook_events ADD COLUMN failure TEXT;
CREATE INDEX webhook_events_set_aside ON webhook_events (set_aside_at)
    WHERE set_aside_at IS NOT NULL;
