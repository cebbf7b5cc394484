-- Every call recorded (an outbox row of the voice channel), as a rate fact and nothing more:
-- a keyed hash of the number it rings (storage.calls.number_key; the key is derived from the
-- deployment's channel secret, which the database does not hold), the 会員ID it was for, why,
-- and when. The day's cap per number and the verification calls' limits count these rows, not
-- the outbox: 退会 takes her number out of the outbox rows and deletes her verification rows,
-- and leaving and coming back used to start every limit again. Rows older than two days are
-- deleted as new ones are written (storage.calls.ATTEMPTS_KEPT).
CREATE TABLE call_attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    number_key TEXT NOT NULL,
    member_id INTEGER REFERENCES members (id),
    purpose TEXT NOT NULL,
    outbox_id INTEGER NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX call_attempts_number ON call_attempts (number_key, created_at);
CREATE INDEX call_attempts_member ON call_attempts (member_id, created_at);
CREATE INDEX call_attempts_created ON call_attempts (created_at);
