"""The app itself in the benchmark's process, on a loopback port, with a fake clock: for the
benchmarks that drive its engine or console directly (bench/wave.py, bench/rollcall.py), where
bench/taps.py runs `mimamori serve` as a process of its own."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiohttp import ClientSession, web

from bench.standins import BenchGround
from ground.clock import FakeClock
from ground.settings import Settings
from server.app import create_app
from server.heap import freeze_startup_heap
from tests import line_webhook as hook

SECRET = "bench-secret"


@dataclass(frozen=True)
class InProcess:
    app: web.Application
    clock: FakeClock
    url: str  # http://127.0.0.1:{port}


@asynccontextmanager
async def in_process(ground: BenchGround, **configured: Any) -> AsyncIterator[InProcess]:
    """The app against the ground's stand-in LINE and database, its scheduler not running
    (the benchmark wakes the engine itself); `configured`: settings beside those (a desk, My
    page's LINE Login channel...)."""
    settings = Settings(
        channel_secret=SECRET,
        channel_access_token="bench",
        line_api_base_url=ground.line_url,
        database=ground.database or ground.workdir / "bench.db",
        **configured,
    )
    clock = FakeClock(datetime(2026, 11, 23, 0, 0, tzinfo=UTC))
    app = create_app(settings, clock=clock, run_scheduler=False)
    app.on_startup.append(freeze_startup_heap)  # as `mimamori serve` does
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield InProcess(app, clock, f"http://127.0.0.1:{port}")
    finally:
        await runner.cleanup()


Signed = tuple[bytes, dict[str, str]]


def signed(event: dict[str, Any]) -> Signed:
    """One webhook event as LINE sends it: its body and signature (made before the clock
    starts: what is timed is the server's part)."""
    payload = hook.body(event, validate=False)
    return payload, {"X-Line-Signature": hook.sign(payload, SECRET)}


async def post_event(session: ClientSession, url: str, event: Signed) -> None:
    """POST it to the app's webhook; LINE's 200 awaited."""
    payload, headers = event
    async with session.post(f"{url}/callback", data=payload, headers=headers) as response:
        assert response.status == 200
