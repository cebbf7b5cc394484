-- PostgreSQL's twin of ../0008_withdrawal.sql.
-- 退会 recorded: when it happened. The row stays (会員ID, the ladder's history refers to it);
-- what the person entered, their LINE name and their stored words do not.
ALTER TABLE members ADD COLUMN withdrawn_at TEXT;
