"""What troubles the whole service, at the top of every console page (care/health.py), and the
webhook events set aside after failing (care/set_aside.py): listed, and put back by staff."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from admin.access import OPERATOR, allow
from admin.auth import Handler, audit
from admin.render import HEALTH_KEY, SESSION_KEY, render, services_of
from care import set_aside
from storage.alarms import Alarm


@dataclass(frozen=True)
class ServiceHealth:
    alarms: list[Alarm]
    set_aside: int  # webhook events set aside, waiting for 再処理


@web.middleware
async def service_health(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every page a signed-in admin opens knows what troubles the service (the base template
    says it at the top); the login page tells a stranger nothing."""
    if SESSION_KEY in request:
        async with services_of(request).reading_repositories() as repos:
            alarms = await repos.alarms.open()
            count = await repos.handled.set_aside_count()
        request[HEALTH_KEY] = ServiceHealth(alarms, count)
    return await handler(request)


@allow(OPERATOR)
async def set_aside_page(request: web.Request) -> web.Response:
    async with services_of(request).reading() as work:
        events = await set_aside.listed(work)
    retried = request.query.get("retried", "")
    return render(
        request,
        "set_aside.html",
        {"events": events, "retried": int(retried) if retried.isdigit() else None},
    )


@allow(OPERATOR)
async def retry_set_aside(request: web.Request) -> web.StreamResponse:
    """再処理: every event set aside is handled again, in the order they came; audited."""
    count = await set_aside.put_back(services_of(request))
    await audit(request, "set_aside_retried", str(count))
    raise web.HTTPSeeOther(f"/admin/set-aside?retried={count}")


def add_routes(console: web.Application) -> None:
    console.router.add_get("/set-aside", set_aside_page)
    console.router.add_post("/set-aside/retry", retry_set_aside)
