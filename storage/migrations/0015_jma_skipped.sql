-- A 訓練 or 試験 report is recorded as a drill, and a document that cannot be read (broken,
-- missing, too large, on another host) as skipped: recorded once, so it never blocks the ones
-- after it nor is read again. SQLite cannot alter a CHECK: the table is made again.
CREATE TABLE jma_reports_new (
    document TEXT PRIMARY KEY,
    event_id TEXT NOT NULL,
    title TEXT NOT NULL,
    max_int TEXT,
    action TEXT NOT NULL
        CHECK (action IN ('started', 'aftershock', 'below', 'elsewhere', 'drill', 'skipped')),
    roll_call_id INTEGER REFERENCES roll_calls (id),
    received_at TEXT NOT NULL
);
INSERT INTO jma_reports_new SELECT * FROM jma_reports;
DROP TABLE jma_reports;
ALTER TABLE jma_reports_new RENAME TO jma_reports;
