"""暑い日の確認 on My page: whether she gets it (and whether the desk marked her), and her
choice; shown only where the city reads the heat alerts."""

from __future__ import annotations

from aiohttp import web

from care.broadcasts import heat
from liff.api.guard import CALLER, error, json_body, services_of

routes = web.RouteTableDef()


@routes.route("GET", "/me/heat")
async def heat_choice(request: web.Request) -> web.Response:
    services = services_of(request)
    async with services.reading() as work:
        opted_in, at_risk = await work.repos.heat.watch_of(request[CALLER].id)
    return web.json_response(
        {"offered": bool(services.settings.heat_areas), "opted_in": opted_in, "at_risk": at_risk}
    )


@routes.route("PUT", "/me/heat")
async def save_heat_choice(request: web.Request) -> web.Response:
    body = await json_body(request)
    opted_in = body.get("opted_in")
    if not isinstance(opted_in, bool):
        raise error(400, "opted_in_required")
    services = services_of(request)
    if not services.settings.heat_areas:
        raise error(409, "heat_not_offered")
    async with services.unit_of_work() as work:
        await heat.set_opted_in(work, request[CALLER], opted_in)
    return web.json_response({"ok": True, "opted_in": opted_in})
