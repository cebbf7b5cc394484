"""The console's お知らせ: a notice to everyone, some teams, some groups or one person, its
reach and cost previewed before it is recorded for the outbox."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from admin.access import OPERATOR, allow
from admin.auth import session_of
from admin.pages import audience_of, page, quota_forecast, refusal
from admin.render import admin_locale, services_of
from care.broadcasts import reach
from care.broadcasts.notices import AUDIENCES, TEXT_LIMIT, plan_notice, record_notice
from care.errors import Refused


@allow(OPERATOR)
async def notices(request: web.Request) -> web.Response:
    async with services_of(request).reading_repositories() as repos:
        sent = await repos.admin.notices()
        team_list = await repos.stats.teams()
        group_list = await repos.stats.groups()
    pending = any((n["rows_sent"] or 0) + (n["rows_failed"] or 0) < n["rows_total"] for n in sent)
    return await page(
        request,
        "notices.html",
        {
            "notices": sent,
            "teams": team_list,
            "groups": group_list,
            "audiences": AUDIENCES,
            "pending": pending,
            "limit": TEXT_LIMIT,
        },
    )


def _notice_text(form: Any) -> str:
    text = str(form.get("text", "")).strip()
    if not text or len(text) > TEXT_LIMIT:
        raise web.HTTPBadRequest(text=f"the notice needs 1-{TEXT_LIMIT} characters")
    return text


@allow(OPERATOR)
async def preview_notice(request: web.Request) -> web.Response:
    form = await request.post()
    text, audience = _notice_text(form), audience_of(form)
    sizes = await reach.group_sizes(services_of(request), audience.group_ids)
    async with services_of(request).reading() as work:
        plan = await plan_notice(work, audience, sizes)
    found = await quota_forecast(request)
    return await page(
        request,
        "preview.html",
        {
            "text": text,
            "plan": plan,
            "audience_json": json.dumps(audience.detail()),
            "forecast": found,
        },
    )


@allow(OPERATOR)
async def send_notice(request: web.Request) -> web.Response:
    form = await request.post()
    text, audience = _notice_text(form), audience_of(form)
    admin = session_of(request).admin.name
    forecast = await quota_forecast(request, fresh=True)
    left = forecast.left if forecast else None
    sizes = await reach.group_sizes(services_of(request), audience.group_ids)
    try:
        async with services_of(request).unit_of_work() as work:
            plan = await plan_notice(work, audience, sizes)
            outcome = await record_notice(work, plan, text, admin, left)
    except Refused as refused:
        raise refusal(request, refused) from None
    if isinstance(outcome, str):
        raise web.HTTPBadRequest(text=admin_locale(request).t(f"admin.notice_problem.{outcome}"))
    raise web.HTTPSeeOther("/admin/notices")


def add_routes(console: web.Application) -> None:
    add = console.router.add_route
    add("GET", "/notices", notices)
    add("POST", "/notices/preview", preview_notice)
    add("POST", "/notices/send", send_notice)
