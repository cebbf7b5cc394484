-- 災害時の安否確認: a roll-call of everyone (or chosen area teams and groups), now. It is not a
-- check-in: it opens no round and changes no schedule.
CREATE TABLE roll_calls (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at TEXT NOT NULL,
    started_by TEXT NOT NULL,                 -- an admin's name, or a manager's 会員ID
    audience TEXT NOT NULL CHECK (audience IN ('everyone', 'teams', 'groups')),
    audience_detail TEXT NOT NULL,            -- JSON: team and group ids
    resend_every_minutes INTEGER,             -- NULL: asked once
    resends_left INTEGER NOT NULL DEFAULT 0,
    next_resend_at TEXT,
    close_at TEXT,
    closed_at TEXT
);

CREATE TABLE roll_call_people (
    roll_call_id INTEGER NOT NULL REFERENCES roll_calls (id) ON DELETE CASCADE,
    member_id INTEGER NOT NULL REFERENCES members (id),
    team_id INTEGER REFERENCES teams (id),    -- the area team they were asked through
    answer TEXT CHECK (answer IN ('safe', 'help', 'shelter')),
    answered_at TEXT,
    PRIMARY KEY (roll_call_id, member_id)
);
CREATE INDEX roll_call_people_silent ON roll_call_people (roll_call_id) WHERE answer IS NULL;

CREATE TABLE roll_call_groups (
    roll_call_id INTEGER NOT NULL REFERENCES roll_calls (id) ON DELETE CASCADE,
    group_id INTEGER NOT NULL REFERENCES chat_groups (id) ON DELETE CASCADE,
    line_user_id TEXT NOT NULL DEFAULT '',    -- '' for the group itself, else an answer
    display_name TEXT NOT NULL DEFAULT '',
    answer TEXT,
    answered_at TEXT,
    PRIMARY KEY (roll_call_id, group_id, line_user_id)
);

-- Earthquake reports read from the JMA feed (気象庁防災情報XML): each document once, and what it
-- did: started a roll-call, was an aftershock within the window (the admins are told), or less.
CREATE TABLE jma_reports (
    document TEXT PRIMARY KEY,               -- the report's URL in the feed
    event_id TEXT NOT NULL,
    title TEXT NOT NULL,
    max_int TEXT,                            -- the strongest intensity in the city's areas
    action TEXT NOT NULL CHECK (action IN ('started', 'aftershock', 'below', 'elsewhere')),
    roll_call_id INTEGER REFERENCES roll_calls (id),
    received_at TEXT NOT NULL
);
