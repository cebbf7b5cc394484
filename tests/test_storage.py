"""Storage against a real SQLite file and a real PostgreSQL database: migrations,
transactions, constraints."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from storage.database import (
    POSTGRESQL,
    SQLITE,
    Conflict,
    Database,
    ReadOnly,
    database_for,
    migrations,
)
from storage.models import Role
from storage.repositories import reading, unit_of_work

NOW = datetime(2026, 11, 23, tzinfo=UTC)


async def open_db(path: Path | str) -> Database:
    db = database_for(path)
    await db.open()
    return db


async def test_migrations_apply_once_and_survive_reopening(database: Path | str) -> None:
    db = await open_db(database)
    async with unit_of_work(db) as repos:
        await repos.members.register("U1", "a", "ja", NOW)
    await db.close()
    db = await open_db(database)
    async with unit_of_work(db) as repos:
        member = await repos.members.by_line_id("U1")
    assert member is not None and member.registered_at == NOW
    await db.close()


async def test_a_failed_unit_of_work_leaves_nothing(database: Path | str) -> None:
    db = await open_db(database)
    with pytest.raises(RuntimeError):
        async with unit_of_work(db) as repos:
            await repos.members.register("U1", "a", "ja", NOW)
            raise RuntimeError("crash in the middle")
    async with unit_of_work(db) as repos:
        assert await repos.members.by_line_id("U1") is None
    await db.close()


async def test_a_brief_unit_of_work_commits_and_undoes_as_any_other(
    database: Path | str,
) -> None:
    """A brief transaction (a batch of webhook events; on SQLite its statements run on the
    loop's thread) commits, undoes and refuses exactly as an ordinary one."""
    db = await open_db(database)
    async with unit_of_work(db, brief=True) as repos:
        member, _ = await repos.members.register("U1", "a", "ja", NOW)
        await repos.members.set_last_ok(member.id, NOW)
    with pytest.raises(RuntimeError):
        async with unit_of_work(db, brief=True) as repos:
            await repos.members.register("U2", "b", "ja", NOW)
            raise RuntimeError("crash in the middle")
    with pytest.raises(Conflict):
        async with unit_of_work(db, brief=True) as repos:
            await repos.conn.execute(
                "INSERT INTO members (id, line_user_id, display_name, language, registered_at)"
                " VALUES (?, 'U3', 'c', 'ja', ?)",
                (member.id, NOW.isoformat()),
            )
    # Read back by an ordinary unit of work, on aiosqlite's thread.
    async with unit_of_work(db) as repos:
        found = await repos.members.by_line_id("U1")
        assert found is not None and found.last_ok_at == NOW
        assert await repos.members.by_line_id("U2") is None
        assert await repos.members.by_line_id("U3") is None
    await db.close()


@pytest.mark.parametrize("brief", [False, True])
async def test_a_read_only_unit_of_work_cannot_write(database: Path | str, brief: bool) -> None:
    """The engine itself refuses a write inside `reading()` (SQLite's query_only, PostgreSQL's
    READ ONLY transaction), whichever way the statement comes, and nothing changes."""
    db = await open_db(database)
    async with unit_of_work(db) as repos:
        member, _ = await repos.members.register("U1", "a", "ja", NOW)
    writes = [
        lambda repos: repos.members.register("U2", "b", "ja", NOW),
        lambda repos: repos.members.set_last_ok(member.id, NOW),
        lambda repos: repos.conn.executemany(
            "UPDATE members SET display_name = ? WHERE id = ?", [("c", member.id)]
        ),
        lambda repos: repos.conn.fetch_all("DELETE FROM members RETURNING id"),
    ]
    for write in writes:
        with pytest.raises(ReadOnly):
            async with reading(db, brief) as repos:
                assert await repos.members.by_line_id("U1") is not None
                await write(repos)
    async with reading(db, brief) as repos:
        found = await repos.members.by_line_id("U1")
        assert found is not None and found.display_name == "a" and found.last_ok_at is None
        assert await repos.members.by_line_id("U2") is None
    await db.close()


async def test_a_reader_does_not_wait_for_the_writer(database: Path | str) -> None:
    """While a unit of work holds the writer (this process's turn, SQLite's write lock,
    PostgreSQL's advisory lock), a reader reads at once, what had committed before."""
    db = await open_db(database)
    async with unit_of_work(db) as repos:
        await repos.members.register("U1", "a", "ja", NOW)
    async with unit_of_work(db) as writer:
        await writer.members.register("U2", "b", "ja", NOW)
        assert db.contended()

        async def read() -> tuple[bool, bool]:
            async with reading(db) as repos:
                return (
                    await repos.members.by_line_id("U1") is not None,
                    await repos.members.by_line_id("U2") is not None,
                )

        async with asyncio.timeout(5):
            assert await asyncio.create_task(read()) == (True, False)
    async with reading(db) as repos:
        assert await repos.members.by_line_id("U2") is not None
    await db.close()


def _statements(sql: str) -> list[str]:
    """A migration's SQL without its comments and layout: what the engine runs."""
    code = " ".join(line.split("--", 1)[0] for line in sql.splitlines())
    return code.split()


def test_every_migration_runs_on_both_engines_and_none_is_copied() -> None:
    """PostgreSQL runs SQLite's file unless its own, of the same name, says the change in
    other SQL: every version exists for both engines, under the same name (the number is what
    schema_migrations records), and no PostgreSQL file is a copy of SQLite's."""
    folder = Path(__file__).resolve().parents[1] / "storage" / "migrations"
    on_sqlite = migrations(SQLITE)
    on_postgres = migrations(POSTGRESQL)
    assert [v for v, _, _ in on_sqlite] == [v for v, _, _ in on_postgres]
    assert [n for _, n, _ in on_sqlite] == [n for _, n, _ in on_postgres]
    assert len({v for v, _, _ in on_sqlite}) == len(on_sqlite), "one file per number"
    own = sorted((folder / "postgresql").glob("*.sql"))
    assert own, "PostgreSQL's own files are found"
    for twin in own:
        shared = folder / twin.name
        assert shared.exists(), f"{twin.name} has no SQLite file of the same name"
        assert _statements(twin.read_text("utf-8")) != _statements(shared.read_text("utf-8")), (
            f"postgresql/{twin.name} is a copy of {twin.name}: delete it, the file is shared"
        )


async def test_one_open_round_per_member_and_one_round_per_slot(database: Path | str) -> None:
    db = await open_db(database)
    async with unit_of_work(db) as repos:
        member, _ = await repos.members.register("U1", "a", "ja", NOW)
        assert await repos.rounds.open_unless_open([(member.id, NOW, None)], NOW) == {member.id}
        again = [(member.id, NOW + timedelta(days=1), None)]
        assert await repos.rounds.open_unless_open(again, NOW) == set()
        assert await repos.rounds.open_unless_open([(member.id, NOW, None)], NOW) == set()
        first = await repos.rounds.open_round(member.id)
        assert first is not None and first.slot_at == NOW
    await db.close()


async def test_a_user_membership_needs_consent(database: Path | str) -> None:
    db = await open_db(database)
    async with unit_of_work(db) as repos:
        member, _ = await repos.members.register("U1", "a", "ja", NOW)
        team = await repos.teams.create("t", 1, 9, NOW)
        await repos.teams.add_member(team.id, member.id, Role.USER, NOW)
    with pytest.raises(Conflict):
        async with unit_of_work(db) as repos:
            await repos.conn.execute(
                "INSERT INTO team_members (team_id, member_id, role, joined_at)"
                " VALUES (?, ?, 'user', ?)",
                (team.id, member.id + 1, NOW.isoformat()),
            )
    await db.close()


def _database_at_migration_3(path: Path) -> None:
    """A database as the release before 0004 left it: an unsent check-in in its outbox."""
    import sqlite3

    migrations = sorted(
        (Path(__file__).resolve().parents[1] / "storage" / "migrations").glob("*.sql")
    )
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT)")
    for number, migration in enumerate(migrations[:3], start=1):
        conn.executescript(f"BEGIN;{migration.read_text('utf-8')}COMMIT;")
        conn.execute("INSERT INTO schema_migrations VALUES (?, 'then')", (number,))
    conn.execute(
        "INSERT INTO members (line_user_id, registered_at) VALUES ('U1', ?)", (NOW.isoformat(),)
    )
    conn.execute(
        "INSERT INTO outbox (kind, recipients, messages, retry_key, purpose,"
        " next_attempt_at, created_at) VALUES ('push', '[\"U1\"]', '[]', 'key-1',"
        " 'checkin', ?, ?)",
        (NOW.isoformat(), NOW.isoformat()),
    )
    conn.execute(
        "INSERT INTO checkin_rounds (member_id, slot_at, state, opened_at,"
        " checkin_outbox_id) VALUES (1, ?, 'open', ?, 1)",
        (NOW.isoformat(), NOW.isoformat()),
    )
    conn.close()


