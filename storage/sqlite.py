"""SQLite: the embedded default, one file (and its arrivals beside it, storage/arrivals.py),
one process, one writer at a time (`BEGIN IMMEDIATE`) on one connection, and the reads that
change nothing on a read-only connection of their own."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite

from storage.arrivals import arrivals_path, open_arrivals
from storage.database import (
    APPLIED,
    SCHEMA_MIGRATIONS,
    SQLITE,
    Conflict,
    Connection,
    Database,
    ReadOnly,
    Written,
    migrations,
    owner_only,
    to_db,
)

log = logging.getLogger("mimamori.storage")


class SqliteConnection(Connection):
    """A statement goes to aiosqlite's thread, so that the event loop goes on meanwhile; in a
    brief transaction (`SqliteDatabase.transaction(brief=True)`) it runs on the loop's thread,
    on the same sqlite3 connection (`here`), which this module opened and handed to aiosqlite.
    On a reading connection (`PRAGMA query_only`) a write raises `ReadOnly`."""

    dialect = SQLITE

    def __init__(self, conn: aiosqlite.Connection, here: sqlite3.Connection | None = None) -> None:
        self.raw = conn
        # Opened with check_same_thread=False for this; only one unit of work uses it at a
        # time (`Database._turn`, or the reader's lock), and each of its statements ends
        # before the next begins, on whichever thread.
        self.here = here
        self.brief = False

    @property
    def _here(self) -> sqlite3.Connection:
        if self.here is None:
            raise RuntimeError("this connection runs its statements on aiosqlite's thread only")
        return self.here

    async def execute(self, sql: str, params: Iterable[Any] = ()) -> Written:
        with _refusals():
            if self.brief:
                cursor = self._here.execute(sql, tuple(params))
            else:
                cursor = await self.raw.execute(sql, tuple(params))
        return Written(cursor.rowcount)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        with _refusals():
            if self.brief:
                self._here.executemany(sql, rows)
            else:
                await self.raw.executemany(sql, rows)

    async def fetch_all(self, sql: str, params: Iterable[Any] = ()) -> list[Any]:
        with _refusals():
            if self.brief:
                return self._here.execute(sql, tuple(params)).fetchall()
            # One trip to the database thread (a cursor takes three).
            return list(await self.raw.execute_fetchall(sql, tuple(params)))


@contextmanager
def _refusals() -> Iterator[None]:
    """SQLite's refusals as the repositories know them, on either engine."""
    try:
        yield
    except sqlite3.IntegrityError as error:
        raise Conflict(str(error)) from error
    except sqlite3.OperationalError as error:
        if error.sqlite_errorname == "SQLITE_READONLY":
            raise ReadOnly(str(error)) from error
        raise


async def connect(path: str, *, read_only: bool = False) -> SqliteConnection:
    """A connection to the file whose sqlite3 connection is this module's own: opened here, in
    aiosqlite's thread, and handed to aiosqlite, so a brief transaction can run statements on
    it directly without reaching into aiosqlite. `read_only`: `PRAGMA query_only`, under
    which SQLite refuses every write."""
    opened: list[sqlite3.Connection] = []

    def connector() -> sqlite3.Connection:
        # Not bound to aiosqlite's thread: a brief transaction runs its statements on the
        # loop's (`SqliteConnection`).
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        opened.append(conn)
        return conn

    raw = await aiosqlite.Connection(connector, iter_chunk_size=64)
    if read_only:
        await raw.execute("PRAGMA query_only = ON")
    await raw.execute("PRAGMA busy_timeout = 5000")
    return SqliteConnection(raw, opened[0])


