-- 「家族に設定してもらう」: the person lets the managers of their teams set their check-in time
-- (they are told, and can change it). 0: only the person sets it.
ALTER TABLE members ADD COLUMN schedule_by_managers INTEGER NOT NULL DEFAULT 0;
-- 「退院するまで」: a pause without an end date (paused_until is then the longest pause) and
-- the moment of its next gentle weekly reminder; NULL for a pause with a date.
ALTER TABLE members ADD COLUMN pause_reminder_at TEXT;
-- つながり: one summary after the round instead of a reply to every OK.
ALTER TABLE chat_groups ADD COLUMN summary_only INTEGER NOT NULL DEFAULT 0;
