"""The console's partners (見守り協定) and the visits the desk asks of them: the list, adding
and removing a partner, asking for a visit from a case, and the printed request."""

from __future__ import annotations

from aiohttp import web

from admin.auth import session_of
from admin.render import admin_locale, render, services_of
from admin.views import _int, _page, _refused
from care import partners
from care.errors import Refusal, Refused


async def partner_list(request: web.Request) -> web.Response:
    async with services_of(request).repositories() as repos:
        context = {
            "partners": await repos.partners.active(),
            "teams": await repos.stats.teams(),
            "kinds": partners.KINDS,
        }
    return await _page(request, "partners.html", context)


async def partner_action(request: web.Request) -> web.Response:
    form = await request.post()
    staff = session_of(request).admin.name
    action = str(form.get("action", ""))
    try:
        async with services_of(request).unit_of_work() as work:
            if action == "add":
                member_text = str(form.get("member_id", "")).strip()
                member_id = _int(member_text) if member_text else None
                if member_text and member_id is None:
                    raise Refused(Refusal.NO_SUCH_MEMBER)
                team_ids = [t for t in (_int(v) for v in form.getall("team_id", [])) if t]
                await partners.add(
                    work,
                    str(form.get("name", "")),
                    str(form.get("kind", "")),
                    str(form.get("phone", "")),
                    str(form.get("area", "")),
                    member_id,
                    team_ids,
                    staff,
                )
            elif action == "remove":
                await partners.remove(work, _int(form.get("partner_id")), staff)
            else:
                raise web.HTTPBadRequest(text="unknown action")
    except Refused as refused:
        raise _refused(request, refused) from None
    raise web.HTTPSeeOther("/admin/partners")


async def ask_visit(request: web.Request) -> web.Response:
    case_id = _int(request.match_info["case_id"])
    form = await request.post()
    staff = session_of(request).admin.name
    try:
        async with services_of(request).unit_of_work() as work:
            await partners.ask_visit(work, case_id, _int(form.get("partner_id")), staff)
    except Refused as refused:
        raise _refused(request, refused) from None
    raise web.HTTPSeeOther(f"/admin/desk/{case_id}")


async def print_request(request: web.Request) -> web.Response:
    """One A4 page for a partner without LINE: what, who, where, whom to call back."""
    staff = session_of(request).admin.name
    try:
        async with services_of(request).unit_of_work() as work:
            found = await partners.request_of(work, _int(request.match_info["visit_id"]))
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
    add("POST", "/desk/{case_id}/visits", ask_visit)
    add("GET", "/visits/{visit_id}/print", print_request)
