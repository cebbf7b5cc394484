"""Storage against a real SQLite file: migrations, transactions, constraints."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from storage.database import Database
from storage.models import Role
from storage.repositories import unit_of_work

NOW = datetime(2026, 11, 23, tzinfo=UTC)


async def open_db(path: Path) -> Database:
    db = Database(path)
    await db.open()
    return db


async def test_migrations_apply_once_and_survive_reopening(tmp_path: Path) -> None:
    db = await open_db(tmp_path / "m.db")
    async with unit_of_work(db) as repos:
        await repos.members.register("U1", "a", "ja", NOW)
    await db.close()
    db = await open_db(tmp_path / "m.db")
    async with unit_of_work(db) as repos:
        member = await repos.members.by_line_id("U1")
    assert member is not None and member.registered_at == NOW
    await db.close()


async def test_a_failed_unit_of_work_leaves_nothing(tmp_path: Path) -> None:
    db = await open_db(tmp_path / "m.db")
    with pytest.raises(RuntimeError):
        async with unit_of_work(db) as repos:
            await repos.members.register("U1", "a", "ja", NOW)
            raise RuntimeError("crash in the middle")
    async with unit_of_work(db) as repos:
        assert await repos.members.by_line_id("U1") is None
    await db.close()


async def test_one_open_round_per_member_and_one_round_per_slot(tmp_path: Path) -> None:
    db = await open_db(tmp_path / "m.db")
    async with unit_of_work(db) as repos:
        member, _ = await repos.members.register("U1", "a", "ja", NOW)
        await repos.rounds.open_unless_open([(member.id, NOW)], NOW)
        await repos.rounds.open_unless_open([(member.id, NOW + timedelta(days=1))], NOW)
        first = await repos.rounds.open_round(member.id)
        assert first is not None and first.slot_at == NOW
    await db.close()


async def test_a_user_membership_needs_consent(tmp_path: Path) -> None:
    db = await open_db(tmp_path / "m.db")
    async with unit_of_work(db) as repos:
        member, _ = await repos.members.register("U1", "a", "ja", NOW)
        team = await repos.teams.create("t", 1, 9, NOW)
        await repos.teams.add_member(team.id, member.id, Role.USER, NOW)
    import sqlite3

    with pytest.raises(sqlite3.IntegrityError):
        async with (
            unit_of_work(db) as repos,
            repos.members._conn.execute(
                "INSERT INTO team_members (team_id, member_id, role, joined_at)"
                " VALUES (?, ?, 'user', ?)",
                (team.id, member.id + 1, NOW.isoformat()),
            ),
        ):
            pass
    await db.close()
