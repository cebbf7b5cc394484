-- PostgreSQL's twin of ../0038_signin_guard.sql.
-- What a failed sign-in was, so each kind is counted where it belongs (admin/auth.py LoginGate):
-- 'password': a wrong password for a name that exists; typing the right password forgives it.
-- 'unknown': any password for a name no account has; counted in its own, larger bucket per
--   address, so a stranger spraying names does not lock out the staff behind the same address
--   as soon as the first staff do.
-- 'code': a wrong second-factor or recovery code; forgiven only by a sign-in that ends in a
--   session, and counted per account across every address (a ceiling an hour).
ALTER TABLE login_failures ADD COLUMN kind TEXT NOT NULL DEFAULT 'password'
    CHECK (kind IN ('password', 'unknown', 'code'));
CREATE INDEX login_failures_kind ON login_failures (name, kind, at);
-- The audit page is read by filters (an action, an account, a time) and paged by id.
CREATE INDEX audit_log_admin ON audit_log (admin_name, id);
CREATE INDEX audit_log_action ON audit_log (action, id);
