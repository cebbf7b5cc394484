"""The console's desk: the queue of open cases and each case's page (take it, log calls,
notes, the outcome). The rules are care.desk.cases's; this parses the form and renders."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from aiohttp import web

from admin import searching
from admin.access import DESK, OPERATOR, allow
from admin.auth import audit, session_of
from admin.pages import page, refusal, team_choices
from admin.render import admin_locale, services_of
from care.desk import cases as desk
from care.desk import partners, reading, report
from care.desk.reading import VIEW_AUDIT_EVERY
from care.errors import Refusal, Refused
from care.members import by_phone, sharing
from care.rounds import calls, devices, outcomes, verify
from care.rounds.notify import phone_only
from care.services import UnitOfWork
from ground.identifiers import row_id
from storage.database import from_db
from storage.desk import QUEUE_SORTS
from storage.models import StaffRole

CLOSED_SHOWN = timedelta(days=7)
SORTS = (*QUEUE_SORTS, "waiting")
# Where the case page opens again after a step: at the next one in the work's order (take,
# the call, a visit, a note, closing), so Tab goes on from there, not from the top.
NEXT_STEP = {"take": "#call", "call": "#after-call", "note": "#after-note"}


def actor_label(
    request: web.Request, names: dict[int, dict[str, Any]]
) -> Callable[[str | None], str]:
    """Who took a step or closed a case, as staff read it: a staff member's console name, a
    partner as a partner (their name and kind: they act as `partner:<id>`), or the service."""
    locale = admin_locale(request)

    def label(who: str | None) -> str:
        if not who:
            return locale.t("admin.desk.service")
        partner_id = partners.partner_of_actor(who)
        if partner_id is None:
            return who
        found = names.get(partner_id, {"name": "-", "kind": "other"})
        kind = locale.t(f"admin.partners.kind.{found['kind']}")
        return locale.t("admin.desk.partner_actor", name=found["name"], kind=kind)

    return label


def outcome_label(request: web.Request) -> Callable[[str | None], str]:
    """An outcome as staff read it: the desk's own (外出していた...) or what closed the case
    without them (the person's OK, a manager's confirmation)."""
    locale = admin_locale(request)

    def label(outcome: str | None) -> str:
        if not outcome:
            return ""
        if outcome == report.OPEN:
            return locale.t("admin.report.open")
        if outcome == partners.NOT_HOME:
            return locale.t(f"visit.outcome.{outcome}")
        if outcome in (*desk.OUTCOMES, desk.CONTINUING):
            return locale.t(f"desk.outcome.{outcome}")
        return locale.t(f"admin.desk.step.{outcome}")

    return label


def waited(request: web.Request) -> Callable[[str], str]:
    """How long a case has waited since it opened, as staff read it (3時間12分)."""
    locale = admin_locale(request)
    now = services_of(request).clock.now()

    def label(opened_at: str) -> str:
        opened = from_db(opened_at)
        minutes = max(0, int((now - opened).total_seconds() // 60)) if opened else 0
        hours, minutes = divmod(minutes, 60)
        if hours >= 24:
            return locale.t("admin.queue.waited_days", days=hours // 24, hours=hours % 24)
        if hours:
            return locale.t("admin.queue.waited_hours", hours=hours, minutes=minutes)
        return locale.t("admin.queue.waited_minutes", minutes=minutes)

    return label


def phone_of(row: dict[str, Any]) -> tuple[str, str | None]:
    """A row's phone as staff read it and its tel: link ('' and None where there is none the
    desk may see: storage.desk's query leaves it empty)."""
    phone = str(row.get("phone") or "")
    if not phone:
        return "", None
    return reading.as_written(phone), sharing.tel_uri(phone)


