"""What PostgreSQL's driver costs an OK tap: the rush's four statements an event, as mimamori
runs them (one after another, each awaited), beside the same statements in psycopg's pipeline
mode (sent without waiting for each answer, one sync a batch), and beside asyncpg's
one-after-another where it is installed (it is not a dependency of mimamori).

The four statements of an OK, read from the server's log of a seeded rush
(bench/taps.py --seeded): the open round by its resident, her last OK, the round closed (by its
key), the reply kept with its event. Events come in batches as the webhook's dispatcher applies
them, a transaction a batch. CPU is this process's (the driver's, in the server's place) and the
PostgreSQL backend's (same machine, read from /proc), per event; asserts nothing.

    .venv/bin/python -m bench.driver --database postgres --events 20000
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.cpu import cpu_seconds, per_unit_us
from bench.standins import add_database_option, bench_ground
from storage.database import database_for, guarded, to_db

BATCH = 64  # events a transaction, about what the dispatcher applies at once at the rush
AT = datetime(2026, 11, 24, 22, 0, tzinfo=UTC)

FIND = (
    "SELECT * FROM checkin_rounds WHERE member_id = %s AND state IN ('open', 'resent', 'alerted')"
)
LAST_OK = "UPDATE members SET last_ok_at = %s WHERE id = %s"
CLOSE = (
    "UPDATE checkin_rounds SET state = %s, close_reason = %s, closed_at = %s,"
    f" answer = COALESCE(%s, answer) WHERE id = %s AND {guarded('state')}"
    " IN ('open', 'resent', 'alerted')"
)
REPLY = "UPDATE webhook_events SET reply = %s WHERE event_id = %s"


@dataclass(frozen=True)
class Measured:
    client_us: float
    server_us: float
    wall_us: float


async def main(database: str | None, events: int, runs: int) -> None:
    async with bench_ground("driver", database or "postgres") as ground:
        url = ground.database
        assert url is not None
        db = database_for(url)
        await db.open()  # the schema, by the migrations
        await db.close()
        await _seed(url, events)
        ways: dict[str, Callable[[str, int], Awaitable[Measured]]] = {
            "psycopg, each statement awaited (mimamori)": _psycopg_awaited,
            "psycopg, pipeline mode": _psycopg_pipelined,
        }
        try:
            import asyncpg  # noqa: F401

            ways["asyncpg, each statement awaited"] = _asyncpg_awaited
        except ImportError:
            print("asyncpg: not installed (pip install asyncpg to compare it)")
        print(f"{events} OK taps, 4 statements each, {BATCH} to a transaction, {runs} run(s)")
        for name, way in ways.items():
            for run in range(1, runs + 1):
                await _reopen(url)
                measured = await way(url, events)
                print(
                    f"{name:<44} run {run}: driver {measured.client_us:6.1f} µs an event,"
                    f" PostgreSQL's backend {measured.server_us:6.1f} µs,"
                    f" wall {measured.wall_us:6.1f} µs"
                )


async def _seed(url: str, events: int) -> None:
    import psycopg

    stamp = to_db(AT)
    async with await psycopg.AsyncConnection.connect(url) as conn:
        await conn.execute(
            "INSERT INTO members (line_user_id, display_name, language, registered_at,"
            " interval_days, checkin_hour) SELECT 'U' || lpad(to_hex(n), 32, '0'),"
            " 'a resident', 'ja', %s, 1, 7 FROM generate_series(1, %s) AS n",
            (stamp, events),
        )
        await conn.execute(
            "INSERT INTO webhook_events (event_id, payload, received_at, processed_at)"
            " SELECT 'event-' || id, '{}', %s, %s FROM members",
            (stamp, stamp),
        )
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await conn.execute("VACUUM (ANALYZE)")


async def _reopen(url: str) -> None:
    """Every resident's round of the morning open again, as the wave left them."""
    import psycopg

    stamp = to_db(AT)
    async with await psycopg.AsyncConnection.connect(url) as conn:
        await conn.execute("DELETE FROM checkin_rounds")
        await conn.execute(
            "INSERT INTO checkin_rounds (member_id, slot_at, state, opened_at, sent_at)"
            " SELECT id, %s, 'open', %s, %s FROM members",
            (stamp, stamp, stamp),
        )
        await conn.execute("UPDATE webhook_events SET reply = NULL")
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await conn.execute("VACUUM (ANALYZE) checkin_rounds, webhook_events, members")


