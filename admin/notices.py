"""The console's お知らせ: a notice to everyone, some teams, some groups or one person, its
reach and cost previewed before it is recorded for the outbox."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from admin.access import OPERATOR, allow
from admin.auth import session_of
from admin.pages import audience_of, page, page_status, quota_forecast, refusal, team_choices
from admin.render import admin_locale, services_of
from care.broadcasts import reach
from care.broadcasts.notices import AUDIENCES, TEXT_LIMIT, plan_notice, record_notice
from care.broadcasts.reach import Reach
from care.errors import Refused
from ground.identifiers import row_ids


async def _notices_page(request: web.Request, form: Any = None) -> web.Response:
    """The form and the notices sent; `form`: one sent back without its audience, shown
    again as typed with the problem said (400)."""
    async with services_of(request).reading_repositories() as repos:
        sent = await repos.admin.notices()
        typed = form.getall("team_id", []) if form is not None else []
        teams = await team_choices(request, repos.stats, row_ids(typed))
        group_list = await repos.stats.groups()
    pending = any((n["rows_sent"] or 0) + (n["rows_failed"] or 0) < n["rows_total"] for n in sent)
    for notice in sent:
        # How it reached them, as its preview said (none kept for a notice sent before).
        notice["reach"] = Reach.from_json(json.loads(notice["audience_detail"]).get("reach"))
    context = {
        "notices": sent,
        **teams,
        "groups": group_list,
        "audiences": AUDIENCES,
        "audience_required": True,
        "pending": pending,
        "limit": TEXT_LIMIT,
        # The page is also drawn as the preview's answer (POST only): its search goes here.
        "team_search_at": "/admin/notices",
    }
    if form is None:
        return await page(request, "notices.html", context)
    context.update(
        audience_problem=True,
        typed=str(form.get("text", ""))[:TEXT_LIMIT],
        typed_teams={str(v) for v in form.getall("team_id", [])},
        typed_groups={str(v) for v in form.getall("group_id", [])},
        typed_member=str(form.get("member_id", ""))[:12],
    )
    return await page_status(request, "notices.html", context, 400)


@allow(OPERATOR)
async def notices(request: web.Request) -> web.Response:
    return await _notices_page(request)


def _notice_text(form: Any) -> str:
    text = str(form.get("text", "")).strip()
    if not text or len(text) > TEXT_LIMIT:
        raise web.HTTPBadRequest(text=f"the notice needs 1-{TEXT_LIMIT} characters")
    return text


@allow(OPERATOR)
async def preview_notice(request: web.Request) -> web.Response:
    form = await request.post()
    text = _notice_text(form)
    if form.get("audience") not in AUDIENCES:
        # Nobody chosen (the form preselects none): said beside the choice, the text kept.
        return await _notices_page(request, form)
    audience = audience_of(form)
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
