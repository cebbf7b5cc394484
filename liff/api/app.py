"""The API as a sub-app under /liff/api: each feature's routes, behind the guard."""

from __future__ import annotations

from aiohttp import web

from liff.api import calls, cards, checkin, devices, heat, me, records, schedule, teams
from liff.api.guard import guard

FEATURES = (me, checkin, schedule, calls, devices, records, cards, teams, heat)


def api_app() -> web.Application:
    app = web.Application(middlewares=[guard])
    for feature in FEATURES:
        app.add_routes(feature.routes)
    return app
