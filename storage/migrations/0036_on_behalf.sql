-- Staff acting for a person (care/on_behalf.py): a device the desk links for her, or a watcher
-- the staff add to her team, waits for her own yes in LINE. One row per person asked; a
-- watcher added to a team with several users asks each of them (one batch).
CREATE TABLE staff_requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    member_id INTEGER NOT NULL REFERENCES members (id),
    kind TEXT NOT NULL CHECK (kind IN ('device', 'watcher')),
    device_id INTEGER REFERENCES devices (id),
    team_id INTEGER REFERENCES teams (id),
    watcher_id INTEGER REFERENCES members (id),
    batch TEXT NOT NULL,
    staff TEXT NOT NULL,
    created_at TEXT NOT NULL,
    answer TEXT CHECK (answer IN ('yes', 'no', 'withdrawn')),
    answered_at TEXT
);
CREATE INDEX staff_requests_member ON staff_requests (member_id);
CREATE INDEX staff_requests_batch ON staff_requests (batch);
-- A device linked by staff answers nothing until she agreed (then: when she did).
ALTER TABLE devices ADD COLUMN awaiting_consent INTEGER NOT NULL DEFAULT 0;
ALTER TABLE devices ADD COLUMN consented_at TEXT;
