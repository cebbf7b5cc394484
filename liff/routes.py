"""Where My page lives: the pages, their assets, the JSON API, and the ID token verifier."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from care.services import SERVICES
from ground.transactions import outside_only
from liff.api.app import api_app
from liff.auth import LIFF_DEAUTHORIZER, LIFF_VERIFIER, IdTokenVerifier, LoginDeauthorizer
from liff.invite_qr import setup_invite_qr
from liff.pages import PAGES, STATIC, banner, brand_css, page


def setup_liff(app: web.Application) -> None:
    app.cleanup_ctx.append(_verifier)
    for name, path in PAGES.items():
        app.router.add_get(path, page(name))
    app.router.add_get("/liff/brand.css", brand_css)
    app.router.add_get("/liff/banner", banner)
    app.router.add_static("/liff/static", STATIC)
    setup_invite_qr(app)
    app.add_subapp("/liff/api", api_app())


async def _verifier(app: web.Application) -> AsyncIterator[None]:
    settings = app[SERVICES].settings
    if settings.login_channel_id is None:
        # Without a LINE Login channel My page cannot know who calls: its API answers 503.
        yield
        return
    trace = outside_only("LINE Login", settings.strict_transactions)
    async with aiohttp.ClientSession(trace_configs=[trace]) as session:
        app[LIFF_VERIFIER] = IdTokenVerifier(
            session, settings.line_api_base_url, settings.login_channel_id, app[SERVICES].clock
        )
        if settings.login_channel_secret:
            # 退会 revokes the LIFF app's authorization; without the secret it cannot (logged).
            app[LIFF_DEAUTHORIZER] = LoginDeauthorizer(
                session,
                settings.line_api_base_url,
                settings.login_channel_id,
                settings.login_channel_secret,
            )
        yield
