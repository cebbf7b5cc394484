-- The city's 避難行動要支援者名簿 (災害対策基本法 49条の10), imported from its CSV (issue 41),
-- called "the roster" in the code so as not to be taken for the 個人情報ファイル簿
-- (care/privacy/register.py). One row per person the city lists, found again by the city's own
-- ID on the next import. Each is a member (member_id) reached as they can be: by phone (a
-- member with no LINE, as the desk's phone-only residents) until they send the code printed on
-- the letter the city mails (letter_code, made at letter_code_at), then by the LINE account that
-- sent it (linked_at). consent: 平常時同意 (49条の11 第2項), which decides who sees them in
-- normal times. A person the next file no longer lists is marked removed (removed_at), not
-- deleted: a filtered export must not silently drop someone from the next disaster's
-- roll-call; the daily purge erases the row once removed longer than MIMAMORI_KEEP_CASES.
CREATE TABLE roster_people (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    roster_id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    furigana TEXT NOT NULL DEFAULT '',
    address TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL DEFAULT '',
    carer TEXT NOT NULL DEFAULT '',
    consent INTEGER NOT NULL DEFAULT 0,
    member_id INTEGER NOT NULL REFERENCES members (id),
    letter_code TEXT UNIQUE,
    letter_code_at TEXT,
    linked_at TEXT,
    added_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    removed_at TEXT
);
CREATE INDEX roster_people_member ON roster_people (member_id);
CREATE INDEX roster_people_carer ON roster_people (carer);
-- A declared disaster (49条の11 第3項): a roll-call started by the JMA feed, or by 運用管理 who
-- marked it so. While one is open, the roster's people without 平常時同意 are shown to the
-- 窓口 and to the partners assigned to them.
ALTER TABLE roll_calls ADD COLUMN disaster INTEGER NOT NULL DEFAULT 0;
-- A file 運用管理 uploaded, as decoded, between its preview and the commit that applies it
-- (the console's requests are too small to carry a city's file twice): deleted once
-- committed, and any an hour old when the next is previewed or at the nightly purge.
CREATE TABLE roster_imports (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    made_by TEXT NOT NULL,
    made_at TEXT NOT NULL,
    content TEXT NOT NULL,
    roster_state TEXT NOT NULL
);
