"""Where My page lives: the pages, their assets, the JSON API, and the ID token verifier."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from bot.appkeys import CLOCK, LIFF_VERIFIER, SETTINGS
from liff import api
from liff.auth import IdTokenVerifier
from liff.invite_qr import invite_qr
from liff.pages import PAGES, STATIC, banner, brand_css, page


def setup_liff(app: web.Application) -> None:
    app.cleanup_ctx.append(_verifier)
    for name, path in PAGES.items():
        app.router.add_get(path, page(name))
    app.router.add_get("/liff/brand.css", brand_css)
    app.router.add_get("/liff/banner", banner)
    app.router.add_static("/liff/static", STATIC)
    app.router.add_get("/invites/{code}.png", invite_qr)
    routes = [
        ("GET", "/liff/api/me", api.me),
        ("POST", "/liff/api/terms", api.accept_terms),
        ("PUT", "/liff/api/me/personal", api.save_personal),
        ("PUT", "/liff/api/me/schedule", api.save_schedule),
        ("POST", "/liff/api/me/pause", api.pause),
        ("POST", "/liff/api/me/resume", api.resume),
        ("POST", "/liff/api/me/stop", api.stop),
        ("POST", "/liff/api/me/withdraw", api.withdraw),
        ("GET", "/liff/api/members/{member_id}", api.member_view),
        ("GET", "/liff/api/teams", api.teams),
        ("POST", "/liff/api/teams", api.create_team),
        ("POST", "/liff/api/teams/{team_id}/rotate", api.rotate_invite),
        ("POST", "/liff/api/teams/{team_id}/leave", api.leave_team),
    ]
    for method, path, handler in routes:
        app.router.add_route(method, path, handler)


async def _verifier(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    if settings.login_channel_id is None:
        # Without a LINE Login channel My page cannot know who calls: its API answers 503.
        yield
        return
    async with aiohttp.ClientSession() as session:
        app[LIFF_VERIFIER] = IdTokenVerifier(
            session, settings.line_api_base_url, settings.login_channel_id, app[CLOCK]
        )
        yield
