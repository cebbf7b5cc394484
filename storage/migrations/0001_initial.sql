-- Times are UTC ISO-8601 strings with a fixed shape ("2026-11-23T02:00:00+00:00"),
-- so text comparison orders them.

CREATE TABLE members (
    id INTEGER PRIMARY KEY AUTOINCREMENT,           -- 会員ID, sequential
    line_user_id TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL DEFAULT '',
    language TEXT NOT NULL DEFAULT 'ja',
    registered_at TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'blocked')),
    interval_days INTEGER CHECK (interval_days IN (1, 2, 3, 5, 7, 14)),
    checkin_hour INTEGER CHECK (checkin_hour BETWEEN 0 AND 23),
    next_due_at TEXT,
    last_ok_at TEXT,
    dialog TEXT,                                     -- what the chat waits for, e.g. a team name
    CHECK ((interval_days IS NULL) = (checkin_hour IS NULL))
);
CREATE INDEX members_next_due ON members (next_due_at) WHERE next_due_at IS NOT NULL;

CREATE TABLE teams (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    default_interval_days INTEGER NOT NULL CHECK (default_interval_days IN (1, 2, 3, 5, 7, 14)),
    default_hour INTEGER NOT NULL CHECK (default_hour BETWEEN 0 AND 23),
    created_at TEXT NOT NULL,
    deleted_at TEXT
);

CREATE TABLE team_members (
    team_id INTEGER NOT NULL REFERENCES teams (id),
    member_id INTEGER NOT NULL REFERENCES members (id),
    role TEXT NOT NULL CHECK (role IN ('user', 'manager')),
    joined_at TEXT NOT NULL,
    consented_at TEXT,                               -- a user's agreement to be watched
    PRIMARY KEY (team_id, member_id),
    CHECK (role = 'manager' OR consented_at IS NOT NULL)
);
CREATE INDEX team_members_member ON team_members (member_id);

CREATE TABLE invite_codes (
    code TEXT PRIMARY KEY,
    team_id INTEGER NOT NULL REFERENCES teams (id),
    role TEXT NOT NULL CHECK (role IN ('user', 'manager')),
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE UNIQUE INDEX invite_codes_active ON invite_codes (team_id, role) WHERE revoked_at IS NULL;

CREATE TABLE checkin_rounds (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    member_id INTEGER NOT NULL REFERENCES members (id),
    slot_at TEXT NOT NULL,                           -- the scheduled time this round answers
    state TEXT NOT NULL CHECK (state IN ('open', 'resent', 'alerted', 'answered', 'cancelled')),
    opened_at TEXT NOT NULL,
    sent_at TEXT,                                    -- when LINE accepted the check-in
    resent_at TEXT,                                  -- when LINE accepted the re-send
    alerted_at TEXT,
    closed_at TEXT,
    close_reason TEXT,
    checkin_outbox_id INTEGER REFERENCES outbox (id),
    resend_outbox_id INTEGER REFERENCES outbox (id),
    UNIQUE (member_id, slot_at)
);
CREATE UNIQUE INDEX checkin_rounds_one_open ON checkin_rounds (member_id)
    WHERE state IN ('open', 'resent', 'alerted');
CREATE INDEX checkin_rounds_checkin_outbox ON checkin_rounds (checkin_outbox_id);
CREATE INDEX checkin_rounds_resend_outbox ON checkin_rounds (resend_outbox_id);

-- Every push and multicast is written here before it is sent, with the retry key LINE sees.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('push', 'multicast')),
    recipients TEXT NOT NULL,                        -- JSON array of LINE ids
    messages TEXT NOT NULL,                          -- JSON array of message objects
    retry_key TEXT NOT NULL UNIQUE,
    purpose TEXT NOT NULL,
    round_id INTEGER REFERENCES checkin_rounds (id),
    recipient_member_id INTEGER REFERENCES members (id),
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    created_at TEXT NOT NULL,
    sent_at TEXT,
    last_error TEXT
);
CREATE INDEX outbox_pending ON outbox (next_attempt_at) WHERE state = 'pending';
CREATE INDEX outbox_round ON outbox (round_id, purpose);

-- Webhook events as received: deduplicated by LINE's id, replayed if the process died mid-way.
CREATE TABLE webhook_events (
    event_id TEXT PRIMARY KEY,
    payload TEXT NOT NULL,
    received_at TEXT NOT NULL,
    processed_at TEXT
);
CREATE INDEX webhook_events_unprocessed ON webhook_events (received_at) WHERE processed_at IS NULL;
