"""SQLite's arrivals: the file beside the database where webhook events land before LINE is
answered, so that storing them never waits behind a unit of work holding the database's writer.
(On PostgreSQL they land in webhook_events itself: storage/webhook_events.py.)"""

from __future__ import annotations

from pathlib import Path

import aiosqlite

from storage.database import owner_only

# The arrivals file holds one table, written only by the webhook and emptied as the events
# are handled; `user_version` numbers its shape.
_ARRIVALS_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS arrivals (event_id TEXT PRIMARY KEY, payload TEXT NOT NULL,"
    " received_at TEXT NOT NULL)"
)


def arrivals_path(database: str | Path) -> str:
    """Where an SQLite database's webhook events land: beside it, named after it (copy and
    move the two together, as with its -wal file)."""
    return f"{database}-arrivals"


async def open_arrivals(path: str) -> aiosqlite.Connection:
    owner_only(path)
    conn = await aiosqlite.connect(path, isolation_level=None)
    conn.row_factory = aiosqlite.Row
    await conn.execute("PRAGMA secure_delete = ON")
    await conn.execute("PRAGMA journal_mode = WAL")
    # FULL, as the database: LINE is answered 200 only once an event is on disk.
    await conn.execute("PRAGMA synchronous = FULL")
    await conn.execute("PRAGMA busy_timeout = 5000")
    await conn.execute(_ARRIVALS_SCHEMA)
    await conn.execute("PRAGMA user_version = 1")
    return conn
