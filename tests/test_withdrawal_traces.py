"""退会, finished: what the outbox still holds about the person is cleared; nothing is left to
act for her (her call number and consent, her device URLs, the events of hers kept after
forwarding), so that when she comes back her old door sensor does not answer for her; SQLite
overwrites what is deleted; the database, its arrivals and backups are readable by their owner
only; a restore refuses a file with triggers, views or tables this schema does not have, and
does not follow symlinks."""

from __future__ import annotations

import sqlite3
import stat
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from aiohttp.test_utils import TestServer

from care.rounds.protocol import Stage, stage_of
from simulator.city import CitySystem
from storage.arrivals import arrivals_path
from storage.backup import BackupError, check_copy, restore, take_backup
from tests import line_webhook as hook
from tests.conftest import SECRET, Bot
from tests.drivers import (
    Page,
    alerted,
    button,
    create_team,
    join,
    member_of,
    run_to,
    watched_resident,
)
from tests.fake_twilio import FakeTwilio, calling_through
from tests.wording import t


async def test_withdrawal_clears_what_the_outbox_holds_about_her(bot: Bot) -> None:
    resident, (son,) = await alerted(bot, ["son"])
    await bot.say(resident, "ごめんなさい、寝ていました")
    page = Page(bot, resident, "resident")
    await page.accept_terms()
    # 退会 waits for the open alert to close (a manager confirms first).
    assert (await page.call("POST", "/liff/api/me/withdraw", {"confirm": True}))[0] == 409
    await bot.tap(son, button(bot, son, t("alert.safe_button")))
    assert (await page.call("POST", "/liff/api/me/withdraw", {"confirm": True}))[0] == 200
    async with bot.repos() as repos:
        rows = await repos.conn.fetch_all(
            "SELECT purpose, recipients, tellings, state FROM outbox ORDER BY id", ()
        )
    sent_before = [row for row in rows if row[0] in ("checkin", "resend", "alert", "words")]
    assert sent_before and all(row[2] == "[]" for row in sent_before), "contents cleared"
    assert all(resident not in row[1] for row in rows if row[3] != "pending")
    assert not any("寝ていました" in row[2] for row in rows)
    (left,) = [row for row in rows if row[0] == "withdrawn"]
    assert left[2] != "[]", "the notice that she left still goes to her son"


async def _withdraw(page: Page) -> None:
    page.renew()
    await page.accept_terms()
    assert (await page.call("POST", "/liff/api/me/withdraw", {"confirm": True}))[0] == 200


async def test_withdrawal_leaves_no_call_and_no_device_that_answers_for_her(
    start_bot: Callable[..., Awaitable[Bot]], twilio: FakeTwilio
) -> None:
    bot = await start_bot(**calling_through(twilio, call_budget=5))  # for its verification
    resident, (son,) = await watched_resident(bot, "resident", ["son"])
    page = Page(bot, resident, "resident")
    await page.accept_terms()
    body = {"number": "090-1234-5678", "before_alert": True}
    assert (await page.call("PUT", "/liff/api/me/calls", body))[0] == 200
    status, device = await page.call(
        "POST", "/liff/api/me/devices", {"label": "玄関", "counts_as_ok": True}
    )
    assert status == 200, device
    door = urlsplit(device["url"]).path

    await _withdraw(page)
    member = await member_of(bot, resident)
    assert (member.call_number, member.call_before_alert, member.call_consented_by) == (
        None,
        False,
        None,
    )
    async with bot.repos() as repos:
        assert await repos.devices.of_member(member.id) == []
        # Her verification call's rate fact stays two days (the limits count it, or leaving
        # and coming back would start them again): the number's keyed hash, not the number.
        kept = await repos.conn.fetch_all("SELECT number_key FROM call_attempts", ())
    assert kept and all("9012345678" not in row[0] for row in kept)
    bot.clock.advance(timedelta(minutes=5))
    assert (await bot.client.post(door)).status == 404, "a revoked URL answers nothing"

    # She comes back: follows again and starts a team as the one watched, her son joins.
    await bot.post(hook.follow(resident, bot.clock.now()))
    codes = await create_team(bot, resident, "resident の家族", as_user=True)
    await join(bot, son, codes["manager"])
    page = Page(bot, resident, "resident")
    _, me = await page.call("GET", "/liff/api/me")
    assert me["member"]["devices"] == [] and me["member"]["calls"]["number"] in ("", None)
    member = await member_of(bot, resident)
    assert member.next_due_at is not None and not member.call_before_alert
    await run_to(bot, member.next_due_at)
    async with bot.repos() as repos:
        assert stage_of(await repos.rounds.open_round(member.id)) is Stage.ASKED
    # Her old door sensor fires as she walks past: it is refused, and her first check-in is
    # still hers to answer.
    bot.clock.advance(timedelta(minutes=5))
    assert (await bot.client.post(door)).status == 404
    assert (await bot.client.post(door)).status == 404
    async with bot.repos() as repos:
        assert stage_of(await repos.rounds.open_round(member.id)) is Stage.ASKED
        (pinged,) = await repos.conn.fetch_one(
            "SELECT COUNT(*) FROM devices WHERE member_id = ? AND last_ping_at IS NOT NULL",
            (member.id,),
        )
    assert pinged == 0, "a refused ping changes nothing"


@pytest.fixture
async def city(fake_line: Any) -> AsyncIterator[CitySystem]:
    system = CitySystem(SECRET, line_url=str(fake_line.url))
    server = TestServer(system.make_app())
    await server.start_server()
    system.url = str(server.make_url("/webhook"))
    yield system
    await server.close()


