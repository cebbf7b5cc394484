-- The desk's 90 days of outcomes read from indexes alone (issue 42): the median time to an
-- alert's end and the people whose alerts most often ended safe read every alert of 90 days
-- row by row (0.56 s of the desk's page at 100,000 residents, ten times that at a million).
-- The period's alerts, with when each closed: the same index, one column more.
DROP INDEX checkin_rounds_alerted;
CREATE INDEX checkin_rounds_alerted ON checkin_rounds (alerted_at, closed_at)
    WHERE alerted_at IS NOT NULL;
-- Alerts that ended safe (not a call for help), with whose they were.
CREATE INDEX checkin_rounds_safe_alerts ON checkin_rounds (alerted_at, member_id)
    WHERE state = 'answered' AND urgent = 0 AND alerted_at IS NOT NULL;
