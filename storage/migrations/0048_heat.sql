-- 熱中症警戒アラート and 熱中症特別警戒アラート (環境省・気象庁) for the city's 府県予報区, and the
-- heat check that an alert day brings to the residents who asked for it or whom the desk marks
-- at risk (care/broadcasts/heat.py).

-- Each document read from the Ministry of the Environment's feeds, once: an alert file (one
-- per issuing hour, 05, 10, 14 and 17 JST) or a WBGT forecast. A URL may be published again
-- with new contents, so a document is its URL and a digest of its body. What it did: the
-- city's areas under an alert (alert, special), none (flags 0, 2 or 9), a test file (drill),
-- or skipped (broken, too large, on another host), recorded so that it is never read again.
CREATE TABLE heat_documents (
    document TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('alert', 'wbgt')),
    action TEXT NOT NULL
        CHECK (action IN ('alert', 'special', 'none', 'drill', 'skipped', 'forecast')),
    day TEXT,
    detail TEXT NOT NULL DEFAULT '',
    received_at TEXT NOT NULL
);

-- An alert day in the city (its local date): the highest level announced for it, when the
-- heat check goes out (the city's hour), and when it went (NULL: still to come).
CREATE TABLE heat_days (
    day TEXT PRIMARY KEY,
    level TEXT NOT NULL CHECK (level IN ('alert', 'special')),
    check_at TEXT NOT NULL,
    asked_at TEXT,
    announced_at TEXT NOT NULL
);

-- The WBGT forecast's highest value for a day at each observation point the city set.
CREATE TABLE heat_wbgt (
    point TEXT NOT NULL,
    day TEXT NOT NULL,
    highest REAL NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (point, day)
);

-- Who gets a heat check on an alert day: she asked for it (opted_in, from the chat or My
-- page), or the desk marks her at risk (at_risk, from her card or the people page, audited).
CREATE TABLE heat_watch (
    member_id INTEGER PRIMARY KEY REFERENCES members (id),
    opted_in INTEGER NOT NULL DEFAULT 0,
    at_risk INTEGER NOT NULL DEFAULT 0,
    changed_at TEXT NOT NULL
);

-- Each person a day's heat check named: the round it opened for her (a check-in round of its
-- own, with the heat ladder's waits), or why she was not asked (her regular round was open,
-- blocked, reachable by phone alone).
CREATE TABLE heat_check_people (
    day TEXT NOT NULL REFERENCES heat_days (day),
    member_id INTEGER NOT NULL REFERENCES members (id),
    round_id INTEGER,
    unasked TEXT,
    PRIMARY KEY (day, member_id)
);
CREATE INDEX heat_check_people_round ON heat_check_people (round_id);
