-- The last rung: an alert nobody took, even sent again, lands at the 社協 or city desk as a
-- case; staff take it, log their calls, and close it with an outcome. Every step is kept.
ALTER TABLE checkin_rounds ADD COLUMN escalated_at TEXT;
CREATE INDEX checkin_rounds_at_desk_due ON checkin_rounds (realerted_at)
    WHERE state = 'alerted' AND taken_by IS NULL AND escalated_at IS NULL;
CREATE TABLE desk_cases (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    member_id INTEGER NOT NULL REFERENCES members (id),
    round_id INTEGER REFERENCES checkin_rounds (id),
    roll_call_id INTEGER REFERENCES roll_calls (id),
    reason TEXT NOT NULL,            -- untaken, help, rollcall_help
    urgent INTEGER NOT NULL DEFAULT 0,
    opened_at TEXT NOT NULL,
    taken_by TEXT,                   -- the staff member's name
    taken_at TEXT,
    closed_at TEXT,
    closed_by TEXT,                  -- a staff member, or '' when the service closed it
    outcome TEXT,
    outcome_note TEXT
);
CREATE UNIQUE INDEX desk_cases_one_per_round ON desk_cases (round_id) WHERE round_id IS NOT NULL;
CREATE INDEX desk_cases_open ON desk_cases (opened_at) WHERE closed_at IS NULL;
CREATE INDEX desk_cases_member ON desk_cases (member_id);
CREATE TABLE desk_steps (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id INTEGER NOT NULL REFERENCES desk_cases (id),
    at TEXT NOT NULL,
    staff TEXT NOT NULL,             -- '' for the service itself
    kind TEXT NOT NULL,              -- opened, taken, call, note, answered, closed...
    result TEXT,                     -- a call's result, a close's outcome
    note TEXT
);
CREATE INDEX desk_steps_case ON desk_steps (case_id, id);
-- 運営が見守る: a team the desk itself watches (people with nobody else): its alerts are cases
-- at once.
ALTER TABLE teams ADD COLUMN desk_watched INTEGER NOT NULL DEFAULT 0;
-- Turns: per team, who is told first (a neighbour, a 民生委員), then next (the family), each
-- turn `turn_minutes` long. Everyone in turn 1 (the default) is today's behaviour: all at once.
ALTER TABLE team_members ADD COLUMN alert_turn INTEGER NOT NULL DEFAULT 1;
ALTER TABLE teams ADD COLUMN turn_minutes INTEGER;
ALTER TABLE checkin_rounds ADD COLUMN turn INTEGER NOT NULL DEFAULT 1;
ALTER TABLE checkin_rounds ADD COLUMN turn_at TEXT;        -- when the latest turn was told
ALTER TABLE checkin_rounds ADD COLUMN next_turn_at TEXT;   -- when the next is; NULL: none left
UPDATE checkin_rounds SET turn_at = alerted_at WHERE alerted_at IS NOT NULL;
CREATE INDEX checkin_rounds_next_turn ON checkin_rounds (next_turn_at)
    WHERE state = 'alerted' AND taken_by IS NULL AND next_turn_at IS NOT NULL;
-- 住所: an optional card field, shown with the same 「見せる」 as the phone number (to managers,
-- and so to the desk and the partner it asks to visit).
ALTER TABLE members ADD COLUMN address TEXT NOT NULL DEFAULT '';
