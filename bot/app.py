"""The application factory: web server, LINE client and check-in engine in one process."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable

from aiohttp import web
from linebot.v3.messaging import AsyncApiClient
from linebot.v3.webhook import WebhookParser

from bot.admin.routes import setup_admin
from bot.appkeys import CLOCK, DB, DEPS, DISPATCHER, ENGINE, I18N, LINE, PARSER, SETTINGS
from bot.clock import Clock
from bot.deps import Deps
from bot.dispatch import EventDispatcher
from bot.features import build_router
from bot.i18n import I18n
from bot.line_api import LineApi
from bot.postback import PostbackCodec
from bot.settings import Settings
from bot.webhook import callback
from liff.routes import setup_liff
from scheduler.checkins import CheckinContext
from scheduler.delivery import OutboxDelivery
from scheduler.engine import CheckinEngine
from scheduler.ladder import LadderTimings
from storage.database import Database

log = logging.getLogger("mimamori.app")

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; img-src 'self'; frame-ancestors 'none'",
}


def create_app(settings: Settings, *, clock: Clock, run_scheduler: bool = True) -> web.Application:
    """Build the app; nothing is opened until it starts (see the cleanup contexts)."""
    app = web.Application(client_max_size=settings.max_webhook_body)
    app[SETTINGS] = settings
    app[CLOCK] = clock
    app[I18N] = I18n.load(settings.timezone, settings.locale_overrides)
    app[PARSER] = WebhookParser(settings.channel_secret)
    app.cleanup_ctx.append(_database)
    app.cleanup_ctx.append(_line_client)
    app.cleanup_ctx.append(_engine(run_scheduler))
    app.on_response_prepare.append(_security_headers)
    app.router.add_post("/callback", callback)
    app.router.add_get("/healthz", healthz)
    setup_liff(app)
    setup_admin(app)
    return app


async def _database(app: web.Application) -> AsyncIterator[None]:
    db = Database(app[SETTINGS].database)
    await db.open()
    app[DB] = db
    yield
    await db.close()


async def _line_client(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    configuration = LineApi.configuration(
        settings.line_api_base_url, settings.channel_access_token
    )
    # The SDK's aiohttp session must be made inside the running loop.
    async with AsyncApiClient(configuration) as client:
        app[LINE] = LineApi(client)
        yield


def _engine(run_scheduler: bool) -> Callable[[web.Application], AsyncIterator[None]]:
    async def context(app: web.Application) -> AsyncIterator[None]:
        settings = app[SETTINGS]
        postbacks = PostbackCodec(settings.channel_secret)
        engine = CheckinEngine(
            db=app[DB],
            delivery=OutboxDelivery(app[DB], app[LINE], app[CLOCK]),
            clock=app[CLOCK],
            context=CheckinContext(
                app[I18N],
                postbacks,
                settings.timezone,
                f"https://liff.line.me/{settings.liff_id}" if settings.liff_id else None,
            ),
            timings=LadderTimings(settings.resend_after, settings.alert_after),
            sweep_interval=settings.sweep_interval,
            group_report_after=settings.group_report_after,
            group_retention=settings.group_retention,
        )
        deps = Deps(
            settings=settings,
            db=app[DB],
            line=app[LINE],
            clock=app[CLOCK],
            i18n=app[I18N],
            postbacks=postbacks,
            engine=engine,
        )
        dispatcher = EventDispatcher(deps, build_router())
        app[ENGINE], app[DEPS], app[DISPATCHER] = engine, deps, dispatcher
        await dispatcher.replay_unprocessed()
        if run_scheduler:
            engine.start()
        yield
        await dispatcher.idle()
        await engine.stop()

    return context


async def healthz(request: web.Request) -> web.Response:
    if await request.app[DB].ping():
        return web.json_response({"status": "ok"})
    return web.json_response({"status": "database unavailable"}, status=503)


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
