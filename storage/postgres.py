"""PostgreSQL, for several `mimamori serve` processes on one database.

The driver is psycopg 3 (the PostgreSQL project's own Python adapter family, asyncio-native,
with a connection pool and pipelined `executemany`). Parameters are sent untyped where they are
text, so the server casts them as the column wants, as SQLite does; the repositories' `?` become
PostgreSQL's own `$1, $2, ...` here, once per statement, and go through psycopg's raw cursor,
which does not parse the statement again on every call (it caches that only for statements of
up to 50 parameters: a wave's multi-row INSERTs of a thousand were parsed each time, a fifth of
the wave's time).

One writer at a time, as on SQLite: each unit of work takes a transaction-level advisory lock
first, so every rule that reads, decides and writes keeps holding with two instances. What only
reads takes no lock, in a READ ONLY transaction (`PostgresDatabase.reading`). Work that
is claimed rather than serialised (outbox rows, stored webhook events) uses `FOR UPDATE SKIP
LOCKED` in short transactions of its own.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import pq
from psycopg.adapt import Loader
from psycopg_pool import AsyncConnectionPool

from storage.database import (
    APPLIED,
    POSTGRESQL,
    Conflict,
    Connection,
    Database,
    ReadOnly,
    Written,
    migrations,
    to_db,
)

log = logging.getLogger("mimamori.storage")

# Advisory lock keys, the same in every instance ("mima" + a number).
WRITER_LOCK = 0x6D696D61_0001
MIGRATION_LOCK = 0x6D696D61_0002
PLANNER_LOCK = 0x6D696D61_0003


@functools.lru_cache(maxsize=4096)
def translate(sql: str) -> str:
    """SQLite's `?` placeholders (outside quoted text) as PostgreSQL's numbered ones."""
    out: list[str] = []
    quoted = False
    number = 0
    for char in sql:
        if char == "'":
            quoted = not quoted
            out.append(char)
        elif char == "?" and not quoted:
            number += 1
            out.append(f"${number}")
        else:
            out.append(char)
    return "".join(out)


class Row(tuple[Any, ...]):
    """A row that answers to `row[0]` and `row["column"]`, as sqlite3.Row does."""

    __slots__ = ()
    names: ClassVar[dict[str, int]] = {}

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return tuple.__getitem__(self, self.names[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self.names)


@functools.lru_cache(maxsize=1024)
def _row_class(names: tuple[str, ...]) -> type[Row]:
    return type("Row", (Row,), {"__slots__": (), "names": {n: i for i, n in enumerate(names)}})


def _row_factory(cursor: Any) -> Any:
    # The columns' names as psycopg's own dict_row reads them: `cursor.description` would
    # build a Column, with its type, for each column of each result (a tenth of a query's
    # CPU at the 07:00 rush).
    result = cursor.pgresult
    if result is None or result.status != pq.ExecStatus.TUPLES_OK:
        return tuple
    return _row_class(tuple(result.fname(i).decode() for i in range(result.nfields)))


class _NumberLoader(Loader):
    """numeric (what SUM and AVG of integers give) as int or float, as SQLite gives them:
    the figures go into JSON and templates, where a Decimal does not belong."""

    def load(self, data: Any) -> Any:
        number = Decimal(bytes(data).decode())
        return int(number) if number == number.to_integral_value() else float(number)


async def _configure(conn: psycopg.AsyncConnection[Any]) -> None:
    conn.adapters.register_loader("numeric", _NumberLoader)


class PostgresConnection(Connection):
    dialect = POSTGRESQL

    def __init__(self, raw: psycopg.AsyncConnection[Any]) -> None:
        self.raw = raw

    async def execute(self, sql: str, params: Iterable[Any] = ()) -> Written:
        return Written((await self._run(sql, params)).rowcount)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        rows = list(rows)
        if not rows:
            return
        try:
            async with psycopg.AsyncRawCursor(self.raw) as cursor:
                await cursor.executemany(translate(sql), rows)
        except psycopg.errors.IntegrityError as error:
            raise Conflict(str(error)) from error
        except psycopg.errors.ReadOnlySqlTransaction as error:
            raise ReadOnly(str(error)) from error

    async def fetch_all(self, sql: str, params: Iterable[Any] = ()) -> list[Any]:
        return await (await self._run(sql, params)).fetchall()

    async def _run(self, sql: str, params: Iterable[Any]) -> psycopg.AsyncRawCursor[Any]:
        cursor = psycopg.AsyncRawCursor(self.raw)
        try:
            await cursor.execute(translate(sql), tuple(params))
        except psycopg.errors.IntegrityError as error:
            raise Conflict(str(error)) from error
        except psycopg.errors.ReadOnlySqlTransaction as error:
            raise ReadOnly(str(error)) from error
        return cursor


def redacted(url: str) -> str:
    """The URL without its password, for logs and `mimamori check`."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