class SqliteDatabase(Database):
    """The process's connections to the file: the writer, shared by every unit of work, and a
    reader of its own (`reading`).

    SQLite allows one writer at a time and a connection is not safe to interleave transactions
    on, so every unit of work takes the lock and runs in `BEGIN IMMEDIATE ... COMMIT`. Reads
    that change nothing go to the reader, under `PRAGMA query_only`: in WAL mode a reader
    sees the last commit and neither waits for the writer nor holds it up.
    """

    dialect = SQLITE
    arrivals_apart = True

    def __init__(self, path: Path | str) -> None:
        super().__init__()
        self.path = str(path)
        self.target = self.path
        self._conn: SqliteConnection | None = None
        self._reader: SqliteConnection | None = None
        self._reader_lock = asyncio.Lock()
        self.arrivals_path = arrivals_path(self.path)
        self._arrivals: SqliteConnection | None = None
        self._arrivals_lock = asyncio.Lock()

    async def open(self) -> None:
        if self.path == ":memory:":
            # The reader's connection would open another database, empty: every read-only
            # page would fail. Refused at start, saying so.
            raise RuntimeError(
                "MIMAMORI_DATABASE=:memory: cannot be read by a second connection; name a file"
            )
        owner_only(self.path)
        self._conn = await connect(self.path)
        conn = self._conn.raw
        # What 退会 deletes is overwritten on disk, not left in free pages.
        await conn.execute("PRAGMA secure_delete = ON")
        await conn.execute("PRAGMA journal_mode = WAL")
        # FULL: a committed round, OK or alert survives power loss, not only a crash.
        await conn.execute("PRAGMA synchronous = FULL")
        await conn.execute("PRAGMA foreign_keys = ON")
        await conn.execute("PRAGMA cache_size = -32000")
        await self._migrate(conn)
        # After the migrations: the reader is opened on the schema this code reads.
        self._reader = await connect(self.path, read_only=True)
        await self._reader.raw.execute("PRAGMA cache_size = -32000")
        self._arrivals = SqliteConnection(await open_arrivals(self.arrivals_path))

    async def close(self) -> None:
        if self._arrivals is not None:
            async with self._arrivals_lock:
                await self._arrivals.raw.close()
                self._arrivals = None
        if self._reader is not None:
            async with self._reader_lock:
                await self._reader.raw.close()
                self._reader = None
        if self._conn is not None:
            async with self._lock:
                await self._conn.raw.close()
                self._conn = None

    def contended(self) -> bool:
        # Webhook events landing count too: the handling of a batch, in one stretch on the
        # event loop, would hold up the answers to LINE.
        return super().contended() or self._arrivals_lock.locked()

    @asynccontextmanager
    async def arrivals(self) -> AsyncIterator[Connection]:
        if self._arrivals is None:
            raise RuntimeError("database is not open")
        # No BEGIN: each statement commits on its own, as it completes. Events land in one
        # INSERT (of up to 200; should a crash fall between two, the request got no answer and
        # LINE sends it again), and nothing else here needs two statements to commit together,
        # so the answer to LINE waits for one trip to the database thread, not three.
        async with self._arrivals_lock:
            yield self._arrivals

    @asynccontextmanager
    async def transaction(self, brief: bool = False) -> AsyncIterator[Connection]:
        if self._conn is None:
            raise RuntimeError("database is not open")
        # BEGIN IMMEDIATE may wait for another process's lock (busy_timeout), and COMMIT
        # waits for the disk: both on aiosqlite's thread, whatever the statements between.
        async with self._turn(), _transaction(self._conn, "BEGIN IMMEDIATE", brief) as conn:
            yield conn

    @asynccontextmanager
    async def reading(self, brief: bool = False) -> AsyncIterator[Connection]:
        if self._reader is None:
            raise RuntimeError("database is not open")
        # The reader's own turn (its transactions one after another on its connection), never
        # the writer's. A deferred BEGIN: the transaction's reads share one snapshot, the last
        # commit.
        async with self._reader_lock, _transaction(self._reader, "BEGIN", brief) as conn:
            yield conn

    async def _migrate(self, conn: aiosqlite.Connection) -> None:
        await conn.execute(SCHEMA_MIGRATIONS)
        applied = {row[0] for row in await conn.execute_fetchall(APPLIED)}
        for version, name, sql in migrations(SQLITE):
            if version in applied:
                continue
            log.info("applying migration %s", name)
            # SQLite's procedure for changing a table's shape: foreign keys off around the
            # transaction, checked before it commits. The version row commits with the change.
            await conn.execute("PRAGMA foreign_keys = OFF")
            await conn.executescript(
                f"BEGIN;\n{sql}\nINSERT INTO schema_migrations VALUES "
                f"({version}, '{to_db(datetime.now(UTC))}');"
            )
            broken = list(await conn.execute_fetchall("PRAGMA foreign_key_check"))
            if broken:
                await conn.execute("ROLLBACK")
                raise RuntimeError(f"migration {name} breaks foreign keys: {broken[:5]}")
            await conn.execute("COMMIT")
            await conn.execute("PRAGMA foreign_keys = ON")


@asynccontextmanager
async def _transaction(
    conn: SqliteConnection, begin: str, brief: bool
) -> AsyncIterator[SqliteConnection]:
    await conn.raw.execute(begin)
    conn.brief = brief
    try:
        yield conn
    except BaseException:
        await conn.raw.execute("ROLLBACK")
        raise
    finally:
        conn.brief = False
    await conn.raw.execute("COMMIT")
