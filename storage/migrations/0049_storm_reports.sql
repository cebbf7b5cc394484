-- Weather warnings read from the JMA feed (気象庁防災情報XML: 気象警報・注意報（Ｒ０６） for 大雨,
-- 土砂災害 and 高潮, 指定河川洪水予報 for 氾濫): each document once, and what it did in the
-- city's municipalities. `warning` is the strongest found there, as hazard:level (landslide:4);
-- `office` and `title` tie a 取消 to the document it cancels. Nothing of any person.
CREATE TABLE storm_reports (
    document TEXT PRIMARY KEY,               -- the document's URL in the feed
    title TEXT NOT NULL,
    office TEXT NOT NULL DEFAULT '',         -- Control/EditorialOffice
    warning TEXT,
    action TEXT NOT NULL CHECK (action IN (
        'started', 'already', 'below', 'elsewhere', 'drill', 'cancelled', 'skipped'
    )),
    roll_call_id INTEGER REFERENCES roll_calls (id),
    received_at TEXT NOT NULL
);
CREATE INDEX storm_reports_received ON storm_reports (received_at);
-- What a roll-call the feed started is about (landslide:4), so that its question, and every
-- re-ask, names the warning (レベル4土砂災害危険警報). NULL: a roll-call of no named warning.
ALTER TABLE roll_calls ADD COLUMN occasion TEXT;
