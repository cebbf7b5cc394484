-- PostgreSQL's twin of ../0030_partner_links.sql: a partner's LINE is linked only by the
-- one-time code they send from it (a typed 会員ID was never confirmed and is dropped); a
-- visit ends withdrawn (the partner was removed) or not_needed (the case closed first).
ALTER TABLE partners ADD COLUMN link_code TEXT;
ALTER TABLE partners ADD COLUMN link_code_at TEXT;
ALTER TABLE partners ADD COLUMN linked_at TEXT;
UPDATE partners SET member_id = NULL WHERE member_id IS NOT NULL;
CREATE UNIQUE INDEX partners_link_code ON partners (link_code);
ALTER TABLE visits DROP CONSTRAINT visits_state_check;
ALTER TABLE visits ADD CONSTRAINT visits_state_check
    CHECK (state IN ('asked', 'going', 'done', 'withdrawn', 'not_needed'));
ALTER TABLE visits ADD COLUMN ended_at TEXT;
CREATE INDEX visits_open ON visits (state) WHERE state IN ('asked', 'going');
