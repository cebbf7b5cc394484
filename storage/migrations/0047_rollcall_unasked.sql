-- A roll-call names people its question cannot reach: watched by phone alone (a call cannot
-- ask it), blocked, or watched by phone where no calls are placed. They are kept with the
-- roll-call and why (NULL: asked), so its tally says they were never asked instead of
-- counting them among the silent, and they are never asked again.
ALTER TABLE roll_call_people ADD COLUMN unasked TEXT;