class PostgresDatabase(Database):
    dialect = POSTGRESQL

    def __init__(self, url: str, pool_size: int = 8) -> None:
        super().__init__()
        self.url = url
        self.target = redacted(url)
        self._pool_size = pool_size
        self._pool: AsyncConnectionPool | None = None
        self._leader: psycopg.AsyncConnection[Any] | None = None

    single_instance = False

    async def open(self) -> None:
        pool = AsyncConnectionPool(
            self.url,
            min_size=1,
            max_size=self._pool_size,
            open=False,
            kwargs={"autocommit": True, "row_factory": _row_factory},
            configure=_configure,
            check=AsyncConnectionPool.check_connection,
            name="mimamori",
        )
        await pool.open(wait=True, timeout=30)
        self._pool = pool
        try:
            await self._migrate()
        except BaseException:
            await pool.close()
            self._pool = None
            raise

    async def close(self) -> None:
        if self._leader is not None:
            with contextlib.suppress(Exception):
                await self._leader.close()
            self._leader = None
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        """A connection of the pool, outside any unit of work (claims, leases)."""
        if self._pool is None:
            raise RuntimeError("database is not open")
        async with self._pool.connection() as raw:
            yield raw

    @asynccontextmanager
    async def transaction(self, brief: bool = False) -> AsyncIterator[Connection]:
        # `brief` changes nothing here: each statement is a trip to the server either way.
        if self._pool is None:
            raise RuntimeError("database is not open")
        async with self._turn(), self._pool.connection() as raw:
            # One trip for both (the simple protocol takes two statements): a unit of work
            # at the rush is a few statements, and each trip costs this process CPU.
            await raw.execute(f"BEGIN; SELECT pg_advisory_xact_lock({WRITER_LOCK})")
            try:
                yield PostgresConnection(raw)
            except BaseException:
                # A lost connection cannot roll back; the pool drops it, and the server has
                # undone the transaction anyway.
                with contextlib.suppress(psycopg.Error):
                    await raw.execute("ROLLBACK")
                raise
            await raw.execute("COMMIT")

    @asynccontextmanager
    async def reading(self, brief: bool = False) -> AsyncIterator[Connection]:
        # Neither this process's turn nor the writer's advisory lock. REPEATABLE READ: one
        # snapshot for the whole transaction, as the writer's lock gave its reads and as
        # SQLite's readers have (a read-only one is never refused for serialisation). READ
        # ONLY: the server refuses any write.
        if self._pool is None:
            raise RuntimeError("database is not open")
        async with self._pool.connection() as raw:
            await raw.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            try:
                yield PostgresConnection(raw)
            except BaseException:
                with contextlib.suppress(psycopg.Error):
                    await raw.execute("ROLLBACK")
                raise
            await raw.execute("COMMIT")

    @asynccontextmanager
    async def claims(self) -> AsyncIterator[Connection]:
        async with self.connection() as raw, raw.transaction():
            yield PostgresConnection(raw)

    @asynccontextmanager
    async def arrivals(self) -> AsyncIterator[Connection]:
        # Each statement here stands alone (events land in one INSERT, are claimed in one
        # UPDATE): committed as it completes, without a BEGIN and a COMMIT of its own, so a
        # webhook's answer waits for one trip to the server, not three. Should a crash fall
        # between two INSERTs of one landing, the request got no answer and LINE sends it
        # again, as on SQLite (storage/sqlite.py).
        async with self.connection() as raw:
            yield PostgresConnection(raw)

    async def lead(self) -> bool:
        """The planner's lock is a session lock on a connection of its own: held while this
        process lives, released by the server the moment the process dies (its socket
        closes), so the next sweep of another instance takes it over."""
        if self._leader is not None:
            try:
                await self._leader.execute("SELECT 1")
                return True
            except psycopg.Error:
                log.warning("lost the planner's connection; trying to lead again")
                with contextlib.suppress(Exception):
                    await self._leader.close()
                self._leader = None
        conn = await psycopg.AsyncConnection.connect(self.url, autocommit=True)
        try:
            row = await (
                await conn.execute("SELECT pg_try_advisory_lock(%s)", (PLANNER_LOCK,))
            ).fetchone()
        except BaseException:
            await conn.close()
            raise
        if row and row[0]:
            log.info("this instance (%s) plans the sweeps", self.instance)
            self._leader = conn
            return True
        await conn.close()
        return False

    async def _migrate(self) -> None:
        async with self.connection() as raw:
            # Two instances started together: the second waits, then finds nothing to do.
            await raw.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
            try:
                await raw.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations"
                    " (version INTEGER PRIMARY KEY, applied_at TEXT)"
                )
                applied = {row[0] for row in await (await raw.execute(APPLIED)).fetchall()}
                for version, name, sql in migrations(POSTGRESQL):
                    if version in applied:
                        continue
                    log.info("applying migration %s (PostgreSQL)", name)
                    async with raw.transaction():
                        await raw.execute(sql.encode())
                        await raw.execute(
                            "INSERT INTO schema_migrations VALUES (%s, %s)",
                            (version, to_db(datetime.now(UTC))),
                        )
            finally:
                await raw.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))
