"""A stand-in for the LINE platform on loopback: the Messaging API, LINE Login's token check
and the LIFF SDK. It records every call, checks each against LINE's own OpenAPI file, keeps
LINE's retry-key rules, and answers 429, 500 or 409 when told to.

The tests use it as their fake LINE; `mimamori demo` uses it as the LINE that the simulator's
people talk to. The bot talks to it over HTTP exactly as it talks to LINE.
"""

from __future__ import annotations

from aiohttp import web

from simulator.line.login import LoginApi
from simulator.line.messaging import MessagingApi
from simulator.line.rich_menus import RichMenuApi
from simulator.line.state import PlatformState
from simulator.line.webhook import WebhookApi


class LinePlatform(PlatformState):
    """The stand-in's state (simulator/line/state.py) served as LINE's hosts serve it: each area
    of the API a router of its own over the one state."""

    def make_app(self) -> web.Application:
        app = web.Application()
        for area in (MessagingApi(self), WebhookApi(self), RichMenuApi(self), LoginApi(self)):
            app.add_routes(area.routes())
        return app
