"""Her linked devices (a kettle, a door sensor): linked with a secret URL shown once, revoked."""

from __future__ import annotations

from aiohttp import web

from care.rounds import devices
from liff.api.guard import CALLER, error, json_body, path_id, services_of

routes = web.RouteTableDef()


@routes.route("POST", "/me/devices")
async def link_device(request: web.Request) -> web.Response:
    """A device's secret URL, shown this once (only its hash is kept)."""
    body = await json_body(request)
    counts_as_ok = body.get("counts_as_ok")
    if not isinstance(counts_as_ok, bool):
        raise error(400, "invalid", "counts_as_ok")
    services = services_of(request)
    async with services.unit_of_work() as work:
        linked = await devices.link(
            work, request[CALLER], str(body.get("label") or ""), counts_as_ok
        )
    url = linked.url(services.settings.public_url or "")
    return web.json_response({"id": linked.device_id, "url": url})


@routes.route("DELETE", "/me/devices/{device_id}")
async def revoke_device(request: web.Request) -> web.Response:
    async with services_of(request).unit_of_work() as work:
        await devices.revoke(work, request[CALLER], path_id(request, "device_id"))
    return web.json_response({"ok": True})
