"""The SQLite database: one connection, numbered migrations, serialised transactions."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

log = logging.getLogger("mimamori.storage")


def to_db(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("naive datetime reached the database")
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def from_db(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


@functools.lru_cache(maxsize=4096)
def to_db_cached(moment: datetime) -> str:
    """`to_db` for bulk writes, where thousands of rows share a few moments (a wave's slot)."""
    return to_db(moment)


@functools.lru_cache(maxsize=4096)
def from_db_cached(text: str) -> datetime:
    """`from_db` for bulk reads, where thousands of rows share a few moments."""
    return datetime.fromisoformat(text)


async def fetch_one(
    conn: aiosqlite.Connection, sql: str, params: Iterable[Any] = ()
) -> aiosqlite.Row | None:
    """The first row of a query, in one trip to the database thread (a cursor takes three)."""
    rows = await conn.execute_fetchall(sql, params)
    return next(iter(rows), None)


async def fetch_all(
    conn: aiosqlite.Connection, sql: str, params: Iterable[Any] = ()
) -> list[aiosqlite.Row]:
    """Every row of a query, in one trip to the database thread."""
    return list(await conn.execute_fetchall(sql, params))


async def fetch_in(
    conn: aiosqlite.Connection, sql: str, values: Sequence[Any], chunk: int = 500
) -> list[aiosqlite.Row]:
    """Rows of `sql`, whose `{marks}` takes `values` as an IN list, a chunk at a time (SQLite
    limits the parameters of one statement)."""
    rows: list[aiosqlite.Row] = []
    for start in range(0, len(values), chunk):
        part = list(values[start : start + chunk])
        rows += await fetch_all(conn, sql.format(marks=",".join("?" * len(part))), part)
    return rows


class Database:
    """One aiosqlite connection shared by the process.

    SQLite allows one writer at a time and a connection is not safe to interleave transactions
    on, so every unit of work takes the lock and runs in `BEGIN IMMEDIATE ... COMMIT`.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        self._conn: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()
        self._waiting = 0

    async def open(self) -> None:
        conn = await aiosqlite.connect(self.path, isolation_level=None)
        conn.row_factory = aiosqlite.Row
        await conn.execute("PRAGMA journal_mode = WAL")
        # FULL: a committed round, OK or alert survives power loss, not only a crash.
        await conn.execute("PRAGMA synchronous = FULL")
        await conn.execute("PRAGMA foreign_keys = ON")
        await conn.execute("PRAGMA busy_timeout = 5000")
        await conn.execute("PRAGMA cache_size = -32000")
        self._conn = conn
        await self._migrate()

    async def close(self) -> None:
        if self._conn is not None:
            async with self._lock:
                await self._conn.close()
                self._conn = None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        if self._conn is None:
            raise RuntimeError("database is not open")
        self._waiting += 1
        try:
            await self._lock.acquire()
        finally:
            self._waiting -= 1
        try:
            conn = self._conn
            await conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                await conn.execute("ROLLBACK")
                raise
            await conn.execute("COMMIT")
        finally:
            self._lock.release()

    def contended(self) -> bool:
        """Whether another unit of work holds the database or waits for it (a webhook request
        storing its events, say): long transactions should give way."""
        return self._waiting > 0 or self._lock.locked()

    async def ping(self) -> bool:
        try:
            async with asyncio.timeout(2), self.transaction() as conn:
                await conn.execute("SELECT 1")
        except Exception:
            log.exception("database did not answer")
            return False
        return True

    async def _migrate(self) -> None:
        assert self._conn is not None
        await self._conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations"
            " (version INTEGER PRIMARY KEY, applied_at TEXT)"
        )
        async with self._conn.execute("SELECT version FROM schema_migrations") as cursor:
            applied = {row[0] for row in await cursor.fetchall()}
        for version, name, sql in _migrations():
            if version in applied:
                continue
            log.info("applying migration %s", name)
            # SQLite's procedure for changing a table's shape: foreign keys off around the
            # transaction, checked before it commits. The version row commits with the change.
            await self._conn.execute("PRAGMA foreign_keys = OFF")
            await self._conn.executescript(
                f"BEGIN;\n{sql}\nINSERT INTO schema_migrations VALUES "
                f"({version}, '{to_db(datetime.now(UTC))}');"
            )
            async with self._conn.execute("PRAGMA foreign_key_check") as cursor:
                broken = list(await cursor.fetchall())
            if broken:
                await self._conn.execute("ROLLBACK")
                raise RuntimeError(f"migration {name} breaks foreign keys: {broken[:5]}")
            await self._conn.execute("COMMIT")
            await self._conn.execute("PRAGMA foreign_keys = ON")


def known_migrations() -> list[int]:
    """The schema versions this code can write."""
    return [version for version, _, _ in _migrations()]


def _migrations() -> list[tuple[int, str, str]]:
    folder = resources.files("storage") / "migrations"
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            found.append((int(entry.name.split("_", 1)[0]), entry.name, entry.read_text("utf-8")))
    return sorted(found)
