-- Several instances on one database: an outbox row or a stored webhook event is claimed by one
-- instance for a while (claimed_until); a claim left by an instance that died runs out and
-- another takes the work over. Failed admin logins per address are counted here, not in one
-- process's memory, so the lock-out holds whichever instance answers.
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
ALTER TABLE outbox ADD COLUMN claimed_until TEXT;
ALTER TABLE webhook_events ADD COLUMN claimed_by TEXT;
ALTER TABLE webhook_events ADD COLUMN claimed_until TEXT;

CREATE TABLE login_failures (
    address TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX login_failures_address ON login_failures (address, at);
