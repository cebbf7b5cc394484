"""A statement that names its row by its key reads that row, not a partial index's every entry.

PostgreSQL plans with the statistics of the last VACUUM. The partial index of the open rounds
(or of the pending messages, or of the alerts) is near empty then, at night, and has grown by
morning: after a wave of 333,000 its every entry was read, 130 ms, for each OK's round
(bench/taps.py --seeded). Here the same trap is set on a small table (the index had entries,
lost them, was vacuumed, and filled again), and the repositories' statements that close,
take, confirm or send one row are watched through the transaction's own statistics: how many
rows its index scans fetched."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from storage.database import Connection, Database, database_for, is_postgres, to_db
from storage.models import RoundState
from storage.outbox import OutboxRepository
from storage.rounds import RoundRepository

FULL = 3000  # entries in each partial index by the time a row is named
AT = datetime(2026, 11, 24, 22, 0, tzinfo=UTC)


@pytest.fixture
async def trapped(database: Path | str) -> AsyncIterator[Database]:
    if not is_postgres(database):
        pytest.skip("SQLite finds a row by its rowid whatever else the statement says")
    db = database_for(database)
    await db.open()
    try:
        await _set_trap(db, str(database))
        yield db
    finally:
        await db.close()


async def _set_trap(db: Database, url: str) -> None:
    import psycopg

    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as admin:
        for table in ("checkin_rounds", "outbox"):
            # Autovacuum's ANALYZE would mend the statistics mid-test (and hide the trap).
            await admin.execute(f"ALTER TABLE {table} SET (autovacuum_enabled = false)".encode())
    async with db.transaction() as conn:
        await conn.executemany(
            "INSERT INTO members (line_user_id, display_name, language, registered_at)"
            " VALUES (?, 'a resident', 'ja', ?)",
            [(f"U{number:032x}", to_db(AT)) for number in range(2 * FULL)],
        )
        await _fill(conn, AT - timedelta(days=1))
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE checkin_rounds SET state = 'answered', closed_at = ?", (to_db(AT),)
        )
        await conn.execute("UPDATE outbox SET state = 'sent', sent_at = ?", (to_db(AT),))
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as admin:
        await admin.execute(b"VACUUM (ANALYZE) checkin_rounds, outbox")
    async with db.transaction() as conn:
        await _fill(conn, AT)


async def _fill(conn: Connection, slot: datetime) -> None:
    """FULL open rounds, FULL alerted ones, FULL pending messages."""
    stamp = to_db(slot)
    await conn.execute(
        "INSERT INTO checkin_rounds (member_id, slot_at, state, opened_at, sent_at, alerted_at,"
        " turn_at, reminded_at) SELECT id, ?, CASE WHEN id <= ? THEN 'open' ELSE 'alerted' END,"
        " ?, ?, CASE WHEN id > ? THEN ? END, CASE WHEN id > ? THEN ? END,"
        " CASE WHEN id > ? THEN ? END FROM members",
        (stamp, FULL, stamp, stamp, FULL, stamp, FULL, stamp, FULL, stamp),
    )
    await conn.executemany(
        "INSERT INTO outbox (kind, recipients, messages, retry_key, purpose, state, attempts,"
        " next_attempt_at, created_at) VALUES ('push', '[]', '[]', ?, 'checkin', 'pending',"
        " 0, ?, ?)",
        [(f"{slot:%Y%m%d}-{number}", stamp, stamp) for number in range(FULL)],
    )


async def _fetched(conn: Connection, table: str) -> int:
    """Rows this transaction's index scans fetched from `table`, so far."""
    row = await conn.fetch_one(
        "SELECT idx_tup_fetch FROM pg_stat_xact_user_tables WHERE relname = ?", (table,)
    )
    assert row is not None
    return int(row[0])


async def _newest(conn: Connection, state: str) -> int:
    row = await conn.fetch_one("SELECT MAX(id) FROM checkin_rounds WHERE state = ?", (state,))
    assert row is not None
    return int(row[0])


async def test_the_trap_is_set(trapped: Database) -> None:
    """Without the guard, PostgreSQL reads the open rounds' index for one round: what the
    test below would catch if a statement went back to naming the column itself."""
    async with trapped.transaction() as conn:
        round_id = await _newest(conn, "open")
        plan = "\n".join(
            row[0]
            for row in await conn.fetch_all(
                "EXPLAIN UPDATE checkin_rounds SET state = 'answered' WHERE id = ?"
                " AND state IN ('open', 'resent', 'alerted')",
                (round_id,),
            )
        )
    assert "checkin_rounds_pkey" not in plan, plan


async def test_a_round_closed_taken_or_confirmed_is_read_by_its_key(
    trapped: Database,
) -> None:
    async with trapped.transaction() as conn:
        rounds = RoundRepository(conn)
        opened, alerted = await _newest(conn, "open"), await _newest(conn, "alerted")
        before = await _fetched(conn, "checkin_rounds")
        await rounds.close(opened, RoundState.ANSWERED, "ok", AT, "ok")
        assert await rounds.take_alert(alerted, 1, AT)
        await rounds.untake(alerted, AT)
        await rounds.confirm(alerted, 1, AT)
        fetched = await _fetched(conn, "checkin_rounds") - before
        states = dict(
            await conn.fetch_all(
                "SELECT id, state FROM checkin_rounds WHERE id IN (?, ?)", (opened, alerted)
            )
        )
    assert states == {opened: "answered", alerted: "answered"}
    assert fetched <= 8, f"{fetched} rounds read to change two"


async def test_a_message_sent_is_read_by_its_key(trapped: Database) -> None:
    async with trapped.transaction() as conn:
        outbox = OutboxRepository(conn, b"call-key")
        (newest,) = await conn.fetch_one("SELECT MAX(id) FROM outbox WHERE state = 'pending'")
        before = await _fetched(conn, "outbox")
        await outbox.mark_retry(newest, AT + timedelta(minutes=1), "a refusal")
        await outbox.mark_sent(newest, AT)
        fetched = await _fetched(conn, "outbox") - before
        (state,) = await conn.fetch_one("SELECT state FROM outbox WHERE id = ?", (newest,))
    assert state == "sent"
    assert fetched <= 4, f"{fetched} messages read to send one"
