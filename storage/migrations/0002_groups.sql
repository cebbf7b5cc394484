-- つながり: LINE groups (and rooms) whose members check on each other.

CREATE TABLE chat_groups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    line_chat_id TEXT NOT NULL UNIQUE,               -- groupId or roomId
    chat_type TEXT NOT NULL CHECK (chat_type IN ('group', 'room')),
    name TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'left')),
    joined_at TEXT NOT NULL,
    left_at TEXT,
    interval_days INTEGER CHECK (interval_days IN (1, 2, 3, 5, 7, 14)),
    checkin_hour INTEGER CHECK (checkin_hour BETWEEN 0 AND 23),
    next_due_at TEXT,
    paused INTEGER NOT NULL DEFAULT 0,
    starter_user_id TEXT,                            -- who set it up
    restricted INTEGER NOT NULL DEFAULT 0,           -- only the starter changes settings
    quiet_when_all_ok INTEGER NOT NULL DEFAULT 0,    -- no report when everyone answered
    CHECK ((interval_days IS NULL) = (checkin_hour IS NULL))
);
CREATE INDEX chat_groups_next_due ON chat_groups (next_due_at) WHERE next_due_at IS NOT NULL;

-- Members are learnt from joins, messages and taps: LINE does not list them for ordinary accounts.
CREATE TABLE group_members (
    group_id INTEGER NOT NULL REFERENCES chat_groups (id) ON DELETE CASCADE,
    line_user_id TEXT NOT NULL,
    display_name TEXT NOT NULL DEFAULT '',
    learnt_at TEXT NOT NULL,
    last_ok_at TEXT,
    PRIMARY KEY (group_id, line_user_id)
);

CREATE TABLE group_rounds (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    group_id INTEGER NOT NULL REFERENCES chat_groups (id) ON DELETE CASCADE,
    slot_at TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('open', 'reported', 'cancelled')),
    opened_at TEXT NOT NULL,
    posted_at TEXT,                                  -- when LINE accepted the check-in post
    reported_at TEXT,
    post_outbox_id INTEGER REFERENCES outbox (id),
    UNIQUE (group_id, slot_at)
);
CREATE UNIQUE INDEX group_rounds_one_open ON group_rounds (group_id) WHERE state = 'open';
CREATE INDEX group_rounds_post_outbox ON group_rounds (post_outbox_id);

CREATE TABLE group_answers (
    round_id INTEGER NOT NULL REFERENCES group_rounds (id) ON DELETE CASCADE,
    line_user_id TEXT NOT NULL,
    answered_at TEXT NOT NULL,
    PRIMARY KEY (round_id, line_user_id)
);
