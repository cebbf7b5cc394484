"""What the benchmarks run against: a stand-in LINE that answers like LINE, counts what it
took and holds senders to LINE's published limits; a work folder; and, on request, a private
PostgreSQL cluster made for the run."""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import ClientSession, web

if TYPE_CHECKING:
    from tests.postgres import PostgresServer

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

    def __init__(self, latency: float = 0.0, count_latency: float = 0.0) -> None:
        self.latency = latency
        self.count_latency = count_latency  # a group's member count: LINE across a network
        self.counts_asked = 0
        self.replied_at: dict[str, float] = {}  # reply token -> when LINE took the reply
        self._replied: dict[str, asyncio.Event] = {}
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
        app.router.add_get("/v2/bot/group/{chat}/members/count", self.member_count)
        app.router.add_get("/v2/bot/room/{chat}/members/count", self.member_count)
        app.router.add_get("/bench/counts", self.counts)
        return app

    async def counts(self, request: web.Request) -> web.Response:
        """What it took, for a benchmark that runs it as a process of its own (`apart`)."""
        return web.json_response(
            {
                "multicasts": self.multicasts,
                "recipients": self.recipients,
                "replies": self.replies,
                "refused": self.refused,
                "last_accepted": self.last_accepted,
            }
        )

    async def reply_taken(self, token: str) -> float:
        """When LINE took the reply with this token (waiting for it)."""
        await self._replied.setdefault(token, asyncio.Event()).wait()
        return self.replied_at[token]

    async def member_count(self, request: web.Request) -> web.Response:
        self.counts_asked += 1
        if self.count_latency:
            await asyncio.sleep(self.count_latency)
        return web.json_response({"count": 5})

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
        self.last_accepted = time.monotonic()  # one clock for every process
        return web.json_response({})

    async def reply(self, request: web.Request) -> web.Response:
        body = await request.json()
        refused = await self._limited(request)
        if refused is not None:
            return refused
        self.replies += 1
        self.replied_at[body["replyToken"]] = time.perf_counter()
        self._replied.setdefault(body["replyToken"], asyncio.Event()).set()
        if self.replies >= self.replies_expected:
            self.all_replied.set()
        return web.json_response({"sentMessages": [{"id": "1"}]})


@asynccontextmanager
async def line_apart() -> AsyncIterator[str]:
    """The stand-in LINE as a process of its own, so that its CPU is not counted with the
    server's when both would share a process (bench/wave.py); -> its base URL (`counted`
    asks what it took)."""
    import sys

    from tests.rush import free_port

    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.standins", "--port", str(port)
    )
    url = f"http://127.0.0.1:{port}"
    try:
        async with ClientSession() as session:
            for _ in range(200):
                try:
                    async with session.get(f"{url}/bench/counts") as answer:
                        if answer.status == 200:
                            break
                except OSError:
                    pass
                await asyncio.sleep(0.05)
        yield url
    finally:
        process.terminate()
        await process.wait()


async def counted(line_url: str) -> dict[str, float]:
    """What the stand-in LINE at `line_url` took so far (`CountingLine.counts`)."""
    async with ClientSession() as session, session.get(f"{line_url}/bench/counts") as answer:
        return dict(await answer.json())


def start_durable_postgres() -> PostgresServer:
    """A private cluster as a deployment would run it: fsync and synchronous commit on."""
    # Imported only here: psycopg would count in the peak memory a SQLite wave reports.
    from tests.postgres import PostgresServer, binaries

    bindir = binaries()
    if bindir is None:
        raise SystemExit("PostgreSQL is not installed (Debian: apt-get install postgresql)")
    server = PostgresServer(bindir, durable=True)
    server.start()
    return server


def add_database_option(parser: argparse.ArgumentParser) -> None:
    """--database, as every benchmark takes it."""
    parser.add_argument(
        "--database",
        help="a postgresql:// URL of an empty database, or `postgres` for a private cluster"
        " (default: an SQLite file)",
    )


@dataclass(frozen=True)
class BenchGround:
    line: CountingLine
    line_url: str
    workdir: Path
    database: str | None  # a postgresql:// URL or a seed's SQLite file; None: a file in `workdir`


@asynccontextmanager
async def bench_ground(
    name: str, database: str | None, line_latency: float = 0.0, count_latency: float = 0.0
) -> AsyncIterator[BenchGround]:
    """The stand-in LINE serving, a work folder, and the database: `database` None (SQLite),
    a postgresql:// URL of an empty database, or `postgres` for a private cluster."""
    os.environ["NO_PROXY"] = "127.0.0.1,localhost"
    line = CountingLine(latency=line_latency, count_latency=count_latency)
    runner, line_url = await line.start()
    workdir = Path(tempfile.mkdtemp(prefix=f"mimamori-{name}-"))
    postgres = None
    try:
        if database == "postgres":
            postgres = start_durable_postgres()
            database = postgres.fresh_database(name)
        yield BenchGround(line, line_url, workdir, database)
    finally:
        await runner.cleanup()
        if postgres is not None:
            postgres.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="the stand-in LINE, as a process of its own")
    parser.add_argument("--port", type=int, required=True)
    arguments = parser.parse_args()
    web.run_app(CountingLine().app(), host="127.0.0.1", port=arguments.port, print=None)