def _batches(events: int) -> list[range]:
    return [range(first, min(first + BATCH, events + 1)) for first in range(1, events + 1, BATCH)]


def _closing(member: int) -> tuple[tuple[Any, ...], tuple[Any, ...], tuple[Any, ...]]:
    answered = to_db(AT + timedelta(minutes=member % 60))
    return (
        (answered, member),
        ("answered", "ok", answered, "ok"),
        ('{"replyToken": "t", "messages": []}', f"event-{member}"),
    )


async def _timed(backend: int, work: Callable[[], Awaitable[None]], events: int) -> Measured:
    client, server, wall = time.process_time(), cpu_seconds(backend), time.perf_counter()
    await work()
    return Measured(
        per_unit_us(time.process_time() - client, events),
        per_unit_us(cpu_seconds(backend) - server, events),
        per_unit_us(time.perf_counter() - wall, events),
    )


async def _psycopg_awaited(url: str, events: int) -> Measured:
    import psycopg

    async with await psycopg.AsyncConnection.connect(url) as conn:
        backend = conn.info.backend_pid

        async def work() -> None:
            for batch in _batches(events):
                async with conn.transaction():
                    for member in batch:
                        cursor = await conn.execute(FIND, (member,))
                        (round_id, *_) = await cursor.fetchone()  # type: ignore[misc]
                        last_ok, close, reply = _closing(member)
                        await conn.execute(LAST_OK, last_ok)
                        await conn.execute(CLOSE, (*close, round_id))
                        await conn.execute(REPLY, reply)

        return await _timed(backend, work, events)


async def _psycopg_pipelined(url: str, events: int) -> Measured:
    """The same statements; the rounds of a batch read in one pipeline (their answers are
    needed before the writes), then its writes in another."""
    import psycopg

    async with await psycopg.AsyncConnection.connect(url) as conn:
        backend = conn.info.backend_pid

        async def work() -> None:
            for batch in _batches(events):
                async with conn.transaction():
                    async with conn.pipeline():
                        cursors = [await conn.execute(FIND, (member,)) for member in batch]
                    rounds = [(await cursor.fetchone())[0] for cursor in cursors]  # type: ignore[index]
                    async with conn.pipeline():
                        for member, round_id in zip(batch, rounds, strict=True):
                            last_ok, close, reply = _closing(member)
                            await conn.execute(LAST_OK, last_ok)
                            await conn.execute(CLOSE, (*close, round_id))
                            await conn.execute(REPLY, reply)

        return await _timed(backend, work, events)


def _numbered(sql: str) -> str:
    """%s placeholders as asyncpg's $1, $2..."""
    parts = sql.split("%s")
    return "".join(f"{part}${n}" if n < len(parts) else part for n, part in enumerate(parts, 1))


async def _asyncpg_awaited(url: str, events: int) -> Measured:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        backend = await conn.fetchval("SELECT pg_backend_pid()")
        find, last_ok_sql, close_sql, reply_sql = (
            _numbered(sql) for sql in (FIND, LAST_OK, CLOSE, REPLY)
        )

        async def work() -> None:
            for batch in _batches(events):
                async with conn.transaction():
                    for member in batch:
                        row = await conn.fetchrow(find, member)
                        last_ok, close, reply = _closing(member)
                        await conn.execute(last_ok_sql, *last_ok)
                        await conn.execute(close_sql, *close, row[0])
                        await conn.execute(reply_sql, *reply)

        return await _timed(backend, work, events)
    finally:
        await conn.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    add_database_option(parser)
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.database, args.events, args.runs))
