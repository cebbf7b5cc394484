-- The sweep's reads of what waits, by indexes over the rounds waiting alone (issue 42). With
-- the state given as a parameter the engine could not know which partial index applied and
-- read every round kept (16 s a sweep on a million residents' fourteen days, minutes at a
-- year's), and without statistics SQLite took the outbox links' indexes (NULL for most of the
-- history) for "not yet sent". Each step's wait: its state and its moment.
CREATE INDEX checkin_rounds_open_sent ON checkin_rounds (sent_at) WHERE state = 'open';
CREATE INDEX checkin_rounds_resent_at ON checkin_rounds (resent_at) WHERE state = 'resent';
CREATE INDEX checkin_rounds_resent_call ON checkin_rounds (call_until) WHERE state = 'resent';
CREATE INDEX checkin_rounds_alerted_turn ON checkin_rounds (turn_at) WHERE state = 'alerted';
CREATE INDEX checkin_rounds_alerted_next_turn ON checkin_rounds (next_turn_at)
    WHERE state = 'alerted';
CREATE INDEX checkin_rounds_alerted_again ON checkin_rounds (realerted_at)
    WHERE state = 'alerted';
CREATE INDEX checkin_rounds_alerted_taken ON checkin_rounds (taken_at) WHERE state = 'alerted';
CREATE INDEX checkin_rounds_alerted_asked ON checkin_rounds (taker_asked_at)
    WHERE state = 'alerted';
-- A round is found by its message's outbox row: only rounds with one are in these.
DROP INDEX checkin_rounds_checkin_outbox;
CREATE INDEX checkin_rounds_checkin_outbox ON checkin_rounds (checkin_outbox_id)
    WHERE checkin_outbox_id IS NOT NULL;
DROP INDEX checkin_rounds_resend_outbox;
CREATE INDEX checkin_rounds_resend_outbox ON checkin_rounds (resend_outbox_id)
    WHERE resend_outbox_id IS NOT NULL;
-- A pause's reminder (a few people at a time).
CREATE INDEX members_pause_reminder ON members (pause_reminder_at)
    WHERE pause_reminder_at IS NOT NULL;
-- The nightly purge's help words (a few rounds have them): without it each night read every
-- round kept to find them.
CREATE INDEX checkin_rounds_help_words ON checkin_rounds (closed_at) WHERE help_words IS NOT NULL;
