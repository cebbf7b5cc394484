-- Whom a message is about (an alert, a safe notice, their words to the managers): on 退会 what
-- the outbox still holds about the person is cleared, not only what was sent to them.
ALTER TABLE outbox ADD COLUMN subject_member_id INTEGER REFERENCES members (id);
CREATE INDEX outbox_subject ON outbox (subject_member_id);
