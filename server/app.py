"""The application factory: the surfaces (webhook and chat, My page, the admin console, the
scheduler) over one services object, in one process."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager

from aiohttp import web
from linebot.v3.webhook import WebhookParser

from admin.routes import setup_admin
from bot.dispatch import DISPATCHER, EventDispatcher
from bot.features import build_router
from bot.forwarding import FORWARDER, Forwarder
from bot.webhook import LANDING, PARSER, Landing, callback
from care.services import SERVICES, Services
from ground.channels import Channel
from ground.clock import Clock
from ground.i18n import I18n
from ground.line_api import LineApi
from ground.line_channel import LineChannel
from ground.mail import Mailer
from ground.settings import Settings
from ground.voice import TwilioVoice
from liff.routes import setup_liff
from phone.calls import setup_calls
from phone.devices import setup_devices
from scheduler import rich_menus
from scheduler.delivery import OutboxDelivery
from scheduler.engine import ENGINE, CheckinEngine
from scheduler.heartbeat import Heartbeat
from scheduler.heat import HeatPoller
from scheduler.quakes import QuakePoller
from scheduler.storms import StormPoller
from scheduler.watch import WATCH, HealthWatch
from server.metrics import metrics
from storage.database import database_for

log = logging.getLogger("mimamori.app")
RICH_MENUS_AT_START = web.AppKey("rich_menus_at_start", asyncio.Task)

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; img-src 'self'; frame-ancestors 'none'",
}


def create_app(
    settings: Settings,
    *,
    clock: Clock,
    run_scheduler: bool = True,
    channels: Sequence[Channel] = (),
) -> web.Application:
    """Build the app; nothing is opened until it starts (see the cleanup contexts).
    `channels` reach people beside LINE (each a renderer and a sender: ground.channels)."""
    # Read the locales now: a broken override stops start-up before anything opens.
    I18n.load(settings.timezone, settings.locale_overrides)
    app = web.Application(client_max_size=settings.max_webhook_body)
    app[PARSER] = WebhookParser(settings.channel_secret)
    app.cleanup_ctx.append(_services(settings, clock, channels))
    app.cleanup_ctx.append(_surfaces(run_scheduler))
    app.on_response_prepare.append(_security_headers)
    app.router.add_post("/callback", callback)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/livez", livez)
    app.router.add_get("/metrics", metrics)
    setup_liff(app)
    setup_admin(app)
    setup_calls(app)
    setup_devices(app)
    return app


def _services(
    settings: Settings, clock: Clock, channels: Sequence[Channel]
) -> Callable[[web.Application], AsyncIterator[None]]:
    async def context(app: web.Application) -> AsyncIterator[None]:
        async with open_services(settings, clock, channels) as services:
            app[SERVICES] = services
            yield

    return context


@asynccontextmanager
async def open_services(
    settings: Settings, clock: Clock, channels: Sequence[Channel] = ()
) -> AsyncIterator[Services]:
    """The database and the LINE client, put together once as the services (the server,
    and the commands that act at LINE)."""
    db = database_for(settings.database)
    await db.open()
    phone = _voice(settings)
    try:
        async with LineApi.opened(
            settings.line_api_base_url,
            settings.channel_access_token,
            settings.instances,
            settings.strict_transactions,
        ) as line:
            i18n = I18n.load(settings.timezone, settings.locale_overrides)
            line_channel = LineChannel(line, i18n)
            services = Services.build(settings, db, line, clock, [line_channel, *channels, *phone])
            line.on_lookup_failed = lambda lookup: services.metrics.lookups_failed.labels(
                lookup
            ).inc()
            yield services
    finally:
        for voice in phone:
            await voice.close()
        await db.close()


def _voice(settings: Settings) -> list[TwilioVoice]:
    """Twilio's calls, where the deployment set them up (MIMAMORI_TWILIO_*)."""
    if not settings.calls:
        return []
    assert settings.twilio_account_sid and settings.twilio_auth_token and settings.twilio_from
    assert settings.public_url is not None
    return [
        TwilioVoice(
            settings.twilio_account_sid,
            settings.twilio_auth_token,
            settings.twilio_from,
            settings.public_url,
            settings.twilio_api_base_url,
            strict=settings.strict_transactions,
        )
    ]


