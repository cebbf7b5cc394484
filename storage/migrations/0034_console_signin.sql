-- Signing in to the console with a second factor, idle sessions, and accounts that end.
--
-- totp_secret: the TOTP secret sealed under a key derived from the deployment's secret
-- (admin/second_factor.py), so a copy of the database alone does not give it away.
-- totp_last_step: the newest 30-second step a code was accepted for (a code is never taken twice).
-- disabled_at: a disabled account cannot sign in and has no session.
-- must_change_password: set when an operator gives the account a new password; its holder
-- chooses their own at the next sign-in, so nobody else knows the password the audit log names.
ALTER TABLE admins ADD COLUMN totp_secret TEXT;
ALTER TABLE admins ADD COLUMN totp_last_step INTEGER;
ALTER TABLE admins ADD COLUMN disabled_at TEXT;
ALTER TABLE admins ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;

-- The idle deadline beside the absolute one (expires_at). Sessions opened with a password alone
-- end here: everyone signs in again, with the second factor where the role needs it.
ALTER TABLE admin_sessions ADD COLUMN idle_until TEXT;
DELETE FROM admin_sessions;
CREATE INDEX admin_sessions_admin ON admin_sessions (admin_id);

-- One-time recovery codes, keyed hashes only; used_at set when one is spent.
CREATE TABLE admin_recovery_codes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    admin_id INTEGER NOT NULL REFERENCES admins (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    used_at TEXT
);
CREATE INDEX admin_recovery_codes_admin ON admin_recovery_codes (admin_id);

-- A sign-in between the password and the session (a few minutes): the code step, the enrolment
-- of a second factor (its secret, sealed, until confirmed) or the choice of a new password.
-- The cookie is not stored, only its sha256.
CREATE TABLE admin_signins (
    token_hash TEXT PRIMARY KEY,
    admin_id INTEGER NOT NULL REFERENCES admins (id) ON DELETE CASCADE,
    step TEXT NOT NULL CHECK (step IN ('code', 'enrol', 'new_password')),
    csrf_token TEXT NOT NULL,
    enrol_secret TEXT,
    wrong_codes INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX admin_signins_admin ON admin_signins (admin_id);
