"""The console cannot be locked by a stranger: behind the shipped proxy the failed-login limit
counts the client, not the proxy; it counts per address and per address and name, never per
account alone; and an unknown name answers exactly as a known one."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from ipaddress import ip_network

from aiohttp.test_utils import TestClient

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
    assert (await login_from(bot.client, forged, name="guess-x"))[0] == 429


async def test_without_a_trusted_proxy_the_header_changes_nothing(bot: Bot) -> None:
    await add_admin(bot)
    for n in range(20):
        await login_from(bot.client, f"192.0.2.{n}", name=f"guess-{n}")
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
