"""How fast a city's 07:00 wave leaves, what CPU it costs, and how fast the webhook answers OK
taps.

Runs the real app against a minimal fake LINE on loopback, a process of its own (LINE forbids
load tests against its platform). Prints the wave's CPU (this process, every thread: the app's
sweep and its sends) beside a bare sender's in the same run, a loop that only builds and posts
the same multicasts to the same stand-in (bench/bare_sender.py); and its wall time beside
LINE's own floor (multicasts at 200 a second). Asserts nothing about time.

    .venv/bin/python -m bench.wave --residents 100000 --taps 500
    .venv/bin/python -m bench.wave --seeded /work/bench-data/seed.db --runs 3

With --seeded, the wave runs on a history bench/seed.py made (an SQLite file or a
postgresql:// URL, kept): the clock stands at the seed's earliest next check-in, so that one
slot (a third of its residents) is due at once, and nobody else. Each run starts from the
seed as it was: what a run wrote (its rounds, outbox rows and calls' rate facts, by id past
what the seed held, and the events a rush received) is deleted, each resident's next
check-in and the counts the triggers keep put back, in one transaction
(`SeededState.restore`), before the wave, before the durable floor and after it; on
PostgreSQL the tables written are vacuumed after. No OK taps here: bench/taps.py --seeded
measures the rush after this wave.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import signal
import statistics
import sys
import time
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import uvloop
from aiohttp import ClientSession, web

from bench.bare_sender import measured
from bench.inprocess import SECRET, InProcess, in_process, post_event, signed
from bench.seed import MARKER
from bench.standins import (
    MULTICASTS_PER_SECOND,
    BenchGround,
    add_database_option,
    bench_ground,
    counted,
    line_apart,
)
from care.rounds.checkins import ok_postback
from care.rounds.schedule import Schedule, first_due
from care.services import SERVICES
from ground.postback import PostbackCodec
from scheduler.engine import ENGINE, WAVE_BATCH
from storage.database import POSTGRESQL, Connection, from_db, is_postgres, to_db
from storage.transfer import TALLIES
from tests import line_webhook as hook


async def main(residents: int, taps: int, database: str | None, loop: str) -> None:
    async with bench_ground("wave", database) as ground, line_apart() as line_url:
        await _wave(replace(ground, line_url=line_url), residents, taps, loop)


async def main_seeded(target: str, runs: int, loop: str, profile: Path | None) -> None:
    """`runs` waves on the seed at `target`, each on the seed as it was."""
    for number in range(1, runs + 1):
        async with bench_ground("wave", target) as ground, line_apart() as line_url:
            ground = replace(ground, line_url=line_url)
            async with in_process(ground) as bot:
                print(f"run {number} of {runs}")
                await _seeded_run(bot, ground, loop, profile)


async def _wave(ground: BenchGround, residents: int, taps: int, loop: str) -> None:
    async with in_process(ground) as bot:
        await _wave_in(bot, ground, residents, taps, loop)


async def _wave_in(
    bot: InProcess, ground: BenchGround, residents: int, taps: int, loop: str
) -> None:
    database = ground.database
    app, clock = bot.app, bot.clock
    settings = app[SERVICES].settings
    schedule = Schedule(1, 7)
    due = first_due(schedule, clock.now(), settings.timezone)
    started = time.perf_counter()
    async with app[SERVICES].repositories() as repos:
        await repos.conn.executemany(
            "INSERT INTO members (line_user_id, display_name, language, registered_at,"
            " interval_days, checkin_hour, next_due_at) VALUES (?, ?, 'ja', ?, 1, 7, ?)",
            [
                (hook.user_id(f"r{n}"), f"resident {n}", to_db(clock.now()), to_db(due))
                for n in range(residents)
            ],
        )
    seeded = time.perf_counter() - started

    wave = await _measured_wave(bot, ground, due, loop)
    durable = await durable_floor(app, due)

    data = ok_postback(app[SERVICES], due)
    assert PostbackCodec(SECRET).decode(data) is not None
    latencies = []
    async with ClientSession() as session:
        for number in range(taps):
            event = signed(hook.postback(hook.user_id(f"r{number}"), data, clock.now()))
            began = time.perf_counter()
            await post_event(session, bot.url, event)
            latencies.append((time.perf_counter() - began) * 1000)
    await asyncio.sleep(0)

    print(
        f"residents due at 07:00      {residents} (seeded in {seeded:.2f} s), {_engine(database)}"
    )
    _print_wave(wave, residents, durable)
    print(
        f"webhook OK taps             {taps}, answered in p50 "
        f"{statistics.median(latencies):.1f} ms, p95 "
        f"{statistics.quantiles(latencies, n=20)[18]:.1f} ms, max {max(latencies):.1f} ms"
    )


async def _seeded_run(
    bot: InProcess, ground: BenchGround, loop: str, profile: Path | None
) -> None:
    app = bot.app
    seeded = SeededState(app)
    slot, due = await seeded.restore()
    wave = await _measured_wave(bot, ground, slot, loop, seeded.marks["outbox"], profile)
    opened = await seeded.opened()
    if opened != due:
        raise SystemExit(f"{opened} rounds opened, not one for each of the {due} due")
    await seeded.restore()
    began = time.monotonic()
    durable = await seeded_floor(app, slot)
    floor_wall = time.monotonic() - began
    await seeded.restore()
    local = slot.astimezone(app[SERVICES].settings.timezone)
    print(
        f"residents due at {local:%H:%M}      {due} (a seed of {seeded.described}),"
        f" {_engine(ground.database)}"
    )
    _print_wave(wave, due, durable)
    print(
        f"                            the floor's writes took {floor_wall:.2f} s of wall time"
        f" ({floor_wall / (wave['multicasts'] / MULTICASTS_PER_SECOND):.1f} × LINE's floor):"
        " one set after another, as the wave writes them"
    )
    after_wave, after_floor = seeded.took[-2:]
    print(
        f"put back as seeded          {after_wave:.2f} s after the wave,"
        f" {after_floor:.2f} s after the floor (one transaction{seeded.vacuumed})"
    )


async def _spy(output: Path) -> asyncio.subprocess.Process:
    """py-spy sampling this process, every thread and not only the one holding the
    interpreter (SQLite works without it, on aiosqlite's thread), in collapsed stacks (raw)."""
    found = Path(sys.executable).parent / "py-spy"
    process = await asyncio.create_subprocess_exec(
        str(found) if found.exists() else "py-spy",
        *("record", "--pid", str(os.getpid()), "--format", "raw", "--threads"),
        *("--rate", "100", "--output", str(output)),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    await asyncio.sleep(2)  # attached before the hour
    return process


def _engine(database: str | None) -> str:
    return "PostgreSQL" if database and is_postgres(database) else "SQLite"


async def _measured_wave(
    bot: InProcess,
    ground: BenchGround,
    due: datetime,
    loop: str,
    outbox_after: int = 0,
    profile: Path | None = None,
) -> dict[str, float]:
    """The sweep woken at `due` until LINE accepted the last multicast, then the bare
    sender of the same multicasts (the outbox's rows past `outbox_after`); sampled by py-spy
    into `profile` if given."""
    app, clock = bot.app, bot.clock
    clock.set(due)
    engine = app[ENGINE]
    spy = await _spy(profile) if profile else None
    cpu = time.process_time()
    hour = time.monotonic()  # the sweep wakes at 07:00
    await engine.plan_due()
    planned = time.monotonic() - hour
    await engine.deliver()
    await engine.idle()
    wave_cpu = time.process_time() - cpu
    if spy is not None:
        spy.send_signal(signal.SIGINT)
        await spy.wait()
    line = await counted(ground.line_url)
    bare = await bare_sender(app, ground, loop, outbox_after)
    return {
        "planned": planned,
        "cpu": wave_cpu,
        "wave": line["last_accepted"] - hour,
        "multicasts": line["multicasts"],
        "recipients": line["recipients"],
        "refused": line["refused"],
        "bare_cpu": bare["cpu"],
        "bare_multicasts": bare["multicasts"],
    }


def _print_wave(wave: dict[str, float], residents: int, durable: float) -> None:
    wave_cpu, bare_cpu = wave["cpu"], wave["bare_cpu"]
    floor = wave["multicasts"] / MULTICASTS_PER_SECOND
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"all rounds and check-ins recorded {wave['planned']:.2f} s after the hour")
    per_recipient = wave_cpu / residents * 1e6
    bare_per_recipient = bare_cpu / residents * 1e6
    print(
        f"CPU for the wave (headline) {wave_cpu:.2f} s mimamori, every thread"
        f" ({per_recipient:.1f} µs a resident); a bare sender of the same"
        f" {wave['bare_multicasts']:.0f} multicasts {bare_cpu:.2f} s"
        f" ({bare_per_recipient:.1f} µs a resident): {wave_cpu / bare_cpu:.1f} ×"
    )
    print(
        f"                            floor: the writes a durable wave cannot skip, bare"
        f" ({durable:.2f} s, {durable / residents * 1e6:.1f} µs a resident) are"
        f" {durable / bare_cpu:.1f} × the bare sender; mimamori spends"
        f" {wave_cpu / (durable + bare_cpu):.1f} × the two together"
    )
    print(
        f"LINE accepted the last of   {wave['multicasts']:.0f} multicasts"
        f" ({wave['recipients']:.0f} recipients) {wave['wave']:.2f} s after the hour"
    )
    print(
        f"LINE's floor for them       {floor:.2f} s ({MULTICASTS_PER_SECOND} multicasts a second):"
        f" the wave took {wave['wave'] / floor:.1f} x the floor"
    )
    print(f"over LINE's limits (429)    {wave['refused']:.0f} requests")
    print(f"peak RSS (this process)     {peak:.0f} MB")


async def bare_sender(
    app: web.Application, ground: BenchGround, loop: str, after: int = 0
) -> dict[str, float]:
    """The wave's multicasts (the outbox's rows sent, past id `after`), as the outbox kept
    them, posted again by bench/bare_sender.py (a process of its own, on the same event loop
    as this one): its CPU and what LINE took."""
    async with app[SERVICES].reading_repositories() as repos:
        sent = await repos.conn.fetch_all(
            "SELECT recipients, messages, retry_key FROM outbox WHERE state = 'sent' AND id > ?"
            " ORDER BY id",
            (after,),
        )
    bodies = ground.workdir / "wave-multicasts.jsonl"
    with bodies.open("w", encoding="utf-8") as out:
        for recipients, messages, retry_key in sent:
            body = {"to": json.loads(recipients), "messages": json.loads(messages)}
            out.write(json.dumps({**body, "retry_key": retry_key}, ensure_ascii=False) + "\n")
    return await measured(ground.line_url, ["--bodies", str(bodies)], loop)


async def durable_floor(app: web.Application, slot: datetime) -> float:
    """The CPU (this process, every thread) of the least a wave must write before it sends,
    as bare SQL in this run's database: per resident, their address read, their next check-in
    moved and a round row written (into a copy of checkin_rounds with all its indexes), set by
    set, in transactions of WAVE_BATCH residents, each committed as durably as the wave's."""
    services = app[SERVICES]
    async with services.repositories() as repos:
        await _copy_of_rounds(repos.conn)
    later, opened = to_db(slot + timedelta(days=2)), to_db(slot)
    cpu = time.process_time()
    last = 0
    while True:
        async with services.repositories() as repos:
            conn = repos.conn
            rows = await conn.fetch_all(
                "SELECT id, line_user_id FROM members WHERE id > ? ORDER BY id LIMIT ?",
                (last, WAVE_BATCH),
            )
            if not rows:
                return time.process_time() - cpu
            # By range, not by a list of ids: the least work this process can do a resident.
            batch = (last, rows[-1][0])
            await conn.execute(
                "UPDATE members SET next_due_at = ? WHERE id > ? AND id <= ?", (later, *batch)
            )
            await conn.execute(
                "INSERT INTO floor_rounds (member_id, slot_at, state, opened_at)"
                " SELECT id, ?, 'open', ? FROM members WHERE id > ? AND id <= ?",
                (opened, opened, *batch),
            )
        last = batch[1]


async def _copy_of_rounds(conn: Connection) -> None:
    """floor_rounds: checkin_rounds again, with its constraints and every index."""
    if conn.dialect == POSTGRESQL:
        # LIKE copies no foreign key; their checks are the database server's CPU, not ours.
        await conn.execute("CREATE TABLE floor_rounds (LIKE checkin_rounds INCLUDING ALL)")
        return
    for (sql,) in await conn.fetch_all(
        # Not its triggers: the tallies they keep (migration 0060) are the console's, not
        # what a wave cannot do without.
        "SELECT sql FROM sqlite_master WHERE tbl_name = 'checkin_rounds' AND sql IS NOT NULL"
        " AND type IN ('table', 'index') ORDER BY type DESC"  # the table before its indexes
    ):
        await conn.execute(sql.replace("checkin_rounds", "floor_rounds"))


# The tables a wave writes rows into (its rounds, its check-ins, a call's rate facts), in the
# order they are emptied of them (each names the next).
WRITTEN = ("call_attempts", "checkin_rounds", "outbox")


class SeededState:
    """The seed's state before a wave, kept beside it in two tables of this benchmark's own
    (`bench_wave_due`: who is due at the earliest slot, and when; `bench_wave_marks`: the
    largest id of each table a wave writes; `bench_wave_<tally>`: the counts migration 0060's
    triggers keep), and put back from them."""

    def __init__(self, app: web.Application) -> None:
        self._services = app[SERVICES]
        self.took: list[float] = []  # each time it was put back, in seconds
        self.described = ""
        self.vacuumed = ""
        self.marks: dict[str, int] = {}  # the largest id of each table in WRITTEN, as seeded

    async def restore(self) -> tuple[datetime, int]:
        """The seed as it was, kept (the first time) or put back; -> (the slot due, how
        many residents are due at it)."""
        began = time.perf_counter()
        async with self._services.repositories() as repos:
            conn = repos.conn
            seed = await conn.fetch_one(f"SELECT residents, days, seeded_at FROM {MARKER}")
            if seed is None or seed[2] is None:
                raise SystemExit("not a seed (bench/seed.py) or one interrupted")
            self.described = f"{seed[0]:,} residents × {seed[1]} days"
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS bench_wave_due"
                " (id INTEGER PRIMARY KEY, next_due_at TEXT NOT NULL)"
            )
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS bench_wave_marks"
                " (name TEXT PRIMARY KEY, largest BIGINT NOT NULL)"
            )
            first = not await self._marked(conn)
            if first:
                await self._keep(conn)
                await self._marked(conn)
            else:
                for table in WRITTEN:
                    await conn.execute(f"DELETE FROM {table} WHERE id > ?", (self.marks[table],))
                await conn.execute(
                    "UPDATE members SET next_due_at = d.next_due_at FROM bench_wave_due AS d"
                    " WHERE d.id = members.id AND members.next_due_at <> d.next_due_at"
                )
                # A rush's taps (bench/taps.py --seeded): the seed's history ends before its
                # earliest slot, so every event received since is the benchmark's.
                await conn.execute(
                    "DELETE FROM webhook_events WHERE received_at >= (SELECT MIN(next_due_at)"
                    " FROM bench_wave_due)"
                )
            for tally in TALLIES:
                # The counts the triggers kept as the seed was (as first seen by this
                # benchmark): a wave's messages and a rush's answers counted nowhere after.
                await conn.execute(
                    f"CREATE TABLE IF NOT EXISTS bench_wave_{tally} AS SELECT * FROM {tally}"
                )
                await conn.execute(f"DELETE FROM {tally}")
                await conn.execute(f"INSERT INTO {tally} SELECT * FROM bench_wave_{tally}")
            await conn.execute("DROP TABLE IF EXISTS floor_rounds")
            slot, due = await conn.fetch_one(
                "SELECT MAX(next_due_at), COUNT(*) FROM bench_wave_due"
            )
            (still,) = await conn.fetch_one(
                "SELECT COUNT(*) FROM members WHERE status = 'active' AND next_due_at <= ?",
                (slot,),
            )
            (open_rounds,) = await conn.fetch_one(
                "SELECT COUNT(*) FROM checkin_rounds WHERE state IN ('open', 'resent', 'alerted')"
            )
            if still != due or open_rounds:
                raise SystemExit(
                    f"not put back: {still} due where the seed had {due}, {open_rounds} open"
                )
        if conn.dialect == POSTGRESQL:
            await _vacuum(str(self._services.settings.database), whole=first)
            self.vacuumed = ", then VACUUM of the tables written"
        self.took.append(time.perf_counter() - began)
        moment = from_db(slot)
        if moment is None:
            raise SystemExit("nobody in the seed has a next check-in")
        return moment, int(due)

    async def _marked(self, conn: Connection) -> bool:
        rows = await conn.fetch_all("SELECT name, largest FROM bench_wave_marks")
        self.marks = {name: int(largest) for name, largest in rows}
        return bool(self.marks)

    async def opened(self) -> int:
        """Rounds opened since the seed."""
        async with self._services.reading_repositories() as repos:
            (count,) = await repos.conn.fetch_one(
                "SELECT COUNT(*) FROM checkin_rounds WHERE id > ?",
                (self.marks["checkin_rounds"],),
            )
        return int(count)

    async def _keep(self, conn: Connection) -> None:
        """Who is due at the earliest slot, and the largest ids, before any wave ran."""
        (open_rounds,) = await conn.fetch_one(
            "SELECT COUNT(*) FROM checkin_rounds WHERE state IN ('open', 'resent', 'alerted')"
        )
        if open_rounds:
            raise SystemExit("the seed has open rounds: a wave ran on it before this benchmark")
        await conn.execute(
            "INSERT INTO bench_wave_due (id, next_due_at) SELECT id, next_due_at FROM members"
            " WHERE status = 'active' AND next_due_at <= (SELECT MIN(next_due_at) FROM members"
            " WHERE status = 'active')"
        )
        for table in WRITTEN:
            await conn.execute(
                "INSERT INTO bench_wave_marks (name, largest)"
                f" SELECT '{table}', COALESCE(MAX(id), 0) FROM {table}"
            )


