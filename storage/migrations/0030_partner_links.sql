-- A partner's LINE is theirs only once they confirm it from that account (issue 36): the
-- console shows a one-time code (link_code, made at link_code_at) that the partner sends to
-- the bot; the account that sends it becomes member_id, at linked_at. A 会員ID typed into the
-- console before was never confirmed (a mistyped one sent a stranger's address and spare-key
-- location to the wrong person): it is dropped, and the partner gets printed requests until
-- they send a code.
ALTER TABLE partners ADD COLUMN link_code TEXT;
ALTER TABLE partners ADD COLUMN link_code_at TEXT;
ALTER TABLE partners ADD COLUMN linked_at TEXT;
UPDATE partners SET member_id = NULL WHERE member_id IS NOT NULL;
CREATE UNIQUE INDEX partners_link_code ON partners (link_code);
-- A visit ends without an outcome too: withdrawn (the partner was removed) or not_needed (the
-- case closed before they reported); ended_at says when. SQLite cannot alter a CHECK: the
-- table is made again.
CREATE TABLE visits_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id INTEGER NOT NULL REFERENCES desk_cases (id),
    partner_id INTEGER NOT NULL REFERENCES partners (id),
    asked_by TEXT NOT NULL,
    asked_at TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'asked'
        CHECK (state IN ('asked', 'going', 'done', 'withdrawn', 'not_needed')),
    going_at TEXT,
    done_at TEXT,
    outcome TEXT,
    ended_at TEXT
);
INSERT INTO visits_new (
    id, case_id, partner_id, asked_by, asked_at, state, going_at, done_at, outcome
)
SELECT id, case_id, partner_id, asked_by, asked_at, state, going_at, done_at, outcome
FROM visits;
DROP TABLE visits;
ALTER TABLE visits_new RENAME TO visits;
CREATE INDEX visits_case ON visits (case_id);
CREATE INDEX visits_open ON visits (state) WHERE state IN ('asked', 'going');
