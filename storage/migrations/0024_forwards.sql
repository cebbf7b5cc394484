-- On the city's shared LINE account, with mimamori in front: events that are not mimamori's,
-- kept here in the transaction that decided so, and forwarded to the city's system in order
-- per chat until it takes them (or a day has passed).
CREATE TABLE forwards (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,   -- LINE's webhookEventId
    chat TEXT NOT NULL,              -- the user, group or room: the order is kept per chat
    payload TEXT NOT NULL,           -- the event as LINE sent it
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'given_up')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    created_at TEXT NOT NULL,
    sent_at TEXT,
    last_error TEXT,
    claimed_by TEXT,
    claimed_until TEXT
);
CREATE INDEX forwards_pending ON forwards (chat, id) WHERE state = 'pending';
CREATE INDEX forwards_sent ON forwards (sent_at) WHERE state <> 'pending';
-- The tab of the city's own menu (MIMAMORI_MENUS=tab) is a kind of its own.
CREATE TABLE rich_menus_kinds (
    kind TEXT PRIMARY KEY CHECK (kind IN ('user', 'watcher', 'tab')),
    rich_menu_id TEXT NOT NULL,
    created_at TEXT NOT NULL
);
INSERT INTO rich_menus_kinds SELECT kind, rich_menu_id, created_at FROM rich_menus;
DROP TABLE rich_menus;
ALTER TABLE rich_menus_kinds RENAME TO rich_menus;