async def test_an_older_database_with_rows_upgrades_without_losing_them(tmp_path: Path) -> None:
    """Migration 0004 rebuilds the outbox; rounds that point at outbox rows keep pointing."""
    path = tmp_path / "old.db"
    _database_at_migration_3(path)

    db = await open_db(path)
    async with db.transaction() as conn:
        rows = await conn.fetch_all("SELECT retry_key, notice_id FROM outbox")
        assert [tuple(row) for row in rows] == [("key-1", None)]
        assert await conn.fetch_all("PRAGMA foreign_key_check") == []
        assert (await conn.fetch_one("PRAGMA foreign_keys"))[0] == 1
    async with unit_of_work(db) as repos:
        due = await repos.outbox.claim_due(NOW, 10, "this instance", timedelta(minutes=2))
    assert [row.retry_key for row in due] == ["key-1"], "the unsent message is still sent"
    await db.close()


async def test_the_sweeps_sql_reads_every_round_a_step_of_time_waits_for(
    database: Path | str,
) -> None:
    """care.rounds.ladder's waits are read by the sweep in SQL and checked by `read_round`, the one
    place a round's columns become a stage: for every combination of an open round's
    columns, the SQL never misses a round the step waits for (nothing of time is lost)."""
    from itertools import product

    from care.rounds.ladder import WAITS
    from storage.database import to_db

    db = await open_db(database)
    columns = ("urgent", "taken_by", "taker_asked_at", "escalated_at", "realerted_at")
    combos = [("open", {}), ("resent", {}), ("resent", {"called_at": True})]
    combos += [
        ("alerted", dict(zip(columns + ("next_turn_at",), values, strict=True)))
        for values in product((False, True), repeat=len(columns) + 1)
    ]
    async with unit_of_work(db) as repos:
        manager, _ = await repos.members.register("Umanager", "m", "ja", NOW)
        for number, (state, facets) in enumerate(combos):
            member, _ = await repos.members.register(f"U{number}", "a", "ja", NOW)
            at = to_db(NOW)
            values = {
                "state": state,
                "sent_at": at,
                "resent_at": at,
                "alerted_at": at,
                "turn_at": at,
                "taken_at": at,
                "reminded_at": at,
                "call_until": at,
                "urgent": 1 if facets.get("urgent") else 0,
                "taken_by": manager.id if facets.get("taken_by") else None,
                **{
                    name: at if facets.get(name) else None
                    for name in (
                        "taker_asked_at",
                        "escalated_at",
                        "realerted_at",
                        "next_turn_at",
                        "called_at",
                    )
                },
            }
            names = ", ".join(values)
            marks = ", ".join("?" * len(values))
            await repos.conn.execute(
                f"INSERT INTO checkin_rounds (member_id, slot_at, opened_at, {names})"
                f" VALUES (?, ?, ?, {marks})",
                (member.id, at, at, *values.values()),
            )
        every = await repos.rounds._many("SELECT * FROM checkin_rounds", ())
        later = NOW + timedelta(days=1)
        for step, wait in WAITS.items():
            if wait.table != "checkin_rounds":
                continue
            read = await repos.rounds.waiting(
                wait.state, wait.since, later, 1000, wait.untaken, wait.called
            )
            waiting = {r.id for r in every if wait.holds_for(r)}
            assert waiting, f"{step}: no combination waits for it"
            assert waiting <= {r.id for r in read}, (step, waiting - {r.id for r in read})
    await db.close()
