"""The database, whichever the engine: SQLite in a file (the embedded default, storage/sqlite.py)
or PostgreSQL (several instances, storage/postgres.py), chosen by `database_for`; the one
`Connection` the repositories speak to, time as stored, and the numbered migrations.

The repositories write their SQL once, with `?` placeholders, in the part of SQL both engines
speak (`ON CONFLICT`, `RETURNING`, `FILTER`); the few places where the two differ ask
`conn.dialect`. Times are UTC ISO-8601 text on both, so they compare and copy the same way.

Every unit of work is one transaction, and one writer at a time: SQLite's `BEGIN IMMEDIATE`,
and on PostgreSQL a transaction-level advisory lock taken first thing (storage/postgres.py).
The rules of the service were written for that discipline; several instances keep it. What
only reads opens `Database.reading()` instead: a transaction that cannot write (the engine
refuses: `ReadOnly`), and takes no writer's lock.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import secrets
import socket
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

log = logging.getLogger("mimamori.storage")

SQLITE = "sqlite"
POSTGRESQL = "postgresql"


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


class Conflict(Exception):
    """A constraint said no (a name taken, a row that already exists), on either engine."""


class ReadOnly(Exception):
    """A write inside `Database.reading()`: a programming error, refused by the engine itself
    (SQLite's `query_only`, PostgreSQL's READ ONLY transaction)."""


@dataclass(frozen=True)
class Written:
    """What a write statement did."""

    rowcount: int


class Connection:
    """One transaction's connection, as the repositories see it, on either engine."""

    dialect: str

    async def execute(self, sql: str, params: Iterable[Any] = ()) -> Written:
        raise NotImplementedError

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        raise NotImplementedError

    async def fetch_all(self, sql: str, params: Iterable[Any] = ()) -> list[Any]:
        """Every row; a row answers to `row[0]` and `row["column"]`."""
        raise NotImplementedError

    async def fetch_one(self, sql: str, params: Iterable[Any] = ()) -> Any | None:
        rows = await self.fetch_all(sql, params)
        return rows[0] if rows else None


async def fetch_in(
    conn: Connection, sql: str, values: Sequence[Any], chunk: int = 500
) -> list[Any]:
    """Rows of `sql`, whose `{marks}` takes `values` as an IN list, a chunk at a time (SQLite
    limits the parameters of one statement)."""
    rows: list[Any] = []
    for start in range(0, len(values), chunk):
        part = list(values[start : start + chunk])
        rows += await conn.fetch_all(sql.format(marks=",".join("?" * len(part))), part)
    return rows


async def insert_rows(
    conn: Connection, sql: str, rows: Sequence[Sequence[Any]], chunk: int = 200
) -> list[Any]:
    """What `sql`, an INSERT whose `{values}` takes `rows`, RETURNs, a chunk of rows per
    statement: one trip each, where executemany takes one per row and returns nothing (both
    engines limit the parameters of one statement)."""
    found: list[Any] = []
    for start in range(0, len(rows), chunk):
        part = rows[start : start + chunk]
        values = ",".join([f"({','.join('?' * len(part[0]))})"] * len(part))
        found += await conn.fetch_all(sql.format(values=values), [v for row in part for v in row])
    return found


