"""`mimamori migrate-to-postgres SQLITE_FILE URL`: a deployment's data from SQLite to
PostgreSQL, whole or not at all, checked by counts.

The SQLite file is first copied with SQLite's online backup (storage/backup.py), so a running
server may go on writing: the copy is one consistent moment. What the server writes after that
moment is not in it, so for the switch itself the server is stopped first (README). The copy is
brought to this code's schema, the PostgreSQL database gets the same schema (its migration
twins), and every table is copied in one transaction with COPY, then counted on both sides.
"""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storage.backup import take_backup
from storage.sqlite import SqliteDatabase

# Parents before children. checkin_rounds and outbox point at each other: the rounds' outbox
# references are filled in once the outbox is there (OUTBOX_LINKS).
# Counts kept by triggers (migration 0060): copied last, over what the copied rows counted.
TALLIES = (
    "round_tally",
    "round_events_tally",
    "round_ok_minutes",
    "line_messages_tally",
    "member_tally",
)
# The index of the members' names and numbers (migration 0063: SQLite's FTS5 table and its
# shadow tables): not copied; PostgreSQL's own people_search fills from its trigger as the
# members are copied in.
SQLITE_INDEXES = ("people_search",)
TABLES = (
    "members",
    "teams",
    "team_members",
    "invite_codes",
    "personal_shares",
    "unwatched",
    "notices",
    "checkin_rounds",
    "outbox",
    "webhook_events",
    "forwards",
    "chat_groups",
    "group_members",
    "group_rounds",
    "group_answers",
    "admins",
    "admin_sessions",
    "admin_recovery_codes",
    "admin_signins",
    "audit_log",
    "roll_calls",
    "roll_call_people",
    "roll_call_groups",
    "desk_cases",
    "desk_steps",
    "person_notes",
    "partners",
    "partner_teams",
    "visits",
    "jma_reports",
    "storm_reports",
    "heat_documents",
    "heat_days",
    "heat_wbgt",
    "heat_watch",
    "heat_check_people",
    "rich_menus",
    "login_failures",
    "devices",
    "call_events",
    "call_verifications",
    "call_attempts",
    "service_alarms",
    "staff_requests",
    "monthly_figures",
    "retention_state",
    "roster_people",
    "roster_imports",
    *TALLIES,
)
OUTBOX_LINKS = ("checkin_outbox_id", "resend_outbox_id")
# Only PostgreSQL has it: SQLite's implicit rowid (the order events came in) made explicit.
POSTGRES_ONLY = {"webhook_events": {"rowid"}}


class TransferError(Exception):
    """Why the data was not copied, in one sentence. Nothing was written to PostgreSQL."""


@dataclass(frozen=True)
class Transferred:
    counts: dict[str, int]  # rows per table, the same on both sides


def migrate_to_postgres(
    sqlite_file: Path, url: str, say: Callable[[str], None] = print
) -> Transferred:
    """The command's whole work (it runs its own event loop: call it outside one)."""
    if not sqlite_file.is_file():
        raise TransferError(f"no SQLite database at {sqlite_file}")
    with tempfile.TemporaryDirectory(prefix="mimamori-transfer-") as folder:
        snapshot = Path(folder) / "snapshot.db"
        facts = take_backup(sqlite_file, snapshot)
        say(f"snapshot of {sqlite_file} taken: schema {facts.schema_version}")
        source = sqlite3.connect(f"file:{snapshot}?mode=ro", uri=True)
        try:
            counts = asyncio.run(_transfer(snapshot, source, url, say))
        finally:
            source.close()
    return Transferred(counts)


async def _transfer(
    snapshot: Path, source: sqlite3.Connection, url: str, say: Callable[[str], None]
) -> dict[str, int]:
    from storage.postgres import PostgresDatabase

    # The snapshot, not the live file, is brought to this code's schema.
    upgraded = SqliteDatabase(snapshot)
    await upgraded.open()
    await upgraded.close()
    target = PostgresDatabase(url)
    await target.open()  # creates the schema (migration twins) if it is new
    try:
        async with target.connection() as raw:
            return await _copy(source, raw, say)
    finally:
        await target.close()


async def _copy(
    source: sqlite3.Connection, raw: Any, say: Callable[[str], None]
) -> dict[str, int]:
    present = {
        row[0]
        for row in source.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'"
            " AND name NOT LIKE 'sqlite_%' AND name != 'schema_migrations'"
        )
    }
    unknown = present - set(TABLES) - {t for t in present if t.startswith(SQLITE_INDEXES)}
    if unknown:
        raise TransferError(f"tables this code does not know how to copy: {sorted(unknown)}")
    counts: dict[str, int] = {}
    async with raw.transaction():
        # The tallies count what the other tables hold (a fresh member_tally holds its zeros).
        for table in (table for table in TABLES if table not in TALLIES):
            filled = await (await raw.execute(f"SELECT EXISTS (SELECT 1 FROM {table})")).fetchone()
            if filled[0]:
                raise TransferError(
                    f"PostgreSQL's {table} has rows already; migrate into an empty database"
                )
        columns_of = {table: _columns(source, table) for table in TABLES}
        for table in TABLES:
            columns = columns_of[table]
            wanted = await _postgres_columns(raw, table)
            if set(columns) != wanted - POSTGRES_ONLY.get(table, set()):
                raise TransferError(f"{table}: the two schemas differ; both must be current")
            copied = [c for c in columns if not (table == "checkin_rounds" and c in OUTBOX_LINKS)]
            if table in TALLIES:
                # The rounds and the outbox copied above counted themselves in again (the
                # triggers of migration 0060); SQLite's counts also hold the purged rounds'.
                await raw.execute(f"DELETE FROM {table}")
            order = " ORDER BY rowid" if table == "webhook_events" else ""
            rows = source.execute(f"SELECT {', '.join(copied)} FROM {table}{order}")
            statement = f"COPY {table} ({', '.join(copied)}) FROM STDIN"
            async with raw.cursor() as cursor, cursor.copy(statement) as copy:
                for row in rows:
                    await copy.write_row(row)
            if table == "outbox":
                await _link_rounds_to_outbox(source, raw)
            counts[table] = _count(source, table)
            say(f"  {table}: {counts[table]} rows")
        for table in TABLES:
            if "id" in columns_of[table]:
                # New rows go on from the highest id copied, as they would have on SQLite.
                await raw.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                    f" COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM {table}"
                )
        for table in TABLES:
            found = await (await raw.execute(f"SELECT COUNT(*) FROM {table}")).fetchone()
            if found[0] != counts[table]:
                raise TransferError(
                    f"{table}: {counts[table]} rows in SQLite, {found[0]} in PostgreSQL"
                )
    return counts


async def _link_rounds_to_outbox(source: sqlite3.Connection, raw: Any) -> None:
    links = source.execute(
        "SELECT id, checkin_outbox_id, resend_outbox_id FROM checkin_rounds"
        " WHERE checkin_outbox_id IS NOT NULL OR resend_outbox_id IS NOT NULL"
    ).fetchall()
    async with raw.cursor() as cursor:
        await cursor.executemany(
            "UPDATE checkin_rounds SET checkin_outbox_id = %s, resend_outbox_id = %s"
            " WHERE id = %s",
            [(checkin, resend, round_id) for round_id, checkin, resend in links],
        )


def _columns(source: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in source.execute(f"PRAGMA table_info({table})")]


async def _postgres_columns(raw: Any, table: str) -> set[str]:
    cursor = await raw.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s", (table,)
    )
    return {row[0] for row in await cursor.fetchall()}


def _count(source: sqlite3.Connection, table: str) -> int:
    return int(source.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
