"""How fast a city's 07:00 wave leaves, what CPU it costs, and how fast the webhook answers OK
taps.

Runs the real app against a minimal fake LINE on loopback, a process of its own (LINE forbids
load tests against its platform). Prints the wave's CPU (this process, every thread: the app's
sweep and its sends) beside a bare sender's in the same run, a loop that only builds and posts
the same multicasts to the same stand-in (bench/bare_sender.py); and its wall time beside
LINE's own floor (multicasts at 200 a second). Asserts nothing about time.

    .venv/bin/python -m bench.wave --residents 100000 --taps 500
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import statistics
import time
from dataclasses import replace
from datetime import datetime, timedelta

import uvloop
from aiohttp import ClientSession, web

from bench.bare_sender import measured
from bench.inprocess import SECRET, InProcess, in_process, post_event, signed
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
from storage.database import POSTGRESQL, Connection, to_db
from tests import line_webhook as hook


async def main(residents: int, taps: int, database: str | None, loop: str) -> None:
    async with bench_ground("wave", database) as ground, line_apart() as line_url:
        await _wave(replace(ground, line_url=line_url), residents, taps, loop)


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

    clock.set(due)
    engine = app[ENGINE]
    cpu = time.process_time()
    hour = time.monotonic()  # the sweep wakes at 07:00
    await engine.plan_due()
    planned = time.monotonic() - hour
    await engine.deliver()
    await engine.idle()
    wave_cpu = time.process_time() - cpu
    line = await counted(ground.line_url)
    wave = line["last_accepted"] - hour
    floor = line["multicasts"] / MULTICASTS_PER_SECOND
    bare = await bare_sender(app, ground, loop)
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

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    engine = "PostgreSQL" if database else "SQLite"
    print(f"residents due at 07:00      {residents} (seeded in {seeded:.2f} s), {engine}")
    print(f"all rounds and check-ins recorded {planned:.2f} s after the hour")
    per_recipient = wave_cpu / residents * 1e6
    bare_per_recipient = bare["cpu"] / residents * 1e6
    print(
        f"CPU for the wave (headline) {wave_cpu:.2f} s mimamori, every thread"
        f" ({per_recipient:.1f} µs a resident); a bare sender of the same"
        f" {bare['multicasts']:.0f} multicasts {bare['cpu']:.2f} s"
        f" ({bare_per_recipient:.1f} µs a resident): {wave_cpu / bare['cpu']:.1f} ×"
    )
    print(
        f"                            floor: the writes a durable wave cannot skip, bare"
        f" ({durable:.2f} s, {durable / residents * 1e6:.1f} µs a resident) are"
        f" {durable / bare['cpu']:.1f} × the bare sender; mimamori spends"
        f" {wave_cpu / (durable + bare['cpu']):.1f} × the two together"
    )
    print(
        f"LINE accepted the last of   {line['multicasts']:.0f} multicasts"
        f" ({line['recipients']:.0f} recipients) {wave:.2f} s after the hour"
    )
    print(
        f"LINE's floor for them       {floor:.2f} s ({MULTICASTS_PER_SECOND} multicasts a second):"
        f" the wave took {wave / floor:.1f} x the floor"
    )
    print(f"over LINE's limits (429)    {line['refused']:.0f} requests")
    print(f"peak RSS (this process)     {peak:.0f} MB")
    print(
        f"webhook OK taps             {taps}, answered in p50 "
        f"{statistics.median(latencies):.1f} ms, p95 "
        f"{statistics.quantiles(latencies, n=20)[18]:.1f} ms, max {max(latencies):.1f} ms"
    )


async def bare_sender(app: web.Application, ground: BenchGround, loop: str) -> dict[str, float]:
    """The wave's multicasts, as the outbox kept them, posted again by bench/bare_sender.py
    (a process of its own, on the same event loop as this one): its CPU and what LINE took."""
    async with app[SERVICES].reading_repositories() as repos:
        sent = await repos.conn.fetch_all(
            "SELECT recipients, messages, retry_key FROM outbox WHERE state = 'sent' ORDER BY id"
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
    args = parser.parse_args()
    running = main(args.residents, args.taps, args.database, args.loop)
    if args.loop == "uvloop":
        uvloop.run(running)
    else:
        asyncio.run(running)
