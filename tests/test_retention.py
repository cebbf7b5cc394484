"""Kept only as long as needed (issue 38): each kind of record goes when its retention has
passed, a small batch at a time, and nothing younger; the monthly report keeps its counts after
the rows are gone; 退会 reduces her desk cases to what the records rule keeps; the audit log
lets only rows past its line go; and `mimamori privacy-register` names every personal table and
each retention as configured."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from care.desk import report
from care.privacy import retention
from care.privacy.register import NOT_PERSONAL, PERSONAL
from mimamori.cli import main
from scheduler.engine import ENGINE
from storage.database import POSTGRESQL, from_db, to_db
from storage.transfer import TABLES
from tests.conftest import Bot
from tests.drivers import (
    Page,
    add_admin,
    alerted,
    button,
    login,
    member_of,
    tokyo,
    watched_resident,
)
from tests.wording import REWORDED, t

DAY = timedelta(days=1)


async def _rows(bot: Bot, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
    async with bot.repos() as repos:
        return list(await repos.conn.fetch_all(sql, params))


async def _round(bot: Bot, member_id: int, slot_age: timedelta, **extra: Any) -> None:
    now = bot.clock.now()
    slot = now - slot_age
    columns = {
        "member_id": member_id,
        "slot_at": to_db(slot),
        "state": "answered",
        "opened_at": to_db(slot),
        "sent_at": to_db(slot),
        "closed_at": to_db(slot + timedelta(hours=1)),
        "answer": "ok",
        **extra,
    }
    async with bot.repos() as repos:
        await repos.conn.execute(
            f"INSERT INTO checkin_rounds ({', '.join(columns)})"
            f" VALUES ({', '.join('?' * len(columns))})",
            tuple(columns.values()),
        )


async def test_the_purge_deletes_what_is_past_its_time_and_nothing_younger(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    # Batches of 2: five old rounds take three transactions, and every one of them goes.
    bot = await start_bot(purge_batch=2)
    resident, _ = await watched_resident(bot, "resident", ["son"])
    her = (await member_of(bot, resident)).id
    now = bot.clock.now()
    for age in range(400, 405):
        await _round(bot, her, age * DAY)
    await _round(bot, her, 390 * DAY)  # younger than 13 months: kept
    # Her words: 30 days after the round closed they go; the round itself stays.
    await _round(bot, her, 50 * DAY, answer="help", urgent=1, help_words="胸が苦しい")
    await _round(bot, her, 10 * DAY, answer="help", urgent=1, help_words="転んだ")
    async with bot.repos() as repos:
        conn = repos.conn
        for age, note in ((6 * 365, "old"), (4 * 365, "young")):
            case = await conn.fetch_one(
                "INSERT INTO desk_cases (member_id, reason, opened_at, closed_at, closed_by,"
                " outcome, outcome_note) VALUES (?, 'help', ?, ?, 'desk-a', 'safe', ?)"
                " RETURNING id",
                (her, to_db(now - age * DAY), to_db(now - age * DAY + DAY), note),
            )
            await conn.execute(
                "INSERT INTO desk_steps (case_id, at, staff, kind, note) VALUES (?, ?, 'desk-a',"
                " 'note', ?)",
                (case[0], to_db(now - age * DAY), note),
            )
            await conn.execute(
                "INSERT INTO audit_log (at, admin_name, action, detail) VALUES (?, 'desk-a',"
                " 'case_closed', ?)",
                (to_db(now - age * DAY), note),
            )
        for age, key in ((40, "old"), (10, "young")):
            await conn.execute(
                "INSERT INTO outbox (kind, recipients, messages, tellings, retry_key, purpose,"
                " state, next_attempt_at, created_at, sent_at) VALUES ('push', '[\"U1\"]',"
                " '[{\"type\": \"text\", \"text\": \"words\"}]', '[]', ?, 'alert', 'sent', ?,"
                " ?, ?)",
                (f"retention-{key}", *[to_db(now - age * DAY)] * 3),
            )
        for age in (400, 30):
            call = await conn.fetch_one(
                "INSERT INTO roll_calls (started_at, started_by, audience, audience_detail,"
                " closed_at) VALUES (?, 'desk-a', 'everyone', '{}', ?) RETURNING id",
                (to_db(now - age * DAY), to_db(now - age * DAY + DAY)),
            )
            await conn.execute(
                "INSERT INTO roll_call_people (roll_call_id, member_id, answer, answered_at)"
                " VALUES (?, ?, 'safe', ?)",
                (call[0], her, to_db(now - age * DAY)),
            )
        await conn.execute(
            "INSERT INTO call_attempts (number_key, member_id, purpose, outbox_id, created_at)"
            " VALUES ('k', ?, 'checkin', 0, ?)",
            (her, to_db(now - 400 * DAY)),
        )

    counts = await retention.purge(bot.services)

    assert counts["rounds"] == 5 and counts["words"] == 1 and counts["cases"] == 1
    assert counts["message_bodies"] == 1 and counts["audit"] == 1
    slots = await _rows(bot, "SELECT slot_at, help_words FROM checkin_rounds ORDER BY slot_at")
    assert all(row[0] >= to_db(now - 396 * DAY) for row in slots), "nothing past 13 months"
    assert [row[1] for row in slots if row[1]] == ["転んだ"], "only the young words stay"
    assert len([row for row in slots if row[0] < to_db(now - 300 * DAY)]) == 1
    cases = await _rows(bot, "SELECT outcome_note FROM desk_cases")
    assert [row[0] for row in cases] == ["young"]
    assert [r[0] for r in await _rows(bot, "SELECT note FROM desk_steps")] == ["young"]
    bodies = await _rows(
        bot,
        "SELECT retry_key, messages, recipients FROM outbox"
        " WHERE retry_key LIKE 'retention-%' ORDER BY retry_key",
    )
    assert [(row[0], row[1] == "[]") for row in bodies] == [
        ("retention-old", True),
        ("retention-young", False),
    ]
    assert all(row[2] == '["U1"]' for row in bodies), "the row's bookkeeping stays"
    details = {r[0] for r in await _rows(bot, "SELECT detail FROM audit_log")}
    assert "old" not in details and "young" in details
    assert not await _rows(bot, "SELECT id FROM call_attempts")
    assert counts["roll_calls"] == 1
    assert len(await _rows(bot, "SELECT answer FROM roll_call_people")) == 1, "the young one"
    # The audit log stays append-only for every row younger than its line.
    with pytest.raises(Exception, match="append-only"):
        async with bot.repos() as repos:
            await repos.conn.execute("DELETE FROM audit_log")
    assert "young" in {r[0] for r in await _rows(bot, "SELECT detail FROM audit_log")}
    metrics = await (await bot.client.get("/metrics")).text()
    assert 'mimamori_purged_rows_total{kind="rounds"} 5.0' in metrics

    # A second run finds nothing more: what was younger is still younger.
    again = await retention.purge(bot.services)
    assert not any(again.values())


async def test_a_purge_missed_is_owed_at_the_next_start(bot: Bot) -> None:
    assert await retention.due(bot.services), "never purged"
    await retention.purge(bot.services)
    assert not await retention.due(bot.services)
    bot.clock.advance(DAY)
    assert await retention.due(bot.services), "a day later one is owed again"


async def test_the_purge_runs_daily_at_night_in_the_deployments_time_zone(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    bot = await start_bot(purge_hour=2)
    engine = bot.app[ENGINE]
    engine.start()
    try:
        job = engine.purge_job
        assert job is not None and job.next_run_time is not None
        local = job.next_run_time.astimezone(bot.settings.timezone)
        assert (local.hour, local.minute) == (2, 0)
    finally:
        await engine.stop()


async def test_a_month_past_retention_still_reports_the_same_numbers(bot: Bot) -> None:
    resident, (son,) = await alerted(bot, ["son"])
    await bot.tap(son, button(bot, son, t("alert.safe_button")))
    await add_admin(bot)
    assert await login(bot.client) == 200
    before = await (await bot.client.get("/admin/report.csv?month=2026-11")).text()
    assert "checkins,1" in before.replace("\r", "") and "alerts,1" in before.replace("\r", "")
    counted = await _rows(bot, "SELECT id FROM checkin_rounds WHERE slot_at < ?", ("2026-12",))
    assert counted, "November has rounds to count"

    bot.clock.advance(420 * DAY)
    await retention.purge(bot.services)

    left = await _rows(
        bot,
        "SELECT id FROM checkin_rounds WHERE slot_at < ? AND state = 'answered'",
        ("2026-12",),
    )
    assert not left, "November's answered rounds are gone"
    assert await login(bot.client) == 200
    after = await (await bot.client.get("/admin/report.csv?month=2026-11")).text()
    assert after == before


async def test_withdrawal_reduces_her_desk_cases_to_what_the_records_rule_keeps(
    bot: Bot,
) -> None:
    resident, _ = await watched_resident(bot, "resident", ["son"])
    her = (await member_of(bot, resident)).id
    now = bot.clock.now()
    async with bot.repos() as repos:
        case = await repos.conn.fetch_one(
            "INSERT INTO desk_cases (member_id, reason, opened_at, taken_by, taken_at, closed_at,"
            " closed_by, outcome, outcome_note) VALUES (?, 'help', ?, 'desk-a', ?, ?, 'desk-a',"
            " 'hospital', '娘さんが病院へ') RETURNING id",
            (her, to_db(now - DAY), to_db(now - DAY), to_db(now)),
        )
        await repos.conn.execute(
            "INSERT INTO desk_steps (case_id, at, staff, kind, result, note) VALUES (?, ?,"
            " 'desk-a', 'call', 'answered', '本人と話した: 持病の薬')",
            (case[0], to_db(now)),
        )
    page = Page(bot, resident, "resident")
    await page.accept_terms()
    assert (await page.call("POST", "/liff/api/me/withdraw", {"confirm": True}))[0] == 200

    (kept,) = await _rows(
        bot,
        "SELECT member_id, reason, opened_at, taken_by, closed_at, closed_by, outcome,"
        " outcome_note FROM desk_cases",
    )
    assert tuple(kept)[:7] == (
        her,
        "help",
        to_db(now - DAY),
        "desk-a",
        to_db(now),
        "desk-a",
        "hospital",
    )
    assert kept[7] is None, "the note went"
    steps = await _rows(bot, "SELECT staff, kind, result, note FROM desk_steps")
    assert [tuple(row) for row in steps] == [("desk-a", "call", "answered", None)]


def test_every_table_is_classified_for_the_register() -> None:
    named = {held.table for held in PERSONAL}
    # A team's name is often the family's name: personal, listed in the register.
    assert "teams" in named and "teams" not in NOT_PERSONAL
    assert set(TABLES) - named - NOT_PERSONAL == set(), "a new table: personal or not?"


def test_the_register_names_every_personal_table_and_each_retention_as_configured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env = {
        "LINE_CHANNEL_SECRET": "secret",
        "LINE_CHANNEL_ACCESS_TOKEN": "token",
        "MIMAMORI_KEEP_ROUNDS": "400d",
        "MIMAMORI_KEEP_WORDS": "45d",
        "MIMAMORI_KEEP_CALLS": "200d",
        "MIMAMORI_KEEP_CASES": "3650d",
        "MIMAMORI_KEEP_MESSAGE_BODIES": "14d",
        "MIMAMORI_KEEP_AUDIT": "2000d",
        # Credentials in the URL (user, a key in the path and the query) stay out of the
        # register, which the city publishes: scheme and host only.
        "MIMAMORI_FORWARD_URL": "https://svc:s3cret@City.example.jp/hook/k9x?key=abc123",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    if REWORDED is not None:
        monkeypatch.setenv("MIMAMORI_LOCALE_OVERRIDES", str(REWORDED))
    assert main(["privacy-register", "--env-file", str(tmp_path / "none.env")]) == 0
    text = capsys.readouterr().out
    for held in PERSONAL:
        assert f"| `{held.table}` |" in text
    for kind in retention.KINDS:
        days = int(env[kind.variable].removesuffix("d"))
        assert (
            t(f"admin.retention.register.kind_{kind.name}", days=days, variable=kind.variable)
            in text
        )
    assert t("admin.retention.register.to_city", url="https://city.example.jp") in text
    for secret in ("svc", "s3cret", "k9x", "abc123", "/hook"):
        assert secret not in text
    assert "`emergency_memo`: " + t("admin.retention.register.sensitive_mark") in text
    assert t("admin.retention.register.to_twilio") not in text, "no calls configured"


def test_a_retention_shorter_than_a_day_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LINE_CHANNEL_SECRET", "secret")
    monkeypatch.setenv("LINE_CHANNEL_ACCESS_TOKEN", "token")
    monkeypatch.setenv("MIMAMORI_KEEP_WORDS", "3h")
    assert main(["privacy-register", "--env-file", str(tmp_path / "none.env")]) == 2
    assert "MIMAMORI_KEEP_WORDS" in capsys.readouterr().err


# Issue 38's review: the audit log could be erased (the line moved to the far future, its row
# deleted and drawn again, or a retention of a day), a retention under two months lost a
# month's report counts, the register printed the forward URL's credentials, and a roll-call
# never closed was never purged.


async def _database_now(bot: Bot) -> datetime:
    """The database's own clock (what migration 0043 checks the audit line against), read from
    the floor it allows: tests keep to the fake clock otherwise, but this guard is exactly the
    one that does not trust the service's clock."""
    async with bot.repos() as repos:
        floor = from_db(await repos.retention.audit_floor())
    assert floor is not None
    return floor + 365 * DAY


