-- A manager's 対応します "takes" an alert; "claim" is kept for an instance's lease on work
-- (outbox rows, stored events). The two were both called claimed_by.
ALTER TABLE checkin_rounds RENAME COLUMN claimed_by TO taken_by;
ALTER TABLE checkin_rounds RENAME COLUMN claimed_at TO taken_at;
DROP INDEX checkin_rounds_unclaimed;
CREATE INDEX checkin_rounds_untaken ON checkin_rounds (alerted_at)
    WHERE state = 'alerted' AND taken_by IS NULL AND realerted_at IS NULL;
