"""Doors anyone may knock on (a device's URL, an invite's QR image) refuse a stranger cheaply:
a request past the per-address rate is refused before anything is looked at, a URL the service
never gave out is refused by its seal with no transaction, and one client behind the proxy
cannot use up another's allowance."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from ipaddress import ip_network
from urllib.parse import urlsplit

from ground.address_limits import AddressLimit, PerAddress
from tests.conftest import Bot
from tests.drivers import Page, create_team, invite_qr, watched_resident

PROXY = (ip_network("127.0.0.1/32"), ip_network("::1/128"))


def test_the_limit_refills_with_time_and_forgets_the_oldest_address() -> None:
    limit, now = AddressLimit(PerAddress(3, timedelta(minutes=1)), tracked=2), datetime.now(UTC)
    assert [limit.allow("a", now) for _ in range(4)] == [True, True, True, False]
    assert limit.allow("a", now + timedelta(seconds=20)), "a third of a minute: one more"
    assert not limit.allow("a", now + timedelta(seconds=21))
    limit.allow("b", now)
    limit.allow("c", now)  # a third address: "a", heard of longest ago, is forgotten
    assert limit.allow("a", now + timedelta(seconds=21)), "forgotten, so new"
    assert AddressLimit(PerAddress(0, timedelta(minutes=1))).allow("a", now), "0: no limit"


async def test_device_pings_past_the_rate_are_refused_per_client(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    bot = await start_bot(device_pings_per_address=5, trusted_proxies=PROXY)
    stranger = {"X-Forwarded-For": "203.0.113.5"}
    guesses = [
        (await bot.client.post(f"/ping/guess-{n}", headers=stranger)).status for n in range(7)
    ]
    assert guesses == [404] * 5 + [429] * 2
    answer = await bot.client.post("/ping/guess", headers=stranger)
    assert answer.status == 429 and answer.headers["Retry-After"] == "60"
    neighbour = {"X-Forwarded-For": "198.51.100.7"}
    assert (await bot.client.post("/ping/guess", headers=neighbour)).status == 404, "its own"
    bot.clock.advance(timedelta(minutes=1))
    assert (await bot.client.post("/ping/guess", headers=stranger)).status == 404, "refilled"


async def test_an_invite_qr_needs_the_seal_the_service_gave_it(bot: Bot) -> None:
    uid = await bot.follow("resident")
    codes = await create_team(bot, uid, "家族", as_user=True)
    assert (await invite_qr(bot, codes["user"])).status == 200
    code = codes["user"]
    for guessed in (f"/invites/{code}.png", f"/invites/{code}.png?seal={'A' * 22}"):
        assert (await bot.client.get(guessed)).status == 404, "a real code, but no true seal"
    async with bot.services.unit_of_work():  # the writer is held (a long sweep, say)
        guess = bot.client.get(f"/invites/ABCD.png?seal={'A' * 22}")
        # Answered at once: refusing a guess waits for no transaction.
        assert (await asyncio.wait_for(guess, timeout=5)).status == 404


async def test_invite_qr_images_past_the_rate_are_refused(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    bot = await start_bot(invite_qr_per_address=3)
    uid = await bot.follow("resident")
    codes = await create_team(bot, uid, "家族", as_user=True)
    statuses = [(await invite_qr(bot, codes["user"])).status for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    bot.clock.advance(timedelta(seconds=20))
    assert (await invite_qr(bot, codes["user"])).status == 200


async def test_guesses_from_a_shared_address_do_not_shut_out_the_real_devices_behind_it(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    """A meter service's cloud pings for many residents from one address: a flood of guessed
    URLs from there is held in a bucket of its own, and the real devices still get through."""
    bot = await start_bot(device_pings_per_address=5)
    resident, _ = await watched_resident(bot, "resident", ["son"])
    page = Page(bot, resident, "resident")
    await page.accept_terms()
    status, body = await page.call(
        "POST", "/liff/api/me/devices", {"label": "玄関", "counts_as_ok": False}
    )
    assert status == 200
    door = urlsplit(body["url"]).path
    guesses = [(await bot.client.post(f"/ping/guess-{n}")).status for n in range(8)]
    assert guesses[-1] == 429
    assert (await bot.client.post(door)).status == 204, "the real device still gets through"