@allow(OPERATOR, DESK)
async def queue(request: web.Request) -> web.Response:
    """The open cases a search finds (GET parameters, so a search is a link), a page at a
    time; the page refreshes its table in place (admin/static/console.js), so two staff see
    each other take a case."""
    services = services_of(request)
    staff = session_of(request).admin.name
    asked = searching.asked(request.query, services.clock.now(), staff, SORTS)
    async with services.unit_of_work() as work:
        repos = work.repos
        await repos.admin.audit_view(
            staff, "desk_queue_viewed", "desk queue", work.now, VIEW_AUDIT_EVERY
        )
        cases, total = await repos.desk.queue_page(asked.search)
        if asked.page > asked.pages(total):
            asked = searching.within(asked, total)
            cases, total = await repos.desk.queue_page(asked.search)
        context = {
            "cases": cases,
            "total": total,
            "asked": asked,
            # The team the queue is narrowed to stays in its list, whatever the search.
            **await team_choices(
                request, repos.stats, [asked.search.team_id] if asked.search.team_id else []
            ),
            "waited": waited(request),
            "phone_of": phone_of,
            "closed": await repos.desk.closed_since(services.clock.now() - CLOSED_SHOWN),
            "outcomes": await report.outcomes(work),
            "schedule": admin_locale(request).schedule,
            "desk_on": services.timings.desk_after is not None,
            # The filter for the heat checks' silent, where the city reads the heat alerts.
            "filters": ["urgent", "untaken", "mine"]
            + (["heat"] if services.settings.heat_areas else []),
            "outcome_label": outcome_label(request),
            "who": actor_label(request, await repos.partners.names()),
        }
    return await page(request, "desk.html", context)


@allow(OPERATOR, DESK)
async def case_page(request: web.Request) -> web.Response:
    staff = session_of(request).admin.name
    try:
        async with services_of(request).unit_of_work() as work:
            found = await reading.case_file(work, row_id(request.match_info["case_id"]), staff)
            visits = await work.repos.partners.visits_of(found.case.id)
            partner_list = await work.repos.partners.active(with_teams=False)
            covering = set(await work.repos.partners.covering(found.member.id))
            names = await work.repos.partners.names()
            pause_offered = await outcomes.pause_offered(work, found.case)
    except Refused:
        raise web.HTTPNotFound(text="no such case") from None
    return await page(
        request,
        "desk_case.html",
        {
            "file": found,
            "staff": staff,
            "call_results": desk.CALL_RESULTS,
            "outcomes": (*desk.OUTCOMES, desk.CONTINUING),
            "visits": visits,
            # Those who cover the person's team first.
            "partners": sorted(partner_list, key=lambda p: p["id"] not in covering),
            "covering": covering,
            "outcome_label": outcome_label(request),
            "who": actor_label(request, names),
            "pause_offered": pause_offered,
        },
    )


@allow(OPERATOR, DESK)
async def case_action(request: web.Request) -> web.Response:
    """take, call (result, note), note (note), close (outcome, note), or after 入院していた
    pause_until_home, as the staff member signed in; then back to the case."""
    case_id = row_id(request.match_info["case_id"])
    form = await request.post()
    action = str(form.get("action", ""))
    staff = session_of(request).admin.name
    note = str(form.get("note", ""))
    try:
        async with services_of(request).unit_of_work() as work:
            if action == "take":
                await desk.take(work, case_id, staff)
            elif action == "call":
                await desk.log_call(work, case_id, staff, str(form.get("result", "")), note)
            elif action == "note":
                await desk.add_note(work, case_id, staff, note)
            elif action == "close":
                await desk.close(work, case_id, staff, str(form.get("outcome", "")), note)
            elif action == "pause_until_home":
                await outcomes.pause_until_home(work, case_id, staff)
            else:
                raise web.HTTPBadRequest(text="unknown action")
    except Refused as refused:
        raise refusal(request, refused) from None
    raise web.HTTPSeeOther(f"/admin/desk/{case_id}{NEXT_STEP.get(action, '')}")


def _registered_too(request: web.Request) -> bool:
    """Whether the desk's own registration of a person (by phone) opens her card: for 運用管理,
    who registers; 窓口 reads a person only for a case or a watch
    (care.desk.reading.known_person)."""
    return session_of(request).admin.role is StaffRole.OPERATOR


async def _refused_person(request: web.Request) -> None:
    """窓口 asked for a person the desk has no case for and does not watch: refused as a
    会員ID nobody has is (it tells no one whether she exists), and the refusal audited."""
    if not _registered_too(request):
        await audit(request, "person_refused", f"{request.method} {request.path}")


