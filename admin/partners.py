"""The console's partners (見守り協定) and the visits the desk asks of them: the list, adding
and removing a partner, the one-time code that puts a partner on LINE (they send it from
their own account: staff never type a 会員ID), asking for a visit from a case, and the printed
request."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

from aiohttp import web

from admin.access import DESK, OPERATOR, allow
from admin.auth import session_of
from admin.pages import page, refusal, team_choices
from admin.render import admin_locale, render, services_of
from care.desk import partners
from care.desk.reading import VIEW_AUDIT_EVERY
from care.errors import Refused
from ground import invite_codes
from ground.identifiers import row_id, row_ids
from ground.qr_codes import qr_png
from storage.database import from_db

TEAMS_LISTED = 10  # of each partner's teams, on the list of partners
PARTNERS_SHOWN = 100  # on the list of partners; a search finds the others


@allow(OPERATOR, DESK)
async def partner_list(request: web.Request, issued: dict[str, Any] | None = None) -> web.Response:
    """The partners, each with how requests reach them: their LINE (the account that sent
    their code, by its LINE name), a code waiting to be sent, or print. `issued`: the code
    just made, shown on this answer once."""
    services = services_of(request)
    now = services.clock.now()
    async with services.repositories() as repos:
        viewer = session_of(request).admin.name
        await repos.admin.audit_view(
            viewer, "partners_viewed", "partner list", now, VIEW_AUDIT_EVERY
        )
        # The first PARTNERS_SHOWN, and a search by name or area for the others: a
        # prefecture's 5,000 partners were one page of 3 s.
        search = request.query.get("partner_q", "")[:50]
        found = await repos.partners.active(search=search, limit=PARTNERS_SHOWN)
        total = await repos.partners.active_count(search)
        teams = await team_choices(request, repos.stats)
    for partner in found:
        partner["listed"], partner["more_teams"] = listed_teams(partner)
        made = from_db(partner["link_code_at"]) if partner["link_code"] else None
        until = made + partners.LINK_CODE_LIFETIME if made else None
        partner["code_until"] = until if until and until > now else None
    context = {
        "partners": found,
        "partners_total": total,
        "partners_shown": PARTNERS_SHOWN,
        "partner_q": search,
        **teams,
        "kinds": partners.KINDS,
        "issued": issued,
    }
    return await page(request, "partners.html", context)


def listed_teams(partner: dict[str, Any]) -> tuple[list[tuple[str, bool]], int]:
    """The first TEAMS_LISTED of a partner's teams for the list of partners, as (name, whether
    their LINE account manages it rather than the desk ticked it), and how many more: a
    民生委員 may cover hundreds of households, and the list showed every one for every
    partner (2.2 MB at 100,000 residents). The partner's own page shows them all."""
    every = [(team["name"], False) for team in partner["teams"]]
    every += [(team["name"], True) for team in partner["managed"]]
    return every[:TEAMS_LISTED], max(0, len(every) - TEAMS_LISTED)


async def _issued(request: web.Request, partner_id: int, code: str) -> dict[str, Any]:
    """The code, and where the account's basic id is known a link (and its QR code) that
    opens the bot's chat with the code typed in: the partner only presses send."""
    services = services_of(request)
    basic_id = await services.line.bot_basic_id()
    link = invite_codes.chat_link(basic_id, code) if basic_id else None
    qr = None
    if link:
        png = await asyncio.to_thread(qr_png, link)
        qr = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    until = services.clock.now() + partners.LINK_CODE_LIFETIME
    return {"partner_id": partner_id, "code": code, "link": link, "qr": qr, "until": until}