async def _vacuum(url: str, whole: bool) -> None:
    """What autovacuum would do between two mornings: the rows a run wrote and deleted
    vacuumed (the first time, the whole seed: its pages' hint bits and visibility set, as a
    database that has run a while has them)."""
    import psycopg

    tables = "" if whole else " " + ", ".join((*WRITTEN, "members"))
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await conn.execute(f"VACUUM (ANALYZE){tables}".encode())


async def seeded_floor(app: web.Application, slot: datetime) -> float:
    """`durable_floor` on a seed: the same least writes for the residents due at `slot`, read
    by the index the wave reads them by (in its order alone: on PostgreSQL a second key to
    order by sorts every resident still due, a batch at a time), their rounds written into
    checkin_rounds itself (a history's indexes, not an empty copy's), by sets of WAVE_BATCH
    named by their ids."""
    services = app[SERVICES]
    later, opened = to_db(slot + timedelta(days=2)), to_db(slot)
    cpu = time.process_time()
    while True:
        async with services.repositories() as repos:
            conn = repos.conn
            rows = await conn.fetch_all(
                "SELECT id, line_user_id FROM members WHERE status = 'active'"
                " AND next_due_at <= ? ORDER BY next_due_at LIMIT ?",
                (opened, WAVE_BATCH),
            )
            if not rows:
                return time.process_time() - cpu
            ids = [member_id for member_id, _ in rows]
            # One parameter (an array) on PostgreSQL; SQLite takes them as a list.
            postgres = conn.dialect == POSTGRESQL
            named = "= ANY(?)" if postgres else f"IN ({','.join('?' * len(ids))})"
            given = [ids] if postgres else ids
            await conn.execute(
                "INSERT INTO checkin_rounds (member_id, slot_at, state, opened_at)"
                f" SELECT id, ?, 'open', ? FROM members WHERE id {named}",
                (opened, opened, *given),
            )
            await conn.execute(
                f"UPDATE members SET next_due_at = ? WHERE id {named}", (later, *given)
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--residents", type=int, default=20000)
    parser.add_argument("--taps", type=int, default=500)
    add_database_option(parser)
    parser.add_argument(
        "--loop",
        choices=("uvloop", "asyncio"),
        default="uvloop",
        help="the event loop of the app and of the bare sender (the server's default: uvloop)",
    )
    parser.add_argument(
        "--seeded",
        metavar="PATH|URL",
        help="a seed bench/seed.py made (an SQLite file or a postgresql:// URL): its earliest"
        " slot's wave, on the seed as it was each run (--residents, --taps and --database unused)",
    )
    parser.add_argument("--runs", type=int, default=1, help="waves, each on the seed as it was")
    parser.add_argument(
        "--profile",
        type=Path,
        help="with --seeded: py-spy's samples of the wave (collapsed stacks) into this file",
    )
    args = parser.parse_args()
    if args.seeded:
        if args.seeded == "postgres":
            raise SystemExit("--seeded takes a seed that is kept: its file or its URL")
        running = main_seeded(args.seeded, args.runs, args.loop, args.profile)
    else:
        running = main(args.residents, args.taps, args.database, args.loop)
    if args.loop == "uvloop":
        uvloop.run(running)
    else:
        asyncio.run(running)