async def test_withdrawal_deletes_the_events_of_hers_kept_after_forwarding(
    start_bot: Callable[..., Awaitable[Bot]], city: CitySystem
) -> None:
    bot = await start_bot(shared_account=True, forward_url=city.url, menus="none")
    resident, neighbour = hook.user_id("resident"), hook.user_id("neighbour")
    for uid, name in ((resident, "resident"), (neighbour, "neighbour")):
        bot.line.add_profile(uid, name, "ja")
        await bot.post(hook.follow(uid, bot.clock.now()))
        await bot.say(uid, "ごみの日")  # the city's: forwarded, then kept a while
    await bot.say(resident, t("shared.start_words").split(",")[0])  # she starts mimamori

    async def kept() -> dict[str, int]:
        async with bot.repos() as repos:
            rows = await repos.conn.fetch_all(
                "SELECT chat, COUNT(*) FROM forwards WHERE state = 'sent' GROUP BY chat", ()
            )
        return {row[0]: int(row[1]) for row in rows}

    assert await kept() == {resident: 2, neighbour: 2}
    await _withdraw(Page(bot, resident, "resident"))
    assert await kept() == {neighbour: 2}, "hers are gone, nobody else's"
    async with bot.repos() as repos:
        rows = await repos.conn.fetch_all("SELECT payload FROM forwards", ())
    assert not any(resident in row[0] for row in rows)


async def test_sqlite_files_are_the_owners_alone_and_deletes_overwrite(bot: Bot) -> None:
    if bot.services.db.dialect != "sqlite":
        pytest.skip("SQLite's files")
    path = Path(bot.settings.database)
    for file in (path, Path(arrivals_path(path)), Path(f"{path}-wal")):
        assert stat.S_IMODE(file.stat().st_mode) == 0o600, file
    async with bot.repos() as repos:
        row = await repos.conn.fetch_one("PRAGMA secure_delete", ())
    assert row is not None and row[0] == 1


def _database(tmp_path: Path) -> Path:
    """A database as this code makes it (its schema alone), through the server's migrations."""
    import asyncio

    from storage.sqlite import SqliteDatabase

    path = tmp_path / "live.db"

    async def make() -> None:
        db = SqliteDatabase(path)
        await db.open()
        await db.close()

    asyncio.run(make())
    return path


@pytest.mark.parametrize(
    "extra",
    [
        "CREATE TRIGGER sneaky AFTER INSERT ON members BEGIN DELETE FROM outbox; END",
        "CREATE VIEW everyone AS SELECT * FROM members",
        "CREATE TABLE notes_of_mine (x TEXT)",
        # By definition, not by name: a table changed, an index of the same name on another
        # column, the audit log's append-only trigger gone.
        "ALTER TABLE members ADD COLUMN kept_aside TEXT",
        "DROP INDEX outbox_pending; CREATE INDEX outbox_pending ON outbox (created_at)",
        "DROP TRIGGER audit_log_no_delete",
    ],
)
def test_restore_refuses_what_this_schema_does_not_have(tmp_path: Path, extra: str) -> None:
    live = _database(tmp_path)
    copy = tmp_path / "copy.db"
    take_backup(live, copy)
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600, "a backup is the owner's alone"
    check_copy(copy)
    with sqlite3.connect(copy) as conn:
        conn.executescript(extra)
    conn.close()
    before = live.read_bytes()
    with pytest.raises(BackupError, match="never made"):
        restore(copy, live, datetime(2026, 11, 30, tzinfo=UTC))
    assert live.read_bytes() == before


def test_restore_does_not_follow_symlinks(tmp_path: Path) -> None:
    live = _database(tmp_path)
    copy = tmp_path / "copy.db"
    take_backup(live, copy)
    link = tmp_path / "link.db"
    link.symlink_to(copy)
    with pytest.raises(BackupError, match="symlink"):
        restore(link, live, datetime(2026, 11, 30, tzinfo=UTC))
    elsewhere = tmp_path / "elsewhere.db"
    dangling = tmp_path / "dangling.db"
    dangling.symlink_to(elsewhere)
    with pytest.raises(BackupError, match="exists"):
        take_backup(live, dangling)
    assert not elsewhere.exists()
    restored = tmp_path / "restored.db"
    restore(copy, restored, datetime(2026, 11, 30, tzinfo=UTC))
    assert stat.S_IMODE(restored.stat().st_mode) == 0o600


def test_a_copy_from_an_older_version_is_read_against_its_own_migrations(tmp_path: Path) -> None:
    """A copy a version behind holds fewer tables and older definitions: it is checked against
    what its own migrations made (and migrated forward when the server opens it), not refused
    for not being today's schema."""
    from storage.database import SCHEMA_MIGRATIONS, SQLITE, migrations

    older = tmp_path / "older.db"
    ran = migrations(SQLITE)[:-3]
    with sqlite3.connect(older) as conn:
        conn.execute(SCHEMA_MIGRATIONS)
        for version, _, sql in ran:
            conn.executescript(sql)
            conn.execute("INSERT INTO schema_migrations VALUES (?, 'then')", (version,))
    conn.close()
    assert check_copy(older).schema_version == ran[-1][0]
    with sqlite3.connect(older) as conn:
        conn.execute("ALTER TABLE members ADD COLUMN kept_aside TEXT")
    conn.close()
    with pytest.raises(BackupError, match="never made"):
        check_copy(older)
