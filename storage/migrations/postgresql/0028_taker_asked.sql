-- A taken alert has a deadline too: after a while the manager who took it is asked whether
-- they found the person; with no answer the alert is nobody's again (care.ladder).
ALTER TABLE checkin_rounds ADD COLUMN taker_asked_at TEXT;
CREATE INDEX checkin_rounds_taken_due ON checkin_rounds (taken_at)
    WHERE state = 'alerted' AND taken_by IS NOT NULL;