class Database:
    """The process's database: transactions, one writer at a time, and the migrations."""

    dialect: str
    target: str  # the file, or the URL without its password

    async def open(self) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    # Who claims work in the shared tables: unique to this process.
    instance = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
    # Whether this process is the only one on its database (SQLite): then any claim found at
    # start-up was its own, left by a crash, and is released at once.
    single_instance = True
    # Whether events land apart from webhook_events (`arrivals`), in a store of their own.
    arrivals_apart = False
    # The key of the numbers' hashes in call_attempts (storage.calls.number_key): set from the
    # deployment's channel secret when the services are put together (care.services), so that
    # the database alone does not tell which number a withdrawn person's calls rang.
    call_key = b"mimamori call attempts"

    def transaction(self, brief: bool = False) -> Any:
        """`async with db.transaction() as conn:` one transaction (a `Connection`), one writer
        at a time.

        `brief`: its statements each read or write a few rows by key (a batch of webhook
        events), and on SQLite run on the event loop's thread: a trip to aiosqlite's thread
        costs several times the CPU of such a statement (bench/taps.py). A statement that may
        walk a table (a sweep, the console's figures) belongs in an ordinary transaction,
        where the loop goes on while it runs."""
        raise NotImplementedError

    def reading(self, brief: bool = False) -> Any:
        """`async with db.reading() as conn:` a transaction that only reads: it sees one
        snapshot (the last commit when it began), takes no writer's lock (neither this
        process's turn nor PostgreSQL's advisory lock), and cannot write: the engine refuses
        any statement that would (`ReadOnly`). `brief`: as for `transaction`."""
        raise NotImplementedError

    def claims(self) -> Any:
        """A short transaction that claims rows (outbox, stored events) without waiting for
        the writer: on PostgreSQL it relies on `FOR UPDATE SKIP LOCKED`, on SQLite it is an
        ordinary transaction."""
        return self.transaction()

    def arrivals(self) -> Any:
        """Where webhook events land before LINE is answered, never waiting for the writer of
        the service's tables, so a long batch of handling does not hold up the answers to
        LINE: on PostgreSQL the webhook_events table, each statement committing as it
        completes; on SQLite a file of its own beside the database (one writer per file)."""
        return self.claims()

    async def lead(self) -> bool:
        """Whether this instance plans the sweeps (opens rounds, walks the ladder): always
        on SQLite; on PostgreSQL the instance holding the planner's advisory lock."""
        return True

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._waiting = 0

    @asynccontextmanager
    async def _turn(self) -> AsyncIterator[None]:
        """This process's units of work one after another (counted while they wait)."""
        self._waiting += 1
        try:
            await self._lock.acquire()
        finally:
            self._waiting -= 1
        try:
            yield
        finally:
            self._lock.release()

    def contended(self) -> bool:
        """Whether another unit of work of this process holds the database or waits for it (a
        sweep, a console action): long transactions should give way."""
        return self._waiting > 0 or self._lock.locked()

    async def ping(self) -> bool:
        """Whether the database answers, where webhook events land included."""
        for place, opened in (("database", self.transaction), ("arrivals", self.arrivals)):
            try:
                async with asyncio.timeout(2), opened() as conn:
                    await conn.fetch_one("SELECT 1")
            except Exception:
                log.exception("the %s did not answer", place)
                return False
        return True


def guarded(column: str) -> str:
    """`column` as a guard of a statement that names its row by its key (`WHERE id = ? AND
    state = 'pending'`), written so that no partial index can serve the statement.

    PostgreSQL may otherwise read the statement's row through a partial index whose WHERE the
    guard matches, filtering every entry by the key: its statistics date from the last VACUUM,
    when such an index (the open rounds, the pending messages) was near empty, so it looks
    cheaper than the primary key however full it has grown since. At the 07:00 rush after a
    wave of 333,000 that was 130 ms for each OK's round (bench/taps.py --seeded). An
    expression of the column is not the column: the key finds the row. Text columns only."""
    return f"({column} || '')"


def is_postgres(target: str | Path) -> bool:
    return str(target).startswith(("postgresql://", "postgres://"))


def database_for(target: str | Path, **options: Any) -> Database:
    """`MIMAMORI_DATABASE`: a file path (SQLite) or a postgresql:// URL."""
    if is_postgres(target):
        from storage.postgres import PostgresDatabase

        return PostgresDatabase(str(target), **options)
    from storage.sqlite import SqliteDatabase

    return SqliteDatabase(target)


APPLIED = "SELECT version FROM schema_migrations"
SCHEMA_MIGRATIONS = (
    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT)"
)


def owner_only(path: str | Path) -> None:
    """The database, its arrivals and its backups hold people's words and phone numbers: made
    readable by their owner only (SQLite gives its -wal and -shm files the same mode), and an
    existing one tightened. A symlink is refused rather than followed."""
    if os.path.islink(path):
        raise RuntimeError(f"{path} is a symlink; point MIMAMORI_DATABASE at the file itself")
    if str(path) == ":memory:":
        return
    descriptor = os.open(path, os.O_CREAT | os.O_RDWR | os.O_NOFOLLOW, 0o600)
    try:
        os.fchmod(descriptor, 0o600)
    finally:
        os.close(descriptor)


def known_migrations() -> list[int]:
    """The schema versions this code can write (the same numbers on both engines)."""
    return [version for version, _, _ in migrations(SQLITE)]


def migrations(dialect: str) -> list[tuple[int, str, str]]:
    """(version, file name, SQL) in order. SQLite's are in migrations/. PostgreSQL runs the same
    files, except where its SQL differs: then a file of the same name in migrations/postgresql/
    says the same change in its own SQL. Only the version is recorded (schema_migrations), so
    which file a version was read from does not matter to a database that applied it."""
    folder = resources.files("storage") / "migrations"
    found = {version: (name, sql) for version, name, sql in _sql_files(folder)}
    if dialect == POSTGRESQL:
        found.update({version: (n, sql) for version, n, sql in _sql_files(folder / "postgresql")})
    return [(version, name, sql) for version, (name, sql) in sorted(found.items())]


def _sql_files(folder: Any) -> list[tuple[int, str, str]]:
    return [
        (int(entry.name.split("_", 1)[0]), entry.name, entry.read_text("utf-8"))
        for entry in folder.iterdir()
        if entry.name.endswith(".sql")
    ]
