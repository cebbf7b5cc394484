"""The URL a device calls with a sign of life (POST, no body needed: a smart plug's webhook, a
Home Assistant `rest_command`, a meter service). 204 when taken, 404 for a URL that is unknown
or revoked, 409 while she has not agreed to a device the desk linked for her, 429 sooner than a
minute after the last or past the per-address limit (counted in
memory before anything else); nothing changes unless 204.

Only POST: a link previewer or a crawler that opens a URL with GET never answers her check-in.
A URL nobody was given is refused before any transaction: a token carries its seal
(care.rounds.devices.sealed), and one made before seals is looked up only if it is among the hashes
read at start (none is made any more), so a flood of guessed URLs holds no writer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

from aiohttp import web

from care.errors import Refusal, Refused
from care.rounds import devices
from care.services import SERVICES
from ground.address_limits import KnockLimit, PerAddress
from ground.client_address import client_address

TOKEN_LIMIT = 100  # characters: a token is 65 (43 before seals); anything longer is refused
UNSEALED: web.AppKey[frozenset[str]] = web.AppKey("unsealed_device_tokens", frozenset)
PINGS_PER_ADDRESS = web.AppKey("device_pings_per_address", KnockLimit)


def setup_devices(app: web.Application) -> None:
    path = f"{devices.PING_PATH}/{{token}}"
    app.router.add_post(path, ping)
    app.cleanup_ctx.append(_unsealed)
    app.cleanup_ctx.append(_limit)


async def _limit(app: web.Application) -> AsyncIterator[None]:
    per_minute = app[SERVICES].settings.device_pings_per_address
    app[PINGS_PER_ADDRESS] = KnockLimit(PerAddress(per_minute, timedelta(minutes=1)))
    yield


async def _unsealed(app: web.Application) -> AsyncIterator[None]:
    """The devices linked before tokens were sealed, by their hashes (read once)."""
    async with app[SERVICES].reading_repositories() as repos:
        hashes = await repos.devices.live_token_hashes()
    app[UNSEALED] = frozenset(hashes)
    yield


def _may_be_ours(request: web.Request, token: str) -> bool:
    secret = request.app[SERVICES].settings.channel_secret
    if devices.sealed(secret, token):
        return True
    return len(token) == devices.RANDOM_LENGTH and (
        devices.token_hash(token) in request.app.get(UNSEALED, frozenset())
    )


async def ping(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    token = request.match_info["token"]
    ours = len(token) <= TOKEN_LIMIT and _may_be_ours(request, token)
    address = client_address(request, services.settings.trusted_proxies)
    if not request.app[PINGS_PER_ADDRESS].allow(address, services.clock.now(), ours):
        services.metrics.pings.labels("address_limit").inc()
        raise web.HTTPTooManyRequests(headers={"Retry-After": "60"})
    if not ours:
        services.metrics.pings.labels(Refusal.NO_SUCH_DEVICE.value).inc()
        raise web.HTTPNotFound()
    try:
        async with services.unit_of_work() as work:
            taken = await devices.ping(work, token)
    except Refused as refused:
        services.metrics.pings.labels(refused.reason.value).inc()
        if refused.reason is Refusal.TOO_OFTEN:
            raise web.HTTPTooManyRequests(headers={"Retry-After": "60"}) from None
        if refused.reason is Refusal.NO_CONSENT:
            raise web.HTTPConflict(text="waiting for the person's consent") from None
        raise web.HTTPNotFound() from None
    services.metrics.pings.labels("answered" if taken.answered else "taken").inc()
    return web.Response(status=204)