async def test_the_audit_log_line_cannot_reach_recent_rows_nor_be_deleted(bot: Bot) -> None:
    now = bot.clock.now()
    async with bot.repos() as repos:
        await repos.admin.audit("city-staff", "export", "members.csv", now)
        await repos.retention.draw_audit_line(now - 1827 * DAY)
    (line,) = (r[0] for r in await _rows(bot, "SELECT audit_before FROM retention_state"))
    near = to_db(await _database_now(bot) - 300 * DAY)  # under a year by the database's clock
    refused = [
        ("UPDATE retention_state SET audit_before = '9999' WHERE id = 1", "365 days"),
        (f"UPDATE retention_state SET audit_before = '{near}' WHERE id = 1", "365 days"),
        ("DELETE FROM retention_state", "not deleted"),
    ]
    if bot.services.db.dialect == POSTGRESQL:
        refused.append(("TRUNCATE retention_state", "not deleted"))
    for sql, why in refused:
        with pytest.raises(Exception, match=why):
            async with bot.repos() as repos:
                await repos.conn.execute(sql)
    with pytest.raises(Exception, match="append-only"):
        async with bot.repos() as repos:
            await repos.conn.execute("DELETE FROM audit_log")
    assert [r[0] for r in await _rows(bot, "SELECT audit_before FROM retention_state")] == [line]
    assert [r[0] for r in await _rows(bot, "SELECT detail FROM audit_log")] == ["members.csv"]