@allow(OPERATOR, DESK)
async def person_page(request: web.Request, linked_url: str | None = None) -> web.Response:
    staff = session_of(request).admin.name
    locale = admin_locale(request)
    member_id = row_id(request.match_info["member_id"])
    try:
        async with services_of(request).unit_of_work() as work:
            card = await reading.person_card(work, member_id, staff, _registered_too(request))
            linked = await work.repos.devices.of_member(card.member.id)
            watched = await calls.watched(work, card.member)
            opted_in, at_risk = await work.repos.heat.watch_of(card.member.id)
    except Refused:
        await _refused_person(request)
        raise web.HTTPNotFound(text="no such person") from None
    context = {
        "card": card,
        "schedule": locale.schedule,
        "outcome_label": outcome_label(request),
        "movement": devices.last_movement(locale, card.member),
        "devices": linked,
        "calls": services_of(request).settings.calls,
        "phone_only": phone_only(card.member),
        "linked_url": linked_url,
        "watched": watched,
        # 暑い日の確認: only where the city reads the heat alerts.
        "heat_watch": {"opted_in": opted_in, "at_risk": at_risk}
        if services_of(request).settings.heat_areas
        else None,
    }
    return await page(request, "person.html", context)


@dataclass(frozen=True)
class PersonChange:
    """What a form on a person's page asks: about whom, by whom, and whether the desk's own
    registration of her opens her card (_registered_too)."""

    form: Any
    member_id: int | None
    staff: str
    registered: bool


async def _note(work: UnitOfWork, change: PersonChange) -> devices.Linked | None:
    note = str(change.form.get("note", ""))
    await reading.note_person(work, change.member_id, change.staff, note, change.registered)
    return None


async def _calls(work: UnitOfWork, change: PersonChange) -> devices.Linked | None:
    form = change.form
    before = form.get("call_before_alert") == "on"
    number = str(form.get("call_number", ""))
    consented = form.get("consented") == "on"  # a phone-only person's new number
    await by_phone.set_calls_for(
        work, change.member_id, change.staff, number, before, change.registered, consented
    )
    return None


async def _confirm_number(work: UnitOfWork, change: PersonChange) -> devices.Linked | None:
    present = change.form.get("present") == "on"
    await verify.confirm_present(work, change.member_id, change.staff, present, change.registered)
    return None


async def _link_device(work: UnitOfWork, change: PersonChange) -> devices.Linked | None:
    form = change.form
    return await by_phone.link_device_for(
        work,
        change.member_id,
        change.staff,
        str(form.get("label", "")),
        form.get("counts_as_ok") == "on",
        form.get("consented") == "on",
        change.registered,
    )


async def _revoke_device(work: UnitOfWork, change: PersonChange) -> devices.Linked | None:
    device = row_id(change.form.get("device_id"))
    await by_phone.revoke_device_for(
        work, change.member_id, change.staff, device, change.registered
    )
    return None


PersonAction = Callable[[UnitOfWork, PersonChange], Awaitable[devices.Linked | None]]
# Each returns the device it linked, whose URL is shown once.
PERSON_ACTIONS: dict[str, PersonAction] = {
    "note": _note,
    "calls": _calls,
    "confirm_number": _confirm_number,
    "link_device": _link_device,
    "revoke_device": _revoke_device,
}


@allow(OPERATOR, DESK)
async def person_action(request: web.Request) -> web.Response:
    """A note on the person; or, for them and with their consent, their calls and devices."""
    member_id = row_id(request.match_info["member_id"])
    form = await request.post()
    action = str(form.get("action", "note"))
    if action not in PERSON_ACTIONS:
        raise web.HTTPBadRequest(text="unknown action")
    staff = session_of(request).admin.name
    change = PersonChange(form, member_id, staff, _registered_too(request))
    try:
        async with services_of(request).unit_of_work() as work:
            linked = await PERSON_ACTIONS[action](work, change)
    except Refused as refused:
        if refused.reason is Refusal.NO_SUCH_PERSON:
            await _refused_person(request)
        raise refusal(request, refused) from None
    if linked is not None:
        # The URL is its secret: shown on this answer once, never kept to be shown again.
        public_url = services_of(request).settings.public_url or ""
        return await person_page(request, linked.url(public_url))
    raise web.HTTPSeeOther(f"/admin/people/{member_id}")


def add_routes(console: web.Application) -> None:
    add = console.router.add_route
    add("GET", "/desk", queue)
    add("GET", "/desk/{case_id}", case_page)
    add("POST", "/desk/{case_id}", case_action)
    add("GET", "/people/{member_id}", person_page)
    add("POST", "/people/{member_id}", person_action)
