"""What a year of history costs to keep: the nightly purge at its steady state, the backup and
a restore, the database's size on disk and the server's memory, on a history seeded by
bench/seed.py (issue 42).

    .venv/bin/python -m bench.history --database /work/bench-data/seed-100k.db [--nights 3]

The seed's 400 days are more than the default retention of check-ins (396 days,
MIMAMORI_KEEP_ROUNDS): the first purge, at the seed's last moment less `--nights` days, takes
the days past it at once (the catch-up a deployment does on its first night); each night after
it takes one day of every resident's rounds, the steady state, and is what is measured. The
purge deletes: the database keeps the retention's days after it, which is the history a
deployment holds. Backup and restore (SQLite: `mimamori backup`'s and `mimamori restore`'s own
functions; PostgreSQL deployments use the server's tools) write next to the database and are
deleted after. Measured beside a reference of the same run: the disk's own speed, a plain
copy of the same file."""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import shutil
import sqlite3
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.inprocess import in_process
from bench.standins import bench_ground
from care.privacy import retention
from care.services import SERVICES
from storage.backup import restore, take_backup
from storage.database import is_postgres

END = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)  # bench/seed.py's last moment


@dataclass(frozen=True)
class Night:
    at: datetime
    seconds: float  # wall
    cpu: float  # this process, every thread
    deleted: dict[str, int]


def sqlite_bytes(path: Path) -> int:
    """The file and its write-ahead log: what the disk holds."""
    return sum(
        os.path.getsize(f"{path}{tail}")
        for tail in ("", "-wal")
        if os.path.exists(f"{path}{tail}")
    )


def sqlite_used_bytes(path: Path) -> int:
    """The pages holding rows (a purge frees pages for later rows; the file does not shrink)."""
    with sqlite3.connect(path) as conn:
        size = conn.execute("PRAGMA page_size").fetchone()[0]
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        free = conn.execute("PRAGMA freelist_count").fetchone()[0]
    return int(size * (pages - free))


def seeded(database: str) -> tuple[int, int]:
    """(residents, days) of the seed, refusing a database bench/seed.py did not fill."""
    if is_postgres(database):
        import psycopg

        with psycopg.connect(database) as conn:
            row = conn.execute("SELECT residents, days FROM bench_seed").fetchone()
    else:
        with sqlite3.connect(database) as conn:
            row = conn.execute("SELECT residents, days FROM bench_seed").fetchone()
    if row is None:
        raise SystemExit(f"{database}: not a history seeded by bench/seed.py")
    return int(row[0]), int(row[1])


def gib(size: float) -> str:
    return f"{size / 2**30:.2f} GiB"


async def nights(database: str, count: int) -> list[Night]:
    """The purge of the night before the seed's end less `count` days (the catch-up), then of
    each night after it (each a day), as the scheduler runs it (care/privacy/retention.py)."""
    found = []
    async with bench_ground("history", database) as ground, in_process(ground) as app:
        services = app.app[SERVICES]
        for night in range(count + 1):
            at = END - timedelta(days=count - night)
            app.clock.set(at)
            wall, cpu = time.perf_counter(), time.process_time()
            deleted = await retention.purge(services)
            found.append(Night(at, time.perf_counter() - wall, time.process_time() - cpu, deleted))
    return found


def backup_and_restore(database: Path) -> dict[str, float]:
    """`mimamori backup` and `mimamori restore` (their functions), and a plain copy of the
    same file beside them: the disk's own speed, the reference."""
    folder = Path(tempfile.mkdtemp(prefix="mimamori-history-", dir=database.parent))
    try:
        copy, restored, plain = folder / "backup.db", folder / "restored.db", folder / "plain.db"
        wall = time.perf_counter()
        shutil.copyfile(database, plain)
        plain_seconds = time.perf_counter() - wall
        with sqlite3.connect(plain) as conn:
            # The backup checks that the copy holds only what mimamori makes: the seed's own
            # record is not, so the plain copy without it is what is backed up.
            conn.execute("DROP TABLE bench_seed")
        wall = time.perf_counter()
        take_backup(plain, copy)
        backup_seconds = time.perf_counter() - wall
        plain.unlink()
        # Onto no database: over one, restore first backs it up (the backup's time again).
        wall = time.perf_counter()
        restore(copy, restored, datetime.now(UTC))
        restore_seconds = time.perf_counter() - wall
        return {
            "plain copy": plain_seconds,
            "backup": backup_seconds,
            "restore": restore_seconds,
            "backup size": float(os.path.getsize(copy)),
        }
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main(database: str, count: int) -> None:
    residents, days = seeded(database)
    postgres = is_postgres(database)
    print(f"seeded history              {residents} residents × {days} days")
    if not postgres:
        path = Path(database)
        print(f"on disk before the purge     {gib(sqlite_bytes(path))}")
    done = asyncio.run(nights(database, count))
    for night in done:
        rounds = night.deleted.get("rounds", 0)
        kind = "catch-up" if night is done[0] else "a night  "
        per = f", {night.cpu / rounds * 1e6:.0f} µs CPU a round" if rounds else ""
        print(
            f"purge {kind} {night.at:%Y-%m-%d}  {night.seconds:7.1f} s wall, {night.cpu:6.1f} s"
            f" CPU: {rounds} rounds{per}; "
            + ", ".join(f"{k} {v}" for k, v in night.deleted.items() if v and k != "rounds")
        )
    if not postgres:
        path = Path(database)
        print(
            f"on disk after                {gib(sqlite_bytes(path))}"
            f" (pages holding rows: {gib(sqlite_used_bytes(path))}; freed pages take new rows)"
        )
        found = backup_and_restore(path)
        print(
            f"backup                       {found['backup']:.1f} s, {gib(found['backup size'])};"
            f" restore {found['restore']:.1f} s; a plain copy of the file"
            f" {found['plain copy']:.1f} s (the reference): backup"
            f" {found['backup'] / found['plain copy']:.1f} ×,"
            f" restore {found['restore'] / found['plain copy']:.1f} ×"
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS (the app, this process) {peak:.0f} MB")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", required=True, help="a seeded SQLite file or postgresql://")
    parser.add_argument("--nights", type=int, default=3, help="nights of steady state measured")
    arguments = parser.parse_args()
    main(arguments.database, arguments.nights)
