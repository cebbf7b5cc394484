"""The console's 暑い日の確認: an alert day's heat check like a roll-call (who was asked, who
answered, who is silent, whose managers were alerted; the live tally, the silent first), the
alert days and the documents read from the Ministry of the Environment."""

from __future__ import annotations

from datetime import date, timedelta

from aiohttp import web

from admin.access import DESK, OPERATOR, allow
from admin.auth import session_of
from admin.pages import page, refusal
from admin.render import admin_locale, services_of
from care.broadcasts import heat
from care.desk.reading import VIEW_AUDIT_EVERY, known_person
from care.errors import Refusal, Refused
from ground.identifiers import row_id
from storage.models import StaffRole

# The documents listed: the last few days' (the alert files, four a day; the forecasts).
DOCUMENTS_SHOWN = timedelta(days=2)


def _duration(locale_language: str, value: timedelta) -> str:
    minutes = int(value.total_seconds() // 60)
    if minutes % 60:
        return f"{minutes} 分" if locale_language.startswith("ja") else f"{minutes} min"
    hours = minutes // 60
    return f"{hours} 時間" if locale_language.startswith("ja") else f"{hours} h"


@allow(OPERATOR)
async def heat_page(request: web.Request) -> web.Response:
    """The day asked for (?day=YYYY-MM-DD), else the latest alert day; it reloads itself
    while its check has people still silent."""
    services = services_of(request)
    locale = admin_locale(request)
    admin = session_of(request).admin.name
    wanted = request.query.get("day", "")
    try:
        chosen = date.fromisoformat(wanted) if wanted else None
    except ValueError:
        raise web.HTTPBadRequest(text="day: YYYY-MM-DD") from None
    async with services.unit_of_work() as work:
        days = await work.repos.heat.recent_days()
        if chosen is None and days:
            chosen = date.fromisoformat(days[0]["day"])
        tally = await heat.tally(work, chosen) if chosen else None
        documents = await work.repos.heat.documents_since(work.now - DOCUMENTS_SHOWN)
        if tally is not None and tally.people:
            # Names, numbers and answers were read: audited once an hour per admin and day.
            scope = f"heat:{chosen}:{admin}"
            await work.repos.admin.audit_view(
                admin, "heat_viewed", f"heat {chosen}", work.now, VIEW_AUDIT_EVERY, scope
            )
    settings = services.settings
    context = {
        "configured": bool(settings.heat_areas),
        "days": days,
        "tally": tally,
        "documents": documents,
        "standings": heat.STANDINGS,
        "live": tally is not None
        and (tally.asked_at is None or tally.counts["silent"] + tally.counts["alerted"] > 0),
        "resend": _duration(locale.language, settings.heat_resend_after),
        "alert": _duration(locale.language, settings.heat_alert_after),
    }
    return await page(request, "heat.html", context)


@allow(OPERATOR, DESK)
async def mark(request: web.Request) -> web.Response:
    """The desk marks a person at risk on hot days (or no longer), from her card or the people
    list: 運用管理 anyone current, 窓口 those it knows (a case, a team it watches)."""
    member_id = row_id(request.match_info["member_id"])
    form = await request.post()
    session = session_of(request)
    everyone = session.admin.role is StaffRole.OPERATOR
    try:
        async with services_of(request).unit_of_work() as work:
            if everyone:
                member = await work.repos.members.get(member_id) if member_id else None
                if member is None:
                    raise Refused(Refusal.NO_SUCH_PERSON)
            else:
                member, _ = await known_person(work, member_id, registered_too=False)
            if await work.repos.members.has_withdrawn(member.id):
                raise Refused(Refusal.NO_SUCH_PERSON)
            await heat.set_at_risk(work, member, form.get("at_risk") == "on", session.admin.name)
    except Refused as refused:
        raise refusal(request, refused) from None
    if form.get("back") == "card":
        raise web.HTTPSeeOther(f"/admin/people/{member.id}")
    raise web.HTTPSeeOther(f"/admin/people#person-{member.id}")


def add_routes(console: web.Application) -> None:
    console.router.add_route("GET", "/heat", heat_page)
    console.router.add_route("POST", "/people/{member_id}/heat", mark)
