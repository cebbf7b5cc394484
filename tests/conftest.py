from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.dispatch import DISPATCHER
from bot.forwarding import FORWARDER
from care.services import SERVICES, Services
from ground.channels import Channel
from ground.clock import FakeClock
from ground.postback import PostbackCodec
from ground.settings import Settings
from scheduler.engine import ENGINE
from server.app import create_app
from simulator.demo import Demo
from storage.repositories import Repositories
from tests import line_webhook as hook
from tests import wording
from tests.fake_line import Call, FakeLine, message_text, postbacks_in
from tests.fake_twilio import FakeTwilio
from tests.postgres import MISSING, PostgresServer, start_server

# The SDK's session trusts proxy variables; the fake LINE is on loopback.
os.environ["NO_PROXY"] = "127.0.0.1,localhost"
os.environ.pop("HTTP_PROXY", None)
os.environ.pop("HTTPS_PROXY", None)

SECRET = "test-channel-secret"
LOGIN_CHANNEL = "1650000000"
# Monday 2026-11-23 09:00 in Tokyo.
START = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)


@pytest.fixture
async def fake_line(aiohttp_server: Callable[..., Awaitable[TestServer]]) -> FakeLine:
    fake = FakeLine()
    server = await aiohttp_server(fake.make_app())
    fake.url = str(server.make_url("")).rstrip("/")
    yield fake
    assert fake.schema_errors == [], "requests LINE would refuse:\n" + "\n".join(
        fake.schema_errors
    )


# Every test that runs the bot runs on both engines, unless MIMAMORI_TEST_BACKENDS names one.
BACKENDS = [
    name.strip()
    for name in os.environ.get("MIMAMORI_TEST_BACKENDS", "sqlite,postgresql").split(",")
    if name.strip()
]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A private PostgreSQL cluster for the session (tests/postgres.py)."""
    server = start_server()
    if server is None:
        if os.environ.get("CI"):
            pytest.fail("CI must install Debian's postgresql (see .ci/run)")
        pytest.skip(MISSING)
    yield server
    server.stop()


@pytest.fixture(params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Path | str:
    """The bot's database: an SQLite file, or a fresh database on the PostgreSQL server."""
    if request.param == "postgresql":
        server: PostgresServer = request.getfixturevalue("postgres_server")
        return server.fresh_database()
    return tmp_path / "mimamori.db"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def settings(database: Path | str, fake_line: FakeLine, clock: FakeClock) -> Settings:
    fake_line.now = clock.now
    return Settings(
        channel_secret=SECRET,
        channel_access_token="test-access-token",
        line_api_base_url=fake_line.url,
        database=database,
        public_url="https://mimamori.example.jp",
        login_channel_id=LOGIN_CHANNEL,
        liff_id=f"{LOGIN_CHANNEL}-testliff",
        liff_sdk_url=f"{fake_line.url}/liff-sdk.js",
        locale_overrides=wording.REWORDED,
        strict_transactions=True,  # a LINE call inside a unit of work fails the test
        # Tests move the clock by hours between a staff member's pages; the console's idle end
        # (30 minutes in a deployment) is tested on its own (tests/test_console_signin.py).
        console_idle=timedelta(hours=8),
    )


