-- A roll-call reaches a person watched by phone alone with a call (care/broadcasts/by_phone.py):
-- how she was asked (NULL: in LINE), how many calls rang her for it, and when the one call
-- again is due while she has not answered (NULL: none due).
ALTER TABLE roll_call_people ADD COLUMN asked_by TEXT;
ALTER TABLE roll_call_people ADD COLUMN calls INTEGER NOT NULL DEFAULT 0;
ALTER TABLE roll_call_people ADD COLUMN call_again_at TEXT;
CREATE INDEX roll_call_people_call_again ON roll_call_people (call_again_at)
    WHERE call_again_at IS NOT NULL;
