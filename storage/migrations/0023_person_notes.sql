-- The desk's notes on a person, not on one case: what staff learn (「耳が遠いので、ゆっくり話す」,
-- 「鍵は隣の方が預かっている」) is there the next time. Deleted with the person's 退会.
CREATE TABLE person_notes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    member_id INTEGER NOT NULL REFERENCES members (id),
    staff TEXT NOT NULL,
    at TEXT NOT NULL,
    note TEXT NOT NULL
);
CREATE INDEX person_notes_member ON person_notes (member_id, id);
