"""The seeded history of bench/seed.py (issue 42), small, on both engines: it is written once
and reused, its rows keep the rules the code's own rows keep, the console's main pages and My
page answer on it, and bench/pages.py times every page on it, so that the seeding and the paths
the benchmarks measure cannot rot."""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import pytest

from storage.database import database_for, is_postgres, to_db
from storage.transfer import TALLIES
from tests.conftest import START, Bot
from tests.drivers import Page, staff_signed_in

RESIDENTS, DAYS = 300, 20
ROOT = Path(__file__).resolve().parent.parent
MULTICAST = 500  # recipients a LINE multicast takes
# What bench.pages must time, at least: the pages issue 42 names (a line each, by route).
TIMED = {
    "operator": [
        "GET /admin/", "GET /admin/alerts", "GET /admin/people", "GET /admin/people/{member_id}",
        "GET /admin/desk", "GET /admin/teams", "GET /admin/audit", "GET /admin/partners",
        "GET /admin/report", "GET /admin/report.csv?month=last", "GET /admin/export/usage.csv",
        "POST /admin/export/members.csv", "POST /admin/export/teams.csv",
        "POST /admin/export/cases.csv", "POST /admin/export/case_steps.csv",
    ],
    "desk": ["GET /admin/alerts", "GET /admin/desk", "GET /admin/people"],
    "monitoring": ["GET /metrics"],
    "resident": ["GET /liff/api/me", "GET /liff/api/teams"],
    "manager": ["GET /liff/api/teams", "GET /liff/api/members/{member_id}/history"],
}  # fmt: skip
# A page's line in a run: who, the route, how many requests, p50, p95, the ratio to the bare
# app, the answer's size.
TIMED_LINE = re.compile(
    r"^  (\w+) +((?:GET|POST) \S.*?) +\d+  p50 +[\d.]+ ms  p95 +[\d.]+ ms"
    r" +[\d,]+ × bare +[\d,.]+ kB$"
)

# Each a query that finds what breaks a rule; none may find anything.
BROKEN = {
    "a round still open when the clock starts": (
        "SELECT id FROM checkin_rounds WHERE state IN ('open', 'resent', 'alerted')"
        " OR closed_at IS NULL"
    ),
    "a round's moments out of order": (
        "SELECT id FROM checkin_rounds WHERE sent_at < opened_at OR closed_at <= sent_at"
        " OR resent_at <= sent_at OR alerted_at <= resent_at OR closed_at <= alerted_at"
        " OR (alerted_at IS NOT NULL AND resent_at IS NULL) OR slot_at <> opened_at"
        " OR closed_at >= ?"
    ),
    "an answered round without its answer": (
        "SELECT id FROM checkin_rounds WHERE state = 'answered' AND close_reason = 'ok'"
        " AND answer IS DISTINCT FROM 'ok'"
    ),
    "an alerted round without its alert to her managers": (
        "SELECT r.id FROM checkin_rounds r WHERE r.alerted_at IS NOT NULL AND (SELECT"
        " COUNT(*) FROM outbox o WHERE o.round_id = r.id AND o.purpose = 'alert') <> (SELECT"
        " COUNT(*) FROM team_members t JOIN team_members u ON u.team_id = t.team_id"
        " WHERE u.member_id = r.member_id AND u.role = 'user' AND t.role = 'manager')"
    ),
    "an alert sent before the round was alerted": (
        "SELECT o.id FROM outbox o JOIN checkin_rounds r ON r.id = o.round_id"
        " WHERE o.purpose = 'alert' AND (o.created_at < r.alerted_at OR o.sent_at IS NULL)"
    ),
    "a check-in not in the outbox, or to someone else": (
        "SELECT r.id FROM checkin_rounds r JOIN members m ON m.id = r.member_id"
        " LEFT JOIN outbox o ON o.id = r.checkin_outbox_id AND o.purpose = 'checkin'"
        " WHERE o.id IS NULL OR o.recipients NOT LIKE '%\"' || CASE WHEN m.channel = 'voice'"
        " THEN m.channel_address ELSE m.line_user_id END || '\"%' OR o.created_at <> r.slot_at"
        " OR o.channel <> m.channel"
    ),
    "a re-send missing, or one where none was": (
        "SELECT r.id FROM checkin_rounds r LEFT JOIN outbox o ON o.id = r.resend_outbox_id"
        " AND o.purpose = 'resend' WHERE (r.resent_at IS NULL) <> (o.id IS NULL)"
    ),
    "a multicast of more than LINE takes": (
        f"SELECT id FROM outbox WHERE LENGTH(recipients) > {MULTICAST} * 40"
    ),
    "two rounds of one person open at once": (
        "SELECT a.id FROM checkin_rounds a JOIN checkin_rounds b ON b.member_id = a.member_id"
        " AND b.slot_at > a.slot_at AND b.slot_at < a.closed_at"
    ),
    "a confirmed round not taken by one of her managers": (
        "SELECT r.id FROM checkin_rounds r WHERE r.close_reason = 'confirmed' AND NOT EXISTS"
        " (SELECT 1 FROM team_members t JOIN team_members u ON u.team_id = t.team_id"
        " WHERE u.member_id = r.member_id AND u.role = 'user' AND t.role = 'manager'"
        " AND t.member_id = r.taken_by) OR (r.close_reason = 'confirmed'"
        " AND (r.confirmed_by IS DISTINCT FROM r.taken_by OR r.taken_at <= r.alerted_at))"
    ),
    "a round the desk closed without its case": (
        "SELECT r.id FROM checkin_rounds r LEFT JOIN desk_cases c ON c.round_id = r.id"
        " WHERE (r.close_reason = 'desk_confirmed') <> (c.id IS NOT NULL)"
        " OR (c.id IS NOT NULL AND (c.opened_at < r.alerted_at OR c.closed_at IS NULL"
        " OR c.closed_at < c.opened_at))"
    ),
    "a case whose steps do not open it, nor close it": (
        "SELECT c.id FROM desk_cases c WHERE (SELECT kind FROM desk_steps s"
        " WHERE s.case_id = c.id ORDER BY s.id LIMIT 1) IS DISTINCT FROM 'opened'"
        " OR (SELECT kind FROM desk_steps s WHERE s.case_id = c.id ORDER BY s.id DESC"
        " LIMIT 1) IS DISTINCT FROM 'closed'"
        " OR NOT EXISTS (SELECT 1 FROM audit_log a WHERE a.action = 'desk_closed'"
        " AND a.detail = 'case ' || c.id || ': ' || c.outcome)"
    ),
    "a last OK that is not her last answered OK": (
        "SELECT m.id FROM members m WHERE m.interval_days IS NOT NULL AND m.last_ok_at"
        " IS DISTINCT FROM (SELECT MAX(closed_at) FROM checkin_rounds r"
        " WHERE r.member_id = m.id AND r.answer = 'ok')"
    ),
    "a next check-in not after her last": (
        "SELECT m.id FROM members m WHERE m.interval_days IS NOT NULL AND m.next_due_at"
        " <= (SELECT MAX(slot_at) FROM checkin_rounds r WHERE r.member_id = m.id)"
    ),
    "a call without its rate fact": (
        "SELECT o.id FROM outbox o WHERE o.channel = 'voice'"
        " AND NOT EXISTS (SELECT 1 FROM call_attempts a WHERE a.outbox_id = o.id)"
    ),
    "a group's round reported before it was posted, or answered after": (
        "SELECT g.id FROM group_rounds g JOIN group_answers a ON a.round_id = g.id"
        " WHERE g.reported_at <= g.posted_at OR a.answered_at >= g.reported_at"
    ),
}