def _surfaces(run_scheduler: bool) -> Callable[[web.Application], AsyncIterator[None]]:
    async def context(app: web.Application) -> AsyncIterator[None]:
        services = app[SERVICES]
        quakes = QuakePoller(services) if services.settings.jma_areas else None
        storms = StormPoller(services) if services.settings.storm_areas else None
        heat_feeds = HeatPoller(services) if services.settings.heat_areas else None
        engine = CheckinEngine(
            services, OutboxDelivery(services), quakes, storms=storms, heat_feeds=heat_feeds
        )
        # On a city's shared account, with mimamori in front: the events that are not its own
        # go on to the city's system (bot.forwarding).
        forwarder = Forwarder(services) if services.settings.forward_url else None
        dispatcher = EventDispatcher(services, build_router(), forwarder)
        app[ENGINE], app[DISPATCHER], app[LANDING] = engine, dispatcher, Landing(services)
        engine.after_sweep(dispatcher.submit)
        if forwarder is not None:
            app[FORWARDER] = forwarder
            engine.after_sweep(forwarder.wake)
        await dispatcher.replay_unprocessed()
        heartbeat = Heartbeat(services)
        heartbeat.after_beat(dispatcher.after_beat)
        app[WATCH] = watch = HealthWatch(services, engine, _mailer(services.settings))
        if run_scheduler:
            engine.start()
            heartbeat.start()
            watch.start()
        menus = None
        if services.settings.rich_menu_at_start:
            menus = asyncio.get_running_loop().create_task(_rich_menus_at_start(services))
            app[RICH_MENUS_AT_START] = menus
        yield
        if menus is not None and not menus.done():
            menus.cancel()
        await watch.stop()
        await heartbeat.stop()
        await dispatcher.stop()
        await engine.stop()
        if forwarder is not None:
            await forwarder.stop()

    return context


async def _rich_menus_at_start(services: Services) -> None:
    """MIMAMORI_RICH_MENU=1: made once, in the background; start-up never waits on it."""
    async with services.reading() as work:
        if await work.repos.rich_menus.installed():
            return
    try:
        made = await rich_menus.install(services)
    except Exception:
        log.exception("rich menus not made at start-up; run `mimamori richmenu` to see why")
        return
    log.info("rich menus made: %s", ", ".join(made))


def _mailer(settings: Settings) -> Mailer | None:
    """The operator's e-mail, where the deployment set up SMTP (MIMAMORI_SMTP_*)."""
    if settings.smtp is None:
        return None
    return Mailer(settings.smtp, strict=settings.strict_transactions)


async def livez(request: web.Request) -> web.Response:
    """This instance can take requests (its database answers): what a load balancer and the
    container's HEALTHCHECK ask. Whatever troubles the whole service (LINE refusing, say)
    is /healthz's to tell: taking every instance out of the pool would only add to it."""
    if await request.app[SERVICES].db.ping():
        return web.json_response({"status": "ok"})
    return web.json_response({"status": "database unavailable"}, status=503)


async def healthz(request: web.Request) -> web.Response:
    """The service as an operator's monitor asks: 200 and {"status": "ok"} when it does its
    work; 503 with {"status": "degraded", "causes": [...]} while LINE refuses its sends or
    the sweeps are behind (care.health), or {"status": "database unavailable"}."""
    services = request.app[SERVICES]
    if not await services.db.ping():
        return web.json_response({"status": "database unavailable"}, status=503)
    async with services.reading_repositories() as repos:
        alarms = await repos.alarms.open()
    if not alarms:
        return web.json_response({"status": "ok"})
    causes = [{"cause": a.cause, "since": a.raised_at.isoformat()} for a in alarms]
    return web.json_response({"status": "degraded", "causes": causes}, status=503)


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.path.startswith("/liff/api/"):
        # Personal data: no browser or proxy keeps a copy.
        response.headers["Cache-Control"] = "no-store"
    if request.scheme == "https" or request.headers.get("X-Forwarded-Proto") == "https":
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