async def test_a_short_audit_retention_or_a_clock_run_ahead_keeps_the_last_year(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    # A day's retention (refused by the settings, forced here past them: the purge still keeps
    # the 365 days' floor) with the service's clock a month ahead of the database's: the line
    # the purge asks for is under a year behind the database's clock, and is refused.
    bot = await start_bot(keep_audit=DAY)
    bot.clock.set(await _database_now(bot) + 30 * DAY)
    now = bot.clock.now()
    async with bot.repos() as repos:
        for days in (2, 30, 200, 360):
            await repos.admin.audit("city-staff", "export", f"{days}", now - days * DAY)
    counts = await retention.purge(bot.services)
    assert counts["audit"] == 0
    details = {r[0] for r in await _rows(bot, "SELECT detail FROM audit_log")}
    assert {"2", "30", "200", "360"} <= details, "nothing of the last year goes"
    assert not await _rows(bot, "SELECT id FROM audit_log WHERE action = 'audit_line_moved'")
    assert not await _rows(bot, "SELECT id FROM retention_state WHERE audit_before != ''")


async def test_each_move_of_the_audit_line_is_in_the_audit_log(bot: Bot) -> None:
    now = bot.clock.now()
    async with bot.repos() as repos:
        await repos.admin.audit("city-staff", "export", "old", now - 1900 * DAY)
    counts = await retention.purge(bot.services)
    assert counts["audit"] == 1
    moved = "SELECT admin_name, detail FROM audit_log WHERE action = 'audit_line_moved'"
    assert [tuple(r) for r in await _rows(bot, moved)] == [
        (retention.AUDIT_ACTOR, to_db(now - 1827 * DAY))
    ]
    await retention.purge(bot.services)
    assert len(await _rows(bot, moved)) == 1, "the line did not move: nothing to say"
    bot.clock.advance(DAY)
    await retention.purge(bot.services)
    assert [r[1] for r in await _rows(bot, moved + " ORDER BY id")][-1] == to_db(
        now + DAY - 1827 * DAY
    )


@pytest.mark.parametrize(
    ("variable", "value", "least"),
    [
        ("MIMAMORI_KEEP_AUDIT", "1d", "365d"),
        ("MIMAMORI_KEEP_AUDIT", "364d", "365d"),
        ("MIMAMORI_KEEP_ROUNDS", "1d", "62d"),
        ("MIMAMORI_KEEP_ROUNDS", "61d", "62d"),
        ("MIMAMORI_KEEP_CASES", "30d", "62d"),
    ],
)
def test_a_retention_under_its_floor_is_refused(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    variable: str,
    value: str,
    least: str,
) -> None:
    monkeypatch.setenv("LINE_CHANNEL_SECRET", "secret")
    monkeypatch.setenv("LINE_CHANNEL_ACCESS_TOKEN", "token")
    monkeypatch.setenv(variable, value)
    assert main(["privacy-register", "--env-file", str(tmp_path / "none.env")]) == 2
    err = capsys.readouterr().err
    assert variable in err and least in err
    monkeypatch.setenv(variable, least)
    assert main(["privacy-register", "--env-file", str(tmp_path / "none.env")]) == 0


async def test_at_the_shortest_retention_a_month_keeps_its_report_counts(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    # The floor (62 days) is what makes this hold: November's figures are stored once
    # November has ended, before a purge can reach any of its rounds.
    bot = await start_bot(keep_rounds=62 * DAY)
    resident, _ = await watched_resident(bot, "resident", ["son"])
    her = (await member_of(bot, resident)).id
    for age in (10, 9, 8):
        await _round(bot, her, age * DAY)
    async with bot.services.unit_of_work() as work:
        before = await report.monthly(work, date(2026, 11, 1))
    assert before.checkins >= 3
    for moment in (tokyo(11, 30, 3), tokyo(12, 1, 3), tokyo(1, 1, 3, year=2027)):
        bot.clock.set(moment)
        await retention.purge(bot.services)
    bot.clock.set(tokyo(3, 1, 3, year=2027))
    counts = await retention.purge(bot.services)
    assert counts["rounds"] >= 3, "November's rounds are gone"
    async with bot.services.unit_of_work() as work:
        after = await report.monthly(work, date(2026, 11, 1))
    assert after.checkins == before.checkins


async def test_a_retention_forced_under_its_floor_still_keeps_the_running_month(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    # Settings made in code skip the settings' check: the purge holds the same floor.
    bot = await start_bot(keep_rounds=2 * DAY)
    resident, _ = await watched_resident(bot, "resident", ["son"])
    her = (await member_of(bot, resident)).id
    for age in (10, 9, 8):
        await _round(bot, her, age * DAY)
    async with bot.services.unit_of_work() as work:
        before = await report.monthly(work, date(2026, 11, 1))
    await retention.purge(bot.services)
    bot.clock.set(tokyo(12, 2, 4))
    assert (await retention.purge(bot.services))["rounds"] == 0
    async with bot.services.unit_of_work() as work:
        after = await report.monthly(work, date(2026, 11, 1))
    assert before.checkins >= 3 and after.checkins == before.checkins


async def test_a_roll_call_never_closed_goes_by_its_start(bot: Bot) -> None:
    now = bot.clock.now()
    resident, _ = await watched_resident(bot, "resident", ["son"])
    her = (await member_of(bot, resident)).id
    async with bot.repos() as repos:
        for age in (400, 30):  # started from the console with no closing time
            call = await repos.conn.fetch_one(
                "INSERT INTO roll_calls (started_at, started_by, audience, audience_detail)"
                " VALUES (?, 'desk-a', 'everyone', '{}') RETURNING id",
                (to_db(now - age * DAY),),
            )
            await repos.conn.execute(
                "INSERT INTO roll_call_people (roll_call_id, member_id, answer, answered_at)"
                " VALUES (?, ?, 'safe', ?)",
                (call[0], her, to_db(now - age * DAY)),
            )
    counts = await retention.purge(bot.services)
    assert counts["roll_calls"] == 1
    started = await _rows(bot, "SELECT started_at FROM roll_calls")
    assert [r[0] for r in started] == [to_db(now - 30 * DAY)], "the young one stays"
    assert len(await _rows(bot, "SELECT member_id FROM roll_call_people")) == 1
