"""Her check-ins' rhythm: the schedule, a pause (入院・旅行, or 退院するまで), resuming,
stopping."""

from __future__ import annotations

from datetime import date
from typing import Any

from aiohttp import web

from care.members import schedules
from care.rounds import alerts
from care.rounds.schedule import Schedule
from liff.api.guard import CALLER, error, json_body, services_of

routes = web.RouteTableDef()


@routes.route("PUT", "/me/schedule")
async def save_schedule(request: web.Request) -> web.Response:
    body = await json_body(request)
    try:
        schedule = Schedule(int(body.get("interval_days", -1)), int(body.get("hour", -1)))
    except (TypeError, ValueError):
        raise error(400, "invalid_schedule") from None
    async with services_of(request).unit_of_work() as work:
        await schedules.set_schedule(work, request[CALLER], schedule)
    return web.json_response({"ok": True})


@routes.route("POST", "/me/pause")
async def pause(request: web.Request) -> web.Response:
    """Pause check-ins until a date (入院・旅行): the open round ends, the managers are told.
    During an open alert she is asked first (409 alert_open_confirm, then alert_ok)."""
    body = await json_body(request)
    await _asked_first(request, body)
    if body.get("open_ended") is True:
        # 退院するまで: no date; a weekly reminder, and the longest pause at most.
        async with services_of(request).unit_of_work() as work:
            await schedules.pause(work, request[CALLER], None, open_ended=True)
        return web.json_response({"ok": True})
    try:
        until = date.fromisoformat(str(body.get("until", "")))
    except ValueError:
        raise error(400, "not_a_date") from None
    async with services_of(request).unit_of_work() as work:
        await schedules.pause(work, request[CALLER], until)
    return web.json_response({"ok": True})


async def _asked_first(request: web.Request, body: dict[str, Any]) -> None:
    """A pause or a stop while an alert about her is open waits for her yes to the page's
    question: the alert stays open until someone who watches her is sure."""
    if body.get("alert_ok") is True:
        return
    async with services_of(request).reading() as work:
        if await alerts.alert_open(work, request[CALLER]):
            raise error(409, "alert_open_confirm")


@routes.route("POST", "/me/resume")
async def resume(request: web.Request) -> web.Response:
    """Resume a pause; refused (409 not_paused) when there is none, so the schedule is left."""
    await json_body(request)
    async with services_of(request).unit_of_work() as work:
        await schedules.resume(work, request[CALLER])
    return web.json_response({"ok": True})


@routes.route("POST", "/me/stop")
async def stop(request: web.Request) -> web.Response:
    """Stop check-ins (as the chat's 安否確認を止める): the managers are told. During an open
    alert she is asked first (409 alert_open_confirm, then alert_ok)."""
    await _asked_first(request, await json_body(request))
    async with services_of(request).unit_of_work() as work:
        await schedules.stop(work, request[CALLER])
    return web.json_response({"ok": True})
