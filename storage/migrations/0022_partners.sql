-- 見守り協定 partners who go to the door: 民生委員, 地域包括支援センター, a management company,
-- the police's 安否確認. The desk asks one to visit from a case; a partner who uses LINE (a
-- member, by 会員ID) answers there, the others get a printed request.
CREATE TABLE partners (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('minsei', 'houkatsu', 'management', 'police', 'other')),
    phone TEXT NOT NULL DEFAULT '',
    area TEXT NOT NULL DEFAULT '',
    member_id INTEGER REFERENCES members (id),
    created_at TEXT NOT NULL,
    removed_at TEXT
);
CREATE TABLE partner_teams (
    partner_id INTEGER NOT NULL REFERENCES partners (id),
    team_id INTEGER NOT NULL REFERENCES teams (id),
    PRIMARY KEY (partner_id, team_id)
);
CREATE TABLE visits (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id INTEGER NOT NULL REFERENCES desk_cases (id),
    partner_id INTEGER NOT NULL REFERENCES partners (id),
    asked_by TEXT NOT NULL,
    asked_at TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'asked' CHECK (state IN ('asked', 'going', 'done')),
    going_at TEXT,
    done_at TEXT,
    outcome TEXT
);
CREATE INDEX visits_case ON visits (case_id);
