-- A phone call before the alert (care.calls): the person's number (E.164) and their consent,
-- given by them on My page or by the desk's staff for them; 0: no call.
ALTER TABLE members ADD COLUMN call_number TEXT;
ALTER TABLE members ADD COLUMN call_before_alert INTEGER NOT NULL DEFAULT 0;
ALTER TABLE members ADD COLUMN call_consented_by TEXT;
-- The round's call: when it was placed, when the managers are told if it settles nothing (cut
-- short when Twilio reports no answer, busy or a machine), and the outbox row that places it.
ALTER TABLE checkin_rounds ADD COLUMN called_at TEXT;
ALTER TABLE checkin_rounds ADD COLUMN call_until TEXT;
ALTER TABLE checkin_rounds ADD COLUMN call_outbox_id INTEGER;
-- Twilio's webhooks, each acted on once (Twilio retries a request it did not hear back from).
CREATE TABLE call_events (
    call_sid TEXT NOT NULL,
    kind TEXT NOT NULL,
    handled_at TEXT NOT NULL,
    PRIMARY KEY (call_sid, kind)
);
-- A device's sign of life (a smart plug, a door sensor, Home Assistant): a secret URL per
-- person and device (only its hash is kept), revocable; a ping either answers a waiting
-- check-in as 元気 (counts_as_ok) or is only shown as 最後の動き.
CREATE TABLE devices (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    member_id INTEGER NOT NULL REFERENCES members (id),
    label TEXT NOT NULL,
    counts_as_ok INTEGER NOT NULL DEFAULT 0,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT,
    last_ping_at TEXT
);
CREATE INDEX devices_member ON devices (member_id);
ALTER TABLE members ADD COLUMN last_activity_at TEXT;
ALTER TABLE members ADD COLUMN last_activity_label TEXT;
