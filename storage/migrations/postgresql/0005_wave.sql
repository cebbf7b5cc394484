-- PostgreSQL's twin of ../0005_wave.sql.
-- The 07:00 wave: rounds whose check-in (or re-send) is not yet in the outbox are found by a
-- small index of their own, however many rounds the table holds.
CREATE INDEX checkin_rounds_awaiting_checkin ON checkin_rounds (slot_at)
    WHERE state = 'open' AND checkin_outbox_id IS NULL;
CREATE INDEX checkin_rounds_awaiting_resend ON checkin_rounds (slot_at)
    WHERE state = 'resent' AND resend_outbox_id IS NULL;
