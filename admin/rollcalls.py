"""The console's 災害時の安否確認: start a roll-call (cost and quota shown first), follow the live
tally, close it, export the result."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiohttp import web

from admin.access import OPERATOR, allow
from admin.auth import audit, session_of
from admin.files import export_page, purposeful_csv
from admin.pages import audience_of, page, quota_forecast, read_tally, roll_call_of, team_choices
from admin.render import admin_locale, services_of
from care.broadcasts import budget, by_phone, reach, rollcall
from care.errors import Refused
from care.privacy import exports
from ground.identifiers import row_id

AUDIENCES = ("everyone", "teams", "groups")


def _settings(form: Any) -> dict[str, Any]:
    every, times, close = (
        row_id(form.get(n)) for n in ("resend_minutes", "resends", "close_hours")
    )
    return {
        "resend_every": timedelta(minutes=every) if every else None,
        "resends": min(times or 0, 10),
        "close_after": timedelta(hours=close) if close else None,
    }


@allow(OPERATOR)
async def roll_calls(request: web.Request) -> web.Response:
    async with services_of(request).reading_repositories() as repos:
        context = {
            "calls": await repos.rollcalls.recent(),
            "quakes": await repos.quakes.recent(
                services_of(request).clock.now() - timedelta(days=1)
            ),
            "storms": await repos.storms.recent(
                services_of(request).clock.now() - timedelta(days=1)
            ),
            "warning_name": lambda occasion: rollcall.warning_name(
                admin_locale(request), occasion
            ),
            **await team_choices(request, repos.stats),
            "groups": await repos.stats.groups(),
            "audiences": AUDIENCES,
        }
    return await page(request, "rollcalls.html", context)


@allow(OPERATOR)
async def preview(request: web.Request) -> web.Response:
    form = await request.post()
    audience = audience_of(form, AUDIENCES)
    sizes = await reach.group_sizes(services_of(request), audience.group_ids)
    async with services_of(request).reading() as work:
        found = await rollcall.plan(work, audience, sizes=sizes)
        calls_left = await by_phone.calls_left(work)
    forecast = await quota_forecast(request)
    left = forecast.left if forecast else None
    settings = _settings(form)
    reasks = settings["resends"] if settings["resend_every"] else 0
    return await page(
        request,
        "rollcall_preview.html",
        {
            "plan": found,
            # What it may cost: everyone asked once, and the silent again at each re-ask.
            "cost": budget.with_reasks(found.recipients, reasks),
            "reasks": reasks,
            "left": left,
            # The calls: each rung person once, and once more after the setting's wait.
            "calls_left": calls_left,
            "call_again_minutes": int(
                services_of(request).settings.rollcall_call_again.total_seconds() // 60
            ),
            "form": {k: form.getall(k) for k in form},
        },
    )


@allow(OPERATOR)
async def start(request: web.Request) -> web.Response:
    form = await request.post()
    audience = audience_of(form, AUDIENCES)
    forecast = await quota_forecast(request, fresh=True)
    left = forecast.left if forecast else None
    admin = session_of(request).admin.name
    sizes = await reach.group_sizes(services_of(request), audience.group_ids)
    try:
        async with services_of(request).unit_of_work() as work:
            found = await rollcall.plan(work, audience, sizes=sizes)
            roll_call_id = await rollcall.start(
                work,
                found,
                admin,
                surface="console",
                quota_left=left,
                partial=form.get("partial") == "yes",
                # 運用管理 declares a disaster (災害対策基本法 49条の11 第3項): the roster's
                # people are shown to those assigned to them while it is open.
                disaster=form.get("disaster") == "yes",
                **_settings(form),
            )
    except Refused as refused:
        locale = admin_locale(request)
        raise web.HTTPBadRequest(
            text=locale.t(f"rollcall.{refused.reason.value}", **refused.values)
        ) from None
    raise web.HTTPSeeOther(f"/admin/rollcalls/{roll_call_id}")


async def _found(request: web.Request) -> int:
    return (await roll_call_of(request)).id


@allow(OPERATOR)
async def live(request: web.Request) -> web.Response:
    """The live tally: counts by answer and area team, who asked for help with how to reach
    them, the silent, a timeline. The page reloads itself while the roll-call is open."""
    # People's answers and phone numbers are read: audited, once an hour per admin and
    # roll-call (the page reloads itself every few seconds while it is open).
    call, tally = await read_tally(
        request, lambda work, call: rollcall.tally(work, call.id), "rollcall_viewed", "rollcall"
    )
    return await page(request, "rollcall.html", {"call": call, "tally": tally})


@allow(OPERATOR)
async def close(request: web.Request) -> web.Response:
    roll_call_id = await _found(request)
    async with services_of(request).unit_of_work() as work:
        await rollcall.close(work, roll_call_id)
    await audit(request, "rollcall_closed", str(roll_call_id))
    raise web.HTTPSeeOther(f"/admin/rollcalls/{roll_call_id}")


async def _export_of(request: web.Request) -> exports.Export:
    roll_call_id = await _found(request)
    async with services_of(request).reading() as work:
        return await exports.roll_call(work, roll_call_id)


@allow(OPERATOR)
async def export_form(request: web.Request) -> web.Response:
    """Who was asked and their answers, as a file: first the purpose it is taken out for."""
    return await export_page(request, await _export_of(request))


@allow(OPERATOR)
async def export(request: web.Request) -> web.Response:
    return await purposeful_csv(request, await _export_of(request), "rollcall_export")


def add_routes(console: web.Application) -> None:
    add = console.router.add_route
    add("GET", "/rollcalls", roll_calls)
    add("POST", "/rollcalls/preview", preview)
    add("POST", "/rollcalls", start)
    add("GET", "/rollcalls/{call_id}", live)
    add("POST", "/rollcalls/{call_id}/close", close)
    add("GET", "/rollcalls/{call_id}/export.csv", export_form)
    add("POST", "/rollcalls/{call_id}/export.csv", export)
