"""`mimamori migrate-to-postgres`: a deployment that ran on SQLite goes on on PostgreSQL with
all its rows, checked by counts; a copy that cannot be whole leaves nothing behind."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path

import psycopg
import pytest

from storage.transfer import TABLES, TransferError, migrate_to_postgres
from tests.conftest import Bot
from tests.drivers import CHECKIN, checkins_to, run_to, tokyo, watched_resident
from tests.postgres import PostgresServer


def sqlite_counts(path: Path) -> dict[str, int]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        return {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in TABLES}


def postgres_counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        return {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in TABLES}


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_a_live_sqlite_deployment_moves_to_postgres_and_goes_on(
    bot: Bot,
    start_bot: Callable[..., Awaitable[Bot]],
    postgres_server: PostgresServer,
) -> None:
    resident, _ = await watched_resident(bot, "resident", ["son"])
    await run_to(bot, tokyo(11, 25, 12, 1))  # rounds, messages, events
    source = Path(bot.settings.database)
    before = sqlite_counts(source)
    assert before["checkin_rounds"] and before["outbox"] and before["webhook_events"]

    url = postgres_server.fresh_database("moved")
    lines: list[str] = []
    # The server is still running: the snapshot is one consistent moment of it.
    moved = await asyncio.to_thread(migrate_to_postgres, source, url, lines.append)
    assert moved.counts == before == postgres_counts(url)

    # The same deployment on PostgreSQL: the ladder goes on where it was.
    moved_bot = await start_bot(database=url)
    async with moved_bot.repos() as repos:
        member = await repos.members.by_line_id(resident)
        assert member is not None and member.display_name == "resident"
    bot.line.clear()
    await run_to(moved_bot, tokyo(11, 27, 9, 1))
    assert any(CHECKIN in text for text in checkins_to(moved_bot, resident)), "the check-ins go on"
    async with moved_bot.repos() as repos:
        team_rows = await repos.conn.fetch_all("SELECT id FROM teams")
        created = await repos.teams.create("new", 1, 9, moved_bot.clock.now())
    assert created.id > max(row[0] for row in team_rows if row[0] != created.id), (
        "new ids go on after the copied ones"
    )


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_a_database_with_rows_already_is_refused_and_left_alone(
    bot: Bot, postgres_server: PostgresServer
) -> None:
    await watched_resident(bot, "resident", ["son"])
    source = Path(bot.settings.database)
    url = postgres_server.fresh_database("taken")
    await asyncio.to_thread(migrate_to_postgres, source, url, lambda _: None)
    first = postgres_counts(url)
    with pytest.raises(TransferError, match="has rows already"):
        await asyncio.to_thread(migrate_to_postgres, source, url, lambda _: None)
    assert postgres_counts(url) == first
