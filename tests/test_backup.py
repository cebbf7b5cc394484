"""Backups: a consistent copy taken while a wave is written; a restore that checks first."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import sys
from datetime import UTC, datetime
from pathlib import Path

from storage.arrivals import arrivals_path
from storage.database import database_for
from storage.repositories import arrivals
from tests.drivers import MULTICAST, REPLY, until
from tests.fake_line import FakeLine
from tests.rush import ROOT, Server, ok_tap, seed


async def mimamori(database: Path, *args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "mimamori",
        *args,
        cwd=database.parent,
        env={**os.environ, "PYTHONPATH": str(ROOT), "MIMAMORI_DATABASE": str(database)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode()


def dump(database: Path) -> list[str]:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as conn:
        return list(conn.iterdump())


def kept_copies(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if ".before-restore-" in p.name]


def arrivals_beside(database: Path) -> bool:
    return Path(arrivals_path(database)).exists()


def one(database: Path, sql: str) -> int:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as conn:
        return int(conn.execute(sql).fetchone()[0])


async def test_a_backup_taken_during_a_wave_restores_whole(
    tmp_path: Path, fake_line: FakeLine
) -> None:
    database = tmp_path / "live.db"
    residents = await seed(database, 3000, datetime.now(UTC), due=True)
    fake_line.send_delay = 0.2  # the wave is still being written while the copy is taken
    server = Server(database, fake_line.url)
    await server.start()
    await until(lambda: any(c.path == MULTICAST for c in fake_line.calls))
    copy = tmp_path / "nightly.db"
    status, out = await mimamori(database, "backup", str(copy))
    assert status == 0, out
    fake_line.send_delay = 0.0
    await server.stop()

    # Consistent: each round the copy holds has the outbox row written in its transaction.
    with sqlite3.connect(copy) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        orphans = conn.execute(
            "SELECT COUNT(*) FROM checkin_rounds r LEFT JOIN outbox o"
            " ON o.id = r.checkin_outbox_id WHERE r.checkin_outbox_id IS NOT NULL AND o.id IS NULL"
        ).fetchone()[0]
    assert orphans == 0
    assert one(copy, "SELECT COUNT(*) FROM members") == len(residents)

    # Restored over the live database: exactly the copy, and the replaced one kept.
    before = dump(database)
    status, out = await mimamori(database, "restore", str(copy))
    assert status == 0, out
    assert dump(database) == dump(copy)
    assert not arrivals_beside(database), "its waiting events went to the kept copy"
    kept = kept_copies(tmp_path)
    assert len(kept) == 1 and dump(kept[0]) == before


async def test_a_bad_copy_is_refused_and_nothing_changes(tmp_path: Path) -> None:
    database = tmp_path / "live.db"
    await seed(database, 5, datetime.now(UTC))
    before = dump(database)

    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database at all" * 100)
    foreign = tmp_path / "foreign.db"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE t (x)")
    newer = tmp_path / "newer.db"
    assert (await mimamori(database, "backup", str(newer)))[0] == 0
    with sqlite3.connect(newer) as conn:
        conn.execute("INSERT INTO schema_migrations (version, applied_at) VALUES (9999, 'x')")

    for bad in (garbage, foreign, newer, tmp_path / "missing.db"):
        status, out = await mimamori(database, "restore", str(bad))
        assert status == 1 and "restore refused" in out, out
    assert dump(database) == before
    assert not kept_copies(tmp_path)

    status, out = await mimamori(database, "restore", "--check-only", str(newer))
    assert status == 1
    status, out = await mimamori(database, "backup", str(newer))
    assert status == 1 and "exists already" in out


async def test_a_copy_keeps_the_events_that_wait_to_be_handled(
    tmp_path: Path, fake_line: FakeLine
) -> None:
    database = tmp_path / "live.db"
    now = datetime.now(UTC)
    (resident,) = await seed(database, 1, now)
    # An OK tap LINE was answered for, landed beside the database and not handled yet.
    tap = ok_tap(resident, now)
    db = database_for(database)
    await db.open()
    async with arrivals(db) as landing:
        await landing.land([(tap["webhookEventId"], json.dumps(tap))], now)
    await db.close()

    copy = tmp_path / "nightly.db"
    status, out = await mimamori(database, "backup", str(copy))
    assert status == 0, out
    waiting = "SELECT COUNT(*) FROM webhook_events WHERE processed_at IS NULL"
    assert one(copy, waiting) == 1

    # A server on the copy alone handles it.
    restored = tmp_path / "elsewhere" / "restored.db"
    restored.parent.mkdir()
    os.replace(copy, restored)
    server = Server(restored, fake_line.url)
    await server.start()
    await until(lambda: any(c.path == REPLY for c in fake_line.calls))
    await server.stop()
    assert one(restored, waiting) == 0
    assert one(restored, "SELECT COUNT(*) FROM checkin_rounds WHERE state = 'answered'") == 1