@dataclass
class Bot:
    """The running app under test, driven the way LINE and time would drive it."""

    client: TestClient
    app: web.Application
    clock: FakeClock
    line: FakeLine
    settings: Settings
    # Each person's last event's reply token: which reply answered them.
    reply_tokens: dict[str, str] = field(default_factory=dict)

    @property
    def codec(self) -> PostbackCodec:
        return PostbackCodec(self.settings.channel_secret)

    async def post(self, *events: dict[str, Any], validate: bool = True) -> Any:
        for event in events:
            sender = event.get("source", {}).get("userId")
            if sender and "replyToken" in event:
                self.reply_tokens[sender] = event["replyToken"]
        payload = hook.body(*events, validate=validate)
        response = await self.client.post(
            "/callback",
            data=payload,
            headers={
                "X-Line-Signature": hook.sign(payload, SECRET),
                "Content-Type": "application/json",
            },
        )
        await self.settle()
        return response

    async def settle(self) -> None:
        """Wait for the handling the webhook started (no sleeping: the tasks are awaited)."""
        await self.app[DISPATCHER].idle()
        await self.app[ENGINE].idle()
        if FORWARDER in self.app:
            await self.app[FORWARDER].idle()

    async def sweep(self) -> None:
        await self.app[ENGINE].sweep()
        if FORWARDER in self.app:
            await self.app[FORWARDER].idle()

    async def advance(self, delta: timedelta) -> None:
        """Move time forward and let the scheduler's sweep act, as it would at that moment."""
        self.clock.advance(delta)
        await self.sweep()

    async def follow(self, name: str, language: str = "ja") -> str:
        uid = hook.user_id(name)
        self.line.add_profile(uid, name, language)
        await self.post(hook.follow(uid, self.clock.now()))
        return uid

    async def say(self, uid: str, words: str) -> None:
        await self.post(hook.text(uid, words, self.clock.now()))

    async def tap(self, uid: str, data: str) -> None:
        await self.post(hook.postback(uid, data, self.clock.now()))

    async def tap_action(self, uid: str, action: str, **fields: str | int) -> None:
        await self.tap(uid, self.codec.encode(action, **fields))

    def last_reply_postbacks(self, uid: str | None = None) -> list[dict[str, Any]]:
        """The buttons of the last reply, or with `uid`, of the reply to that person's last
        event (another chat's reply may have come after it)."""
        call = self.reply_to(uid) if uid else self.line.replies[-1]
        if call is None:
            return []
        return [a for m in call.body["messages"] for a in postbacks_in(m)]

    def reply_to(self, uid: str) -> Call | None:
        token = self.reply_tokens.get(uid)
        for call in reversed(self.line.replies):
            if call.body.get("replyToken") == token:
                return call
        return None

    async def tap_reply_button(self, uid: str, label: str) -> None:
        """Tap the button or quick reply labelled `label` in the reply to `uid`'s last event."""
        if self.reply_to(uid) is None and self.app[DISPATCHER].retry_pending:
            # A passing fault left the event stored for the dispatcher's next try: make that
            # try now rather than wait for its timer.
            self.app[DISPATCHER].submit()
            await self.settle()
        for action in self.last_reply_postbacks(uid):
            if action["label"] == label:
                await self.tap(uid, action["data"])
                return
        call = self.reply_to(uid)
        said = [message_text(m) for m in call.body["messages"]] if call else "no reply"
        raise AssertionError(f"no button {label!r} in the reply to {uid}: {said}")

    @property
    def services(self) -> Services:
        return self.app[SERVICES]

    def repos(self) -> AbstractAsyncContextManager[Repositories]:
        """A unit of work on the bot's database, for looking at (or setting up) rows."""
        return self.services.repositories()


@pytest.fixture
async def start_bot(
    settings: Settings, clock: FakeClock, fake_line: FakeLine
) -> AsyncIterator[Callable[..., Awaitable[Bot]]]:
    """Start the bot; call again to restart it on the same database (the old one stops)."""
    running: list[TestClient] = []

    async def start(channels: Sequence[Channel] = (), **changes: Any) -> Bot:
        if running:
            await running.pop().close()
        current = replace(settings, **changes) if changes else settings
        app = create_app(current, clock=clock, run_scheduler=False, channels=channels)
        client = TestClient(TestServer(app))
        await client.start_server()
        running.append(client)
        return Bot(client, app, clock, fake_line, current)

    yield start
    for client in running:
        await client.close()


CHROMIUM = Path("/usr/bin/chromium")
HAVE_CHROMIUM = CHROMIUM.exists()


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    """Debian's Chromium driven by Playwright (never a browser Playwright downloads)."""
    if not HAVE_CHROMIUM:
        if os.environ.get("CI"):
            pytest.fail("CI must install Debian's chromium (see .ci/run)")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield launched
        await launched.close()


@pytest.fixture
async def bot(start_bot: Callable[..., Awaitable[Bot]]) -> Bot:
    return await start_bot()


def free_port_pair() -> int:
    for _ in range(50):
        with socket.socket() as first:
            first.bind(("127.0.0.1", 0))
            port = first.getsockname()[1]
            with socket.socket() as second:
                try:
                    second.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
                return port
    raise RuntimeError("no two free ports in a row")


@pytest.fixture
async def demo(tmp_path: Path) -> AsyncIterator[Demo]:
    running = Demo(free_port_pair(), tmp_path / "demo.db", pace=0)
    await running.start()
    yield running
    await running.stop()
    assert running.platform.schema_errors == []


@pytest.fixture
async def twilio(
    aiohttp_server: Callable[..., Awaitable[TestServer]],
) -> AsyncIterator[FakeTwilio]:
    """A stand-in Twilio on loopback; at the end, no call it would have refused."""
    fake = FakeTwilio()
    server = await aiohttp_server(fake.make_app())
    fake.url = str(server.make_url("")).rstrip("/")
    yield fake
    assert fake.errors == [], "calls Twilio would refuse:\n" + "\n".join(fake.errors)
