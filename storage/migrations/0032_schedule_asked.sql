-- 家族に設定してもらう asks once, for a while: when she asked, so that a manager who joins weeks
-- later cannot change her schedule on an old request (care.people.SCHEDULE_ASK_LASTS).
ALTER TABLE members ADD COLUMN schedule_asked_at TEXT;
UPDATE members SET schedule_by_managers = 0;
