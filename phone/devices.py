"""The URL a device calls with a sign of life (GET or POST, no body needed: a smart plug's
webhook, a Home Assistant `rest_command`, a meter service). 204 when taken, 404 for a URL that
is unknown or revoked, 429 sooner than a minute after the last; nothing changes unless 204."""

from __future__ import annotations

from aiohttp import web

from care import devices
from care.errors import Refusal, Refused
from care.services import SERVICES

TOKEN_LIMIT = 100  # characters: a token is 43, anything far longer is refused unread


def setup_devices(app: web.Application) -> None:
    path = f"{devices.PING_PATH}/{{token}}"
    app.router.add_get(path, ping)
    app.router.add_post(path, ping)


async def ping(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    token = request.match_info["token"]
    if len(token) > TOKEN_LIMIT:
        raise web.HTTPNotFound()
    try:
        async with services.unit_of_work() as work:
            taken = await devices.ping(work, token)
    except Refused as refused:
        services.metrics.pings.labels(refused.reason.value).inc()
        if refused.reason is Refusal.TOO_OFTEN:
            raise web.HTTPTooManyRequests(headers={"Retry-After": "60"}) from None
        raise web.HTTPNotFound() from None
    services.metrics.pings.labels("answered" if taken.answered else "taken").inc()
    return web.Response(status=204)