async def test_a_seeded_history_is_reused_consistent_and_served(
    database: Path | str, start_bot: Callable[..., Awaitable[Bot]]
) -> None:
    status, said = await seeded(database, RESIDENTS, DAYS)
    assert status == 0, said
    first = counts(said)
    assert first["members"] > RESIDENTS and first["checkin_rounds"] > RESIDENTS
    status, said = await seeded(database, RESIDENTS, DAYS)
    assert status == 0 and "reused" in said and counts(said) == first, said
    status, said = await seeded(database, RESIDENTS + 1, DAYS)
    assert status != 0 and "refused" in said, said

    # Every page timed once on it, each answering 200 (else the benchmark exits 1).
    status, said = await run("bench.pages", "--database", str(database), "--requests", "1",
                             "--runs", "1")  # fmt: skip
    assert status == 0, said
    timed = [found.groups() for found in map(TIMED_LINE.match, said.splitlines()) if found]
    assert all((who, page) in timed for who, pages in TIMED.items() for page in pages), said

    # A deployment with a desk, an hour after the alert went out again (as seeded).
    bot = await start_bot(desk_after=timedelta(hours=1))
    async with bot.services.reading_repositories() as repos:
        conn = repos.conn
        for rule, sql in BROKEN.items():
            params = (to_db(START),) if "?" in sql else ()
            found = await conn.fetch_all(sql, params)
            assert not found, f"{rule}: {[row[0] for row in found[:5]]}"
        outcomes = {
            row[0]: row[1]
            for row in await conn.fetch_all(
                "SELECT close_reason, COUNT(*) FROM checkin_rounds GROUP BY close_reason"
            )
        }
        resent = await conn.fetch_one(
            "SELECT COUNT(*) FROM checkin_rounds WHERE resent_at IS NOT NULL"
            " AND close_reason = 'ok'"
        )
        phone_only = await conn.fetch_one("SELECT MIN(id) FROM members WHERE channel = 'voice'")
        managers = await conn.fetch_one(
            "SELECT member_id FROM team_members WHERE team_id = 1 AND role = 'manager'"
        )
    # Most answered; some re-sent then answered; a few alerted, by the family or at the desk.
    assert outcomes["ok"] > 0.9 * first["checkin_rounds"]
    assert resent[0] > 0 and outcomes["confirmed"] > 0 and outcomes["desk_confirmed"] > 0
    assert phone_only[0] is not None and first["call_attempts"] > 0
    assert first["chat_groups"] > 0 and first["partners"] > 0

    await staff_signed_in(bot, "city-staff")
    # (A person watched by phone alone: the desk registered her, so it reads her card.)
    person = f"/admin/people/{phone_only[0]}"
    for path in ("/admin/", "/admin/people", "/admin/desk", "/admin/report", person):
        response = await bot.client.get(path)
        assert response.status == 200, path

    async with bot.repos() as repos:
        resident = await repos.members.get(1)
        manager = await repos.members.get(managers[0])
    assert resident is not None and manager is not None
    her = Page(bot, resident.line_user_id)
    assert (await her.call("GET", "/liff/api/me"))[0] == 200
    assert (await her.call("GET", "/liff/api/teams"))[0] == 200
    family = Page(bot, manager.line_user_id)
    status, history = await family.call("GET", "/liff/api/members/1/history")
    assert status == 200 and history


