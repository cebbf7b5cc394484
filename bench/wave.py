"""How fast a city's 07:00 wave leaves, and how fast the webhook answers OK taps.

Runs the real app against a minimal fake LINE on loopback (LINE forbids load tests against
its platform). Prints its figures beside LINE's own floor for the wave (multicasts at 200 a
second); asserts nothing about time.

    .venv/bin/python -m bench.wave --residents 100000 --taps 500
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import time

from aiohttp import ClientSession

from bench.inprocess import SECRET, InProcess, in_process, post_event, signed
from bench.standins import (
    MULTICASTS_PER_SECOND,
    BenchGround,
    add_database_option,
    bench_ground,
)
from care.checkins import ok_postback
from care.schedule import Schedule, first_due
from care.services import SERVICES
from ground.postback import PostbackCodec
from scheduler.engine import ENGINE
from storage.database import to_db
from tests import line_webhook as hook


async def main(residents: int, taps: int, database: str | None) -> None:
    async with bench_ground("wave", database) as ground:
        await _wave(ground, residents, taps)


async def _wave(ground: BenchGround, residents: int, taps: int) -> None:
    async with in_process(ground) as bot:
        await _wave_in(bot, ground, residents, taps)


async def _wave_in(bot: InProcess, ground: BenchGround, residents: int, taps: int) -> None:
    line, database = ground.line, ground.database
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
    hour = time.perf_counter()  # the sweep wakes at 07:00
    await engine.plan_due()
    planned = time.perf_counter() - hour
    await engine.deliver()
    await engine.idle()
    wave = line.last_accepted - hour
    floor = line.multicasts / MULTICASTS_PER_SECOND

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
    print(
        f"LINE accepted the last of   {line.multicasts} multicasts ({line.recipients} recipients)"
        f" {wave:.2f} s after the hour"
    )
    print(
        f"LINE's floor for them       {floor:.2f} s ({MULTICASTS_PER_SECOND} multicasts a second):"
        f" the wave took {wave / floor:.1f} x the floor"
    )
    print(f"over LINE's limits (429)    {line.refused} requests")
    print(f"peak RSS (this process)     {peak:.0f} MB")
    print(
        f"webhook OK taps             {taps}, answered in p50 "
        f"{statistics.median(latencies):.1f} ms, p95 "
        f"{statistics.quantiles(latencies, n=20)[18]:.1f} ms, max {max(latencies):.1f} ms"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--residents", type=int, default=20000)
    parser.add_argument("--taps", type=int, default=500)
    add_database_option(parser)
    args = parser.parse_args()
    asyncio.run(main(args.residents, args.taps, args.database))
