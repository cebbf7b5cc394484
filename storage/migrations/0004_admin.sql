-- The municipality's admin console: accounts, sessions, an audit log nobody edits, notices.

CREATE TABLE admins (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,                     -- scrypt, see bot/admin/passwords.py
    created_at TEXT NOT NULL,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until TEXT,
    last_login_at TEXT
);

CREATE TABLE admin_sessions (
    token_hash TEXT PRIMARY KEY,                     -- sha256 of the cookie; the cookie is not stored
    admin_id INTEGER NOT NULL REFERENCES admins (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    admin_name TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
);
-- The console only ever appends: the log cannot be changed through it, nor through SQL mistakes.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

CREATE TABLE notices (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    admin_name TEXT NOT NULL,
    text TEXT NOT NULL,
    audience TEXT NOT NULL CHECK (audience IN ('everyone', 'teams', 'groups', 'person')),
    audience_detail TEXT NOT NULL DEFAULT '',        -- JSON: team ids, group ids or the 会員ID
    recipients INTEGER NOT NULL,                     -- people it reaches (= messages counted)
    requests INTEGER NOT NULL                        -- broadcast / multicast / push requests
);

-- A team the admin made for an area (町会, 集合住宅, 民生委員 district) stays when it is empty.
ALTER TABLE teams ADD COLUMN kept_when_empty INTEGER NOT NULL DEFAULT 0;

-- The outbox learns broadcasts (notices to everyone) and which notice a row belongs to.
CREATE TABLE outbox_v2 (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('push', 'multicast', 'broadcast')),
    recipients TEXT NOT NULL,
    messages TEXT NOT NULL,
    retry_key TEXT NOT NULL UNIQUE,
    purpose TEXT NOT NULL,
    round_id INTEGER REFERENCES checkin_rounds (id),
    recipient_member_id INTEGER REFERENCES members (id),
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    created_at TEXT NOT NULL,
    sent_at TEXT,
    last_error TEXT,
    notice_id INTEGER REFERENCES notices (id)
);
INSERT INTO outbox_v2 (id, kind, recipients, messages, retry_key, purpose, round_id,
    recipient_member_id, state, attempts, next_attempt_at, created_at, sent_at, last_error)
    SELECT id, kind, recipients, messages, retry_key, purpose, round_id, recipient_member_id,
        state, attempts, next_attempt_at, created_at, sent_at, last_error FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_v2 RENAME TO outbox;
CREATE INDEX outbox_pending ON outbox (next_attempt_at) WHERE state = 'pending';
CREATE INDEX outbox_round ON outbox (round_id, purpose);
CREATE INDEX outbox_notice ON outbox (notice_id);
