-- A call's number is hers before any call before an alert rings it (care.verify): she types on
-- My page the code a call to it read out, or the desk's staff confirm it with her beside them.
-- `call_verified_by`: "call" (the code), or the staff member who confirmed it.
ALTER TABLE members ADD COLUMN call_verified_at TEXT;
ALTER TABLE members ADD COLUMN call_verified_by TEXT;
-- Numbers from before. One the desk's staff set counts as confirmed by them: the desk set it
-- only for a person it knows (a case of hers, a team it watches, or its own registration from
-- her signed paper form), from what she told it, and every change is in the audit log; asking
-- again would stop, without a word, the calls of people who went to the desk precisely
-- because they do not use My page, and every check-in of a person watched by phone alone
-- rings that number. One typed on My page ("self") was never checked by anyone: that is how a
-- stranger made the city's phone ring any number, so it waits for its verification call (she
-- is asked on My page) before the next call before an alert. Its consent stays as she gave it.
UPDATE members SET call_verified_at = registered_at, call_verified_by = call_consented_by
    WHERE call_number IS NOT NULL AND call_consented_by IS NOT NULL
    AND call_consented_by != 'self';
-- A verification call: the code it reads (only its hash is kept), until when it counts, and the
-- wrong codes typed; `ended_at` once it was used, spent on wrong codes or replaced. The rows
-- are also what the day's limits per person and per number count.
CREATE TABLE call_verifications (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    member_id INTEGER NOT NULL REFERENCES members (id),
    number TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    tries INTEGER NOT NULL DEFAULT 0,
    ended_at TEXT,
    outcome TEXT
);
CREATE INDEX call_verifications_member ON call_verifications (member_id, created_at);
CREATE INDEX call_verifications_number ON call_verifications (number, created_at);
