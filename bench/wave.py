"""How fast a city's 07:00 wave leaves, and how fast the webhook answers OK taps.

Runs the real app against a minimal fake LINE on loopback (LINE forbids load tests against
its platform). Prints its figures beside LINE's own floor for the wave (multicasts at 200 a
second); asserts nothing about time.

    .venv/bin/python -m bench.wave --residents 100000 --taps 500
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import tempfile
import time
from collections import deque
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import ClientSession, web

from bot.app import create_app
from care.checkins import ok_postback
from care.schedule import Schedule, first_due
from care.services import SERVICES
from ground.clock import FakeClock
from ground.postback import PostbackCodec
from ground.settings import Settings
from scheduler.engine import ENGINE
from storage.database import to_db
from tests import line_webhook as hook

SECRET = "bench-secret"
MULTICASTS_PER_SECOND = 200  # LINE's published rate limits
REPLIES_PER_SECOND = 2000
PUSHES_PER_SECOND = 2000


class Window:
    """Requests accepted in the last second, held to LINE's published limit: over it, LINE
    answers 429."""

    def __init__(self, per_second: int) -> None:
        self.per_second = per_second
        self._times: deque[float] = deque()

    def admit(self) -> bool:
        now = time.perf_counter()
        while self._times and self._times[0] <= now - 1.0:
            self._times.popleft()
        if len(self._times) >= self.per_second:
            return False
        self._times.append(now)
        return True


class CountingLine:
    """Answers like LINE, counts, and validates nothing (the tests do that). It holds senders
    to LINE's published rate limits (429 past them) and can take `latency` seconds to answer,
    as LINE does from across a network."""

    def __init__(self, latency: float = 0.0) -> None:
        self.latency = latency
        self.refused = 0  # 429s: more than LINE's limit in one second
        self._windows = {
            "/v2/bot/message/multicast": Window(MULTICASTS_PER_SECOND),
            "/v2/bot/message/push": Window(PUSHES_PER_SECOND),
            "/v2/bot/message/reply": Window(REPLIES_PER_SECOND),
        }
        self.multicasts = 0
        self.recipients = 0
        self.replies = 0
        self.replies_expected = 0
        self.last_accepted = 0.0
        self.all_replied = asyncio.Event()

    async def start(self) -> tuple[web.AppRunner, str]:
        """Serve on a free loopback port; -> (the runner to clean up, the base URL)."""
        runner = web.AppRunner(self.app())
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return runner, f"http://127.0.0.1:{port}"

    def app(self) -> web.Application:
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_post("/v2/bot/message/multicast", self.multicast)
        app.router.add_post("/v2/bot/message/push", self.multicast)
        app.router.add_post("/v2/bot/message/reply", self.reply)
        return app

    async def _limited(self, request: web.Request) -> web.Response | None:
        """LINE's answer when the request is over its limit (None: taken), after the
        network's delay."""
        if self.latency:
            await asyncio.sleep(self.latency)
        if self._windows[request.path].admit():
            return None
        self.refused += 1
        return web.json_response({"message": "Too many requests"}, status=429)

    async def multicast(self, request: web.Request) -> web.Response:
        body = await request.json()
        refused = await self._limited(request)
        if refused is not None:
            return refused
        self.multicasts += 1
        self.recipients += len(body["to"]) if isinstance(body["to"], list) else 1
        self.last_accepted = time.perf_counter()
        return web.json_response({})

    async def reply(self, request: web.Request) -> web.Response:
        await request.read()
        refused = await self._limited(request)
        if refused is not None:
            return refused
        self.replies += 1
        if self.replies >= self.replies_expected:
            self.all_replied.set()
        return web.json_response({"sentMessages": [{"id": "1"}]})


async def main(residents: int, taps: int, database: str | None) -> None:
    os.environ["NO_PROXY"] = "127.0.0.1,localhost"
    line = CountingLine()
    runner, line_url = await line.start()
    workdir = Path(tempfile.mkdtemp(prefix="mimamori-bench-"))
    postgres = None
    if database == "postgres":
        from bench.taps import start_durable_postgres

        postgres = start_durable_postgres()
        database = postgres.fresh_database("wave")
    settings = Settings(
        channel_secret=SECRET,
        channel_access_token="bench",
        line_api_base_url=line_url,
        database=database or workdir / "bench.db",
    )
    clock = FakeClock(datetime(2026, 11, 23, 0, 0, tzinfo=UTC))
    app = create_app(settings, clock=clock, run_scheduler=False)
    bot_runner = web.AppRunner(app)
    await bot_runner.setup()
    bot_site = web.TCPSite(bot_runner, "127.0.0.1", 0)
    await bot_site.start()
    bot_port = bot_site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

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
            payload = hook.body(
                hook.postback(hook.user_id(f"r{number}"), data, clock.now()), validate=False
            )
            began = time.perf_counter()
            async with session.post(
                f"http://127.0.0.1:{bot_port}/callback",
                data=payload,
                headers={"X-Line-Signature": hook.sign(payload, SECRET)},
            ) as response:
                assert response.status == 200
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
    await bot_runner.cleanup()
    await runner.cleanup()
    if postgres is not None:
        postgres.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--residents", type=int, default=20000)
    parser.add_argument("--taps", type=int, default=500)
    parser.add_argument(
        "--database",
        help="a postgresql:// URL of an empty database, or `postgres` for a private cluster"
        " (default: an SQLite file)",
    )
    args = parser.parse_args()
    asyncio.run(main(args.residents, args.taps, args.database))
