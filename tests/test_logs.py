"""Log lines: the route and never the secret; one JSON object per line when asked."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer

from ground.clock import FakeClock
from ground.logs import JsonFormatter, MaskingFilter, RouteAccessLogger, setup_logging
from ground.settings import Settings
from server.app import create_app
from tests.conftest import Bot
from tests.drivers import Page, create_team, invite_qr
from tests.fake_line import FakeLine


@pytest.fixture
async def logged_bot(
    settings: Settings, clock: FakeClock, fake_line: FakeLine
) -> AsyncIterator[tuple[Bot, io.StringIO]]:
    """The bot as `mimamori serve` runs it at DEBUG: every log line, the access log included."""
    written = io.StringIO()
    before = logging.getLogger().handlers[:], logging.getLogger().level
    named = ("aiohttp.access", "aiosqlite", "apscheduler")
    levels = {name: logging.getLogger(name).level for name in named}
    setup_logging("DEBUG")
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(written)
    logging.getLogger("aiohttp.access").setLevel(logging.DEBUG)
    app = create_app(settings, clock=clock, run_scheduler=False)
    server = TestServer(app)
    await server.start_server(access_log_class=RouteAccessLogger)
    client = TestClient(server)
    await client.start_server()
    yield Bot(client, app, clock, fake_line, settings), written
    await client.close()
    logging.getLogger().handlers[:], level = before
    logging.getLogger().setLevel(level)
    for name, named_level in levels.items():
        logging.getLogger(name).setLevel(named_level)


async def test_no_code_token_or_personal_detail_reaches_a_log_line(
    logged_bot: tuple[Bot, io.StringIO],
) -> None:
    bot, written = logged_bot
    uid = await bot.follow("resident")
    codes = await create_team(bot, uid, "家族", as_user=True)
    assert (await invite_qr(bot, codes["manager"])).status == 200
    page = Page(bot, uid, "resident")
    assert (await page.call("POST", "/liff/api/terms", {}))[0] == 200
    personal = {"full_name": "見守 花子", "phone": "090-1234-5678", "birth_date": "1948-04-01"}
    assert (await page.call("PUT", "/liff/api/me/personal", personal))[0] == 200
    assert (await page.call("PUT", "/liff/api/me/memo", {"memo": "鍵は植木鉢の下"}))[0] == 200
    await page.call("GET", "/liff/api/me", Authorization="Bearer forged.token.value")

    log = written.getvalue()
    assert "GET /invites/{code}.png 200" in log, "the route is logged"
    secrets = [
        codes["manager"],
        codes["user"],
        page.token,
        bot.settings.channel_access_token,
        "090-1234-5678",
        "1948-04-01",
        "鍵は植木鉢の下",
        "見守 花子",
        uid,
    ]
    for secret in secrets:
        assert secret not in log, secret


def test_a_message_that_carries_a_secret_is_masked() -> None:
    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "call %s on %s", None, None)
    record.args = ("Bearer abcdefghijklmnop", "090-1234-5678")
    MaskingFilter().filter(record)
    assert "abcdefghijklmnop" not in record.getMessage()
    assert "090-1234-5678" not in record.getMessage()
    record.msg, record.args = "user U" + "0" * 32 + " sent eyJhbGciOi.eyJzdWIi.c2ln", None
    MaskingFilter().filter(record)
    assert "eyJ" not in record.getMessage() and "U000" not in record.getMessage()


def test_json_lines_for_log_collectors() -> None:
    record = logging.LogRecord("mimamori", logging.ERROR, __file__, 1, "sweep %s", ("late",), None)
    line = json.loads(JsonFormatter().format(record))
    assert line["level"] == "ERROR" and line["message"] == "sweep late"
    assert line["logger"] == "mimamori" and line["time"].endswith("+00:00")