@allow(OPERATOR, DESK)
async def partner_action(request: web.Request) -> web.Response:
    form = await request.post()
    staff = session_of(request).admin.name
    action = str(form.get("action", ""))
    partner_id = row_id(form.get("partner_id"))
    code = None
    try:
        async with services_of(request).unit_of_work() as work:
            if action == "add":
                team_ids = row_ids(form.getall("team_id", []))
                partner_id = await partners.add(
                    work,
                    str(form.get("name", "")),
                    str(form.get("kind", "")),
                    str(form.get("phone", "")),
                    str(form.get("area", "")),
                    team_ids,
                    staff,
                )
                if form.get("line") == "on":
                    code = await partners.new_link_code(work, partner_id, staff)
            elif action == "code":
                code = await partners.new_link_code(work, partner_id, staff)
            elif action == "remove":
                await partners.remove(work, partner_id, staff)
            else:
                raise web.HTTPBadRequest(text="unknown action")
    except Refused as refused:
        raise refusal(request, refused) from None
    if code is not None and partner_id is not None:
        # The code is shown on this answer; the list shows only that one is waiting.
        return await partner_list(request, await _issued(request, partner_id, code))
    raise web.HTTPSeeOther("/admin/partners")


async def _partner_of(request: web.Request) -> dict[str, Any]:
    partner_id = row_id(request.match_info["partner_id"])
    viewer = session_of(request).admin.name
    async with services_of(request).unit_of_work() as work:
        repos = work.repos
        # As the list is: partners' names and numbers read, audited once an hour.
        await repos.admin.audit_view(
            viewer, "partners_viewed", "partner list", work.now, VIEW_AUDIT_EVERY
        )
        found = await repos.partners.active(partner_id) if partner_id else []
        if not found:
            raise web.HTTPNotFound(text="no such partner")
        # Its teams are listed whatever the search: a save must not untick one unseen.
        ticked = [team["id"] for team in found[0]["teams"]]
        teams = await team_choices(request, repos.stats, ticked)
    return {"partner": found[0], **teams}


@allow(OPERATOR, DESK)
async def partner_page(request: web.Request) -> web.Response:
    """One partner's details to change: name, kind, phone, area and the teams they cover."""
    context = await _partner_of(request)
    ticked = {team["id"] for team in context["partner"]["teams"]}
    return await page(
        request, "partner.html", {**context, "kinds": partners.KINDS, "ticked": ticked}
    )


@allow(OPERATOR, DESK)
async def partner_edit(request: web.Request) -> web.Response:
    partner_id = row_id(request.match_info["partner_id"])
    form = await request.post()
    staff = session_of(request).admin.name
    team_ids = row_ids(form.getall("team_id", []))
    try:
        async with services_of(request).unit_of_work() as work:
            await partners.edit(
                work,
                partner_id,
                str(form.get("name", "")),
                str(form.get("kind", "")),
                str(form.get("phone", "")),
                str(form.get("area", "")),
                team_ids,
                staff,
            )
    except Refused as refused:
        raise refusal(request, refused) from None
    raise web.HTTPSeeOther("/admin/partners")


@allow(OPERATOR, DESK)
async def ask_visit(request: web.Request) -> web.Response:
    case_id = row_id(request.match_info["case_id"])
    form = await request.post()
    staff = session_of(request).admin.name
    try:
        async with services_of(request).unit_of_work() as work:
            await partners.ask_visit(work, case_id, row_id(form.get("partner_id")), staff)
    except Refused as refused:
        raise refusal(request, refused) from None
    # The case page, at the step after the visit (admin.desk.NEXT_STEP's order).
    raise web.HTTPSeeOther(f"/admin/desk/{case_id}#after-visit")


@allow(OPERATOR, DESK)
async def print_request(request: web.Request) -> web.Response:
    """One A4 page for a partner without LINE: what, who, where, whom to call back."""
    staff = session_of(request).admin.name
    try:
        async with services_of(request).unit_of_work() as work:
            found = await partners.request_of(work, row_id(request.match_info["visit_id"]))
            await work.repos.admin.audit(
                staff, "visit_printed", f"visit {found.visit.id}", work.now
            )
    except Refused:
        raise web.HTTPNotFound(text="no such visit") from None
    locale = admin_locale(request)
    return render(
        request,
        "visit_print.html",
        {"request": found, "lines": partners.request_lines(locale, found)},
    )


def add_routes(console: web.Application) -> None:
    add = console.router.add_route
    add("GET", "/partners", partner_list)
    add("POST", "/partners", partner_action)
    add("GET", "/partners/{partner_id}", partner_page)
    add("POST", "/partners/{partner_id}", partner_edit)
    add("POST", "/desk/{case_id}/visits", ask_visit)
    add("GET", "/visits/{visit_id}/print", print_request)
