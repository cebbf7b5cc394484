"""The console cannot be locked by a stranger: behind the shipped proxy the failed-login limit
counts the client, not the proxy; it counts per address and per address and name, never per
account alone; and an unknown name answers exactly as a known one."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from ipaddress import ip_address, ip_network

import pytest
from aiohttp.test_utils import TestClient

from admin.auth import FORWARDED_WARNINGS, LoginGate
from ground.client_address import parse_address
from tests.conftest import Bot
from tests.drivers import CSRF, PASSWORD, add_admin

STRANGER, ADMIN = "203.0.113.5", "198.51.100.7"


async def login_from(
    client: TestClient, forwarded: str | None, name: str = "city-staff", password: str = PASSWORD
) -> tuple[int, str]:
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    page = await (await client.get("/admin/login", headers=headers)).text()
    token = CSRF.search(page)
    assert token is not None
    form = {"name": name, "password": password, "csrf_token": token.group(1)}
    response = await client.post("/admin/login", data=form, headers=headers)
    return response.status, await response.text()


def without_tokens(page: str) -> str:
    return re.sub(r'value="[^"]*"', "", page)


async def behind_proxy(start_bot: Callable[..., Awaitable[Bot]]) -> Bot:
    return await start_bot(trusted_proxies=(ip_network("127.0.0.1/32"), ip_network("::1/128")))


async def test_behind_the_proxy_a_stranger_locks_out_only_themselves(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    bot = await behind_proxy(start_bot)
    await add_admin(bot)
    for n in range(20):
        assert (await login_from(bot.client, STRANGER, name=f"guess-{n}"))[0] == 401
    for _ in range(5):
        await login_from(bot.client, STRANGER, password="wrong")
    assert (await login_from(bot.client, STRANGER))[0] == 429
    # The admin, through the same proxy from elsewhere, is not locked out.
    assert (await login_from(bot.client, ADMIN))[0] == 200
    # A client's own X-Forwarded-For is not believed: the proxy's last hop is.
    forged = f"{ADMIN}, {STRANGER}"
    assert (await login_from(bot.client, forged))[0] == 429


async def test_without_a_trusted_proxy_the_header_changes_nothing(bot: Bot) -> None:
    await add_admin(bot)
    for n in range(5):
        await login_from(bot.client, f"192.0.2.{n}", password="wrong")
    assert (await login_from(bot.client, ADMIN))[0] == 429, "one peer, whatever it claims"


async def test_an_unknown_name_answers_exactly_as_a_known_one(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    bot = await behind_proxy(start_bot)
    await add_admin(bot)
    known = [await login_from(bot.client, STRANGER, password="wrong") for _ in range(6)]
    unknown = [await login_from(bot.client, ADMIN, name="nobody") for _ in range(6)]
    assert [status for status, _ in known] == [status for status, _ in unknown]
    assert [s for s, _ in known] == [401] * 5 + [429]
    assert without_tokens(known[0][1]) == without_tokens(unknown[0][1])
    assert without_tokens(known[-1][1]) == without_tokens(unknown[-1][1])


@pytest.mark.parametrize(
    ("written", "address"),
    [
        ("203.0.113.5", "203.0.113.5"),
        (" 203.0.113.5:41234 ", "203.0.113.5"),
        ("::ffff:203.0.113.5", "203.0.113.5"),
        ("[::ffff:203.0.113.5]:443", "203.0.113.5"),
        ("2001:db8::1", "2001:db8::1"),
        ("[2001:db8::1]", "2001:db8::1"),
        ("[2001:db8::1]:8443", "2001:db8::1"),
        ("unknown", None),
        ("_hidden", None),
        ("203.0.113.5:", None),
        ("203.0.113.5:http", None),
        ("[2001:db8::1", None),
        ("[2001:db8::1]443", None),
        ("[2001:db8::1]:x", None),
        ("", None),
    ],
)
def test_a_forwarded_hop_is_read_as_its_address(written: str, address: str | None) -> None:
    assert parse_address(written) == (ip_address(address) if address else None)


async def test_an_ipv4_mapped_address_counts_as_its_ipv4_address(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    bot = await behind_proxy(start_bot)
    await add_admin(bot)
    for _ in range(5):
        await login_from(bot.client, f"::ffff:{STRANGER}", password="wrong")
    assert (await login_from(bot.client, STRANGER))[0] == 429, "the same client"
    # Every other IPv4 client written the mapped way is not in the stranger's bucket.
    assert (await login_from(bot.client, f"::ffff:{ADMIN}"))[0] == 200


async def test_a_port_on_a_forwarded_address_makes_no_new_bucket(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    bot = await behind_proxy(start_bot)
    await add_admin(bot)
    for n in range(5):
        await login_from(bot.client, f"{STRANGER}:{40000 + n}", password="wrong")
    assert (await login_from(bot.client, f"{STRANGER}:50000"))[0] == 429
    assert (await login_from(bot.client, STRANGER))[0] == 429
    for n in range(5):
        await login_from(bot.client, f"[2001:db8::{n + 1}]:{40000 + n}", password="wrong")
    assert (await login_from(bot.client, "[2001:db8::99]"))[0] == 429, "the same /64"
    assert (await login_from(bot.client, "2001:db8::7"))[0] == 429
    assert (await login_from(bot.client, f"{ADMIN}:443"))[0] == 200


async def test_a_forwarded_entry_that_is_no_address_counts_as_the_proxy(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    bot = await behind_proxy(start_bot)
    await add_admin(bot)
    for n in range(5):
        await login_from(bot.client, f"junk-{n}", password="wrong")
    assert (await login_from(bot.client, "junk-new"))[0] == 429, "no fresh bucket per entry"
    assert (await login_from(bot.client, f"{STRANGER}, unknown"))[0] == 429
    assert (await login_from(bot.client, ADMIN))[0] == 200, "a readable client is its own"


async def test_forwarded_from_a_peer_that_is_no_proxy_is_ignored_and_logged_once(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    await add_admin(bot)

    def warnings() -> list[str]:
        return [
            r.getMessage()
            for r in caplog.records
            if r.levelno == logging.WARNING and "X-Forwarded-For" in r.getMessage()
        ]

    with caplog.at_level(logging.WARNING):
        for n in range(3):
            await login_from(bot.client, f"192.0.2.{n}", password="wrong")
        assert len(warnings()) == 1, "once per peer, not once per request"
        assert "127.0.0.1" in warnings()[0] and "MIMAMORI_TRUSTED_PROXIES" in warnings()[0]
        await login_from(bot.client, None, password="wrong")
        assert len(warnings()) == 1, "no header, no warning"
        await login_from(bot.client, "192.0.2.9", password="wrong")
        # Ignored: all five failures counted against the peer, whatever the header claimed.
        assert (await login_from(bot.client, "192.0.2.200"))[0] == 429
        assert len(warnings()) == 1
        bot.clock.advance(timedelta(minutes=61))
        await login_from(bot.client, "192.0.2.9", password="wrong")
        assert len(warnings()) == 2, "said again after an hour"


def test_a_spray_of_peers_cannot_flood_the_log(caplog: pytest.LogCaptureFixture) -> None:
    gate, now = LoginGate(), datetime(2025, 1, 1, tzinfo=UTC)
    with caplog.at_level(logging.WARNING, logger="mimamori.console"):
        for n in range(FORWARDED_WARNINGS * 3):
            gate.untrusted_forwarded(f"192.0.2.{n}", f"192.0.2.{n}", "x\nforged line", now)
        assert len(caplog.records) == FORWARDED_WARNINGS
        assert "no more such warnings" in caplog.records[-1].getMessage()
        assert all("\n" not in r.getMessage() for r in caplog.records), "no forged log line"
        gate.untrusted_forwarded("192.0.2.200", "192.0.2.200", "x", now + timedelta(hours=2))
        assert len(caplog.records) == FORWARDED_WARNINGS + 1


async def test_a_claim_of_https_from_a_peer_that_is_no_proxy_is_not_believed(
    bot: Bot, start_bot: Callable[..., Awaitable[Bot]], caplog: pytest.LogCaptureFixture
) -> None:
    """X-Forwarded-Proto from anyone but a trusted proxy would mark the session cookie Secure
    (or not) on a client's say-so: ignored, and logged like X-Forwarded-For."""
    claims_https = {"X-Forwarded-Proto": "https"}
    with caplog.at_level(logging.WARNING, logger="mimamori.console"):
        page = await bot.client.get("/admin/login", headers=claims_https)
    assert "secure" not in page.headers["Set-Cookie"].lower(), "taken for plain HTTP"
    said = [r.getMessage() for r in caplog.records]
    assert len(said) == 1 and "X-Forwarded-Proto" in said[0]
    assert "MIMAMORI_TRUSTED_PROXIES" in said[0]
    proxied = await behind_proxy(start_bot)
    page = await proxied.client.get("/admin/login", headers=claims_https)
    assert "secure" in page.headers["Set-Cookie"].lower(), "the proxy is believed"
