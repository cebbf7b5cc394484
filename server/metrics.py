"""GET /metrics: Prometheus' text format, for the operator's monitoring and no one else."""

from __future__ import annotations

import hmac
from datetime import datetime, timedelta
from ipaddress import ip_address

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot.dispatch import DISPATCHER, EventDispatcher
from care.health import Cause
from care.services import SERVICES, Services


def allowed(request: web.Request, services: Services) -> bool:
    """The bearer token, or a request straight from an allowed network. A request that came
    through a reverse proxy (X-Forwarded-For) arrives from the proxy's address, often
    loopback: only the token lets it in."""
    settings = services.settings
    sent = request.headers.get("Authorization", "")
    if settings.metrics_token and hmac.compare_digest(
        sent.encode(), f"Bearer {settings.metrics_token}".encode()
    ):
        return True
    if "X-Forwarded-For" in request.headers or "Forwarded" in request.headers:
        return False
    try:
        remote = ip_address(request.remote or "")
    except ValueError:
        return False
    return any(remote in network for network in settings.metrics_networks)


async def metrics(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    if not allowed(request, services):
        raise web.HTTPForbidden(text="metrics: not from an allowed network, and no valid token")
    await read_service_health(services, request.app[DISPATCHER])
    return web.Response(
        body=generate_latest(services.metrics.registry),
        headers={"Content-Type": CONTENT_TYPE_LATEST, "Cache-Control": "no-store"},
    )


async def read_service_health(services: Services, dispatcher: EventDispatcher) -> None:
    now = services.clock.now()
    local = now.astimezone(services.timezone)
    month_start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    async with services.reading() as work:
        health = await work.repos.stats.service_health(month_start)
        forwards = await work.repos.forwards.backlog()
        set_aside = await work.repos.handled.set_aside_count()
        alarms = {alarm.cause for alarm in await work.repos.alarms.open()}
    m = services.metrics
    m.outbox_pending.set(health["outbox_pending"])
    m.outbox_oldest.set(_age(now, health["outbox_oldest"]))
    m.outbox_failed.set(health["outbox_failed"])
    m.forwards_waiting.set(forwards[0])
    m.forwards_oldest_waiting.set(_age(now, forwards[1]))
    m.forwards_given_up.set(forwards[2])
    waiting, oldest_waiting = await dispatcher.backlog()
    m.events_waiting.set(waiting)
    m.events_oldest_waiting.set(_age(now, oldest_waiting))
    m.events_set_aside.set(set_aside)
    for cause in Cause:
        m.alarms.labels(cause.value).set(1 if cause in alarms else 0)
    for state in ("open", "resent", "alerted", "answered", "cancelled"):
        m.rounds.labels(state).set(health["rounds"].get(state, 0))
    for step, count in health["steps"].items():
        m.round_steps.labels(step).set(count)
    m.open_alerts.set(health["open_alerts"])
    m.oldest_alert.set(_age(now, health["oldest_alert"]))
    m.quota_used.set(health["quota_used"])


def _age(now: datetime, since: datetime | None) -> float:
    return max((now - since) / timedelta(seconds=1), 0.0) if since else 0.0
