-- PostgreSQL's twin of ../0010_rich_menus.sql.
-- The rich menus made at LINE, one per kind, and which one each person has linked. A person
-- whose linked kind differs from the one their role calls for is linked by the next sweep.
CREATE TABLE rich_menus (
    kind TEXT PRIMARY KEY CHECK (kind IN ('user', 'watcher')),
    rich_menu_id TEXT NOT NULL,
    created_at TEXT NOT NULL
);
ALTER TABLE members ADD COLUMN rich_menu TEXT;
