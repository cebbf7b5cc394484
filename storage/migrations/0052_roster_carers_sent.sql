-- When a roll-call's roster people were last sent to their assigned partners on LINE, and to
-- whom (partner ids, comma-separated): a second send to the same partners within minutes (a
-- double click, a replayed form) is refused rather than flooding them (care/roster/carers.py).
ALTER TABLE roll_calls ADD COLUMN carers_sent_at TEXT;
ALTER TABLE roll_calls ADD COLUMN carers_sent_to TEXT;
