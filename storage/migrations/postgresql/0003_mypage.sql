-- PostgreSQL's twin of ../0003_mypage.sql.
-- My page: optional personal fields (blank unless the person fills them in), the acceptance of the
-- terms of use, and a pause of check-ins until a date (入院・旅行).
ALTER TABLE members ADD COLUMN full_name TEXT NOT NULL DEFAULT '';
ALTER TABLE members ADD COLUMN furigana TEXT NOT NULL DEFAULT '';
ALTER TABLE members ADD COLUMN gender TEXT NOT NULL DEFAULT '';
ALTER TABLE members ADD COLUMN birth_date TEXT NOT NULL DEFAULT '';
ALTER TABLE members ADD COLUMN phone TEXT NOT NULL DEFAULT '';
ALTER TABLE members ADD COLUMN terms_accepted_at TEXT;
ALTER TABLE members ADD COLUMN paused_until TEXT;  -- a local date, YYYY-MM-DD
