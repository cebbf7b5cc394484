"""退会, finished: what the outbox still holds about the person is cleared; SQLite overwrites
what is deleted; the database, its arrivals and backups are readable by their owner only; a
restore refuses a file with triggers, views or tables this schema does not have, and does not
follow symlinks."""

from __future__ import annotations

import sqlite3
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from storage.arrivals import arrivals_path
from storage.backup import BackupError, check_copy, restore, take_backup
from tests.conftest import Bot
from tests.drivers import Page, alerted


async def test_withdrawal_clears_what_the_outbox_holds_about_her(bot: Bot) -> None:
    resident, (son,) = await alerted(bot, ["son"])
    await bot.say(resident, "ごめんなさい、寝ていました")
    page = Page(bot, resident, "resident")
    await page.accept_terms()
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
    ],
)
def test_restore_refuses_what_this_schema_does_not_have(tmp_path: Path, extra: str) -> None:
    live = _database(tmp_path)
    copy = tmp_path / "copy.db"
    take_backup(live, copy)
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600, "a backup is the owner's alone"
    check_copy(copy)
    with sqlite3.connect(copy) as conn:
        conn.execute(extra)
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