async def seeded(database: Path | str, residents: int, days: int) -> tuple[int, str]:
    """`python -m bench.seed` as a person runs it: its exit status and what it printed."""
    return await run("bench.seed", "--residents", str(residents), "--days", str(days),
                     "--database", str(database))  # fmt: skip


async def run(module: str, *arguments: str) -> tuple[int, str]:
    """A benchmark as a person runs it (the tests do not import the benchmarks): its exit
    status and what it printed."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", module, *arguments,
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await process.communicate()
    return process.returncode or 0, out.decode()


def counts(said: str) -> dict[str, int]:
    """The rows a table that bench.seed printed."""
    found = {}
    for line in said.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].replace(",", "").isdigit():
            found[parts[0]] = int(parts[1].replace(",", ""))
    return found


async def test_a_years_history_is_purged_to_its_retention_backed_up_and_restored(
    database: Path | str,
) -> None:
    """bench/history.py on a small history longer than the retention (396 days): the catch-up
    and a night's purge delete rounds, and on SQLite the backup and the restore go through."""
    status, said = await seeded(database, 40, 399)
    assert status == 0, said
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.history", "--database", str(database), "--nights", "1",
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await process.communicate()
    said = out.decode()
    assert process.returncode == 0, said
    nights = [line for line in said.splitlines() if line.startswith("purge")]
    assert len(nights) == 2 and all(" 0 rounds" not in night for night in nights), said
    if not is_postgres(database):
        assert "restore" in said, said


async def test_the_wave_runs_on_a_seed_and_each_run_starts_from_it(database: Path | str) -> None:
    # A short history is enough: the wave reads the residents due, not their past.
    status, said = await seeded(database, RESIDENTS, 2)
    assert status == 0, said
    # It puts the seed back after the wave and after its floor, and exits unless it finds
    # the seed as it was each time.
    status, said = await waved(database, runs=1)
    assert status == 0, said
    assert "LINE accepted the last of" in said, said

    # The rush an hour after that wave: every tap answered by a server whose clock stands
    # there, then the seed put back, its tallies and events too (what the console counts).
    before = await kept_counts(database)
    status, said = await benched("bench.taps", database, "--taps", "40", "--runs", "2")
    assert status == 0, said
    assert said.count("(40/40 answered 200)") == 4, said  # the bare app's and mimamori's
    assert "40 replies counted" in said, said
    assert await kept_counts(database) == before
    status, said = await waved(database, runs=1)
    assert status == 0, said


async def kept_counts(database: Path | str) -> dict[str, object]:
    """What a benchmark on a seed must leave as it found: the tallies, the rounds, the
    events received."""
    db = database_for(database)
    await db.open()
    try:
        async with db.transaction() as conn:
            counted = {}
            for table in (*TALLIES, "checkin_rounds", "outbox", "webhook_events"):
                counted[table] = (
                    sorted(tuple(row) for row in await conn.fetch_all(f"SELECT * FROM {table}"))
                    if table in TALLIES
                    else (await conn.fetch_one(f"SELECT COUNT(*) FROM {table}"))[0]
                )
            return counted
    finally:
        await db.close()


async def waved(database: Path | str, runs: int) -> tuple[int, str]:
    """`python -m bench.wave --seeded` on the seed at `database`: its exit status and what it
    printed."""
    return await benched("bench.wave", database, "--runs", str(runs))


async def benched(module: str, database: Path | str, *arguments: str) -> tuple[int, str]:
    """`python -m <module> --seeded` on the seed at `database`: its exit status and what it
    printed."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", module, "--seeded", str(database), *arguments,
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await process.communicate()
    return process.returncode or 0, out.decode()


async def test_the_drivers_benchmark_runs(database: Path | str) -> None:
    if not is_postgres(database):
        pytest.skip("bench.driver measures PostgreSQL's drivers")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.driver", "--database", str(database), "--events", "100",
        "--runs", "1", cwd=ROOT, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await process.communicate()
    said = out.decode()
    assert process.returncode == 0, said
    assert said.count(" µs an event") >= 2, said  # awaited and pipelined, at least
