-- A taken alert has a deadline too: after a while the manager who took it is asked whether
-- they found the person; with no answer the alert is nobody's again (care.ladder).
ALTER TABLE checkin_rounds ADD COLUMN taker_asked_at TEXT;
CREATE INDEX checkin_rounds_taken_due ON checkin_rounds (taken_at)
    WHERE state = 'alerted' AND taken_by IS NOT NULL;
-- An open alert is never left to silence: each day it stays open, the managers it reached are
-- reminded (and one who came to watch her since gets it). The day counts from the alert.
ALTER TABLE checkin_rounds ADD COLUMN reminded_at TEXT;
UPDATE checkin_rounds SET reminded_at = alerted_at WHERE state = 'alerted';
CREATE INDEX checkin_rounds_remind_due ON checkin_rounds (reminded_at) WHERE state = 'alerted';
