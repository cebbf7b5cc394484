-- Failed logins are counted per client address and per (address, name): a stranger who types
-- an admin's name five times stops only themselves, not the admin, and a name nobody has
-- behaves exactly as one that exists.
ALTER TABLE login_failures ADD COLUMN name TEXT NOT NULL DEFAULT '';
CREATE INDEX login_failures_name ON login_failures (address, name, at);
