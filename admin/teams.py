"""The console's teams: the list, a new area team, a team's page (invites, members, turns,
the flyer) and what 運用管理 changes on it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from aiohttp import web

from admin.access import OPERATOR, allow
from admin.auth import audit, session_of
from admin.pages import TEAMS_SHOWN, page, refusal
from admin.render import admin_locale, render, services_of
from care.desk.reading import VIEW_AUDIT_EVERY
from care.errors import Refused
from care.members import by_phone, invites, on_behalf
from care.members import teams as team_service
from care.rounds import status
from care.rounds.notify import phone_only
from care.rounds.schedule import INTERVALS, Schedule
from care.services import UnitOfWork
from ground.identifiers import row_id
from storage.models import Role, Team


@allow(OPERATOR)
async def teams(request: web.Request) -> web.Response:
    search = request.query.get("q", "")[:50]
    async with services_of(request).reading_repositories() as repos:
        found = await repos.stats.teams(search, TEAMS_SHOWN)
        total = await repos.stats.team_count(search)
    return await page(
        request,
        "teams.html",
        {
            "teams": found,
            "teams_total": total,
            "teams_shown": TEAMS_SHOWN,
            "search": search,
            "intervals": INTERVALS,
            "hours": range(24),
            "schedule": admin_locale(request).schedule,
        },
    )


@allow(OPERATOR)
async def create_team(request: web.Request) -> web.Response:
    """A team for an area (町会, 集合住宅, 民生委員 district), kept while it waits for people."""
    form = await request.post()
    interval, hour = row_id(form.get("interval_days")), row_id(form.get("hour"))
    try:
        schedule = Schedule(-1 if interval is None else interval, -1 if hour is None else hour)
        async with services_of(request).unit_of_work() as work:
            created = await team_service.create_team(
                work, str(form.get("name", "")), schedule=schedule
            )
    except ValueError:
        raise web.HTTPBadRequest(text="team name, interval or hour not valid") from None
    except Refused as refused:
        raise refusal(request, refused) from None
    team = created.team
    await audit(request, "team_created", f"{team.id} {team.name}")
    raise web.HTTPSeeOther(f"/admin/teams/{team.id}")


async def _team_context(request: web.Request) -> dict[str, Any]:
    team_id = row_id(request.match_info["team_id"])
    locale = admin_locale(request)
    async with services_of(request).unit_of_work() as work:
        try:
            team = await team_service.team_by_id(work, team_id)
        except Refused as refused:
            raise refusal(request, refused) from None
        viewer = session_of(request).admin.name
        await work.repos.admin.audit_view(
            viewer, "team_viewed", f"team {team.id}", work.now, VIEW_AUDIT_EVERY
        )
        codes = await invites.ensure_invites(work, team)
        members = {role.value: await work.repos.teams.members_of(team.id, role) for role in Role}
        states = {
            member.id: await status.state_of(work, member) for member in members[Role.USER.value]
        }
        turns = await work.repos.teams.turns_in(team.id)
        waiting = await work.repos.on_behalf.waiting_in_team(team.id)
    return {
        "waiting": waiting,
        "turns": turns,
        "turn_choices": team_service.TURNS,
        "team": team,
        "invites": {r.value: i for r, i in codes.items()},
        "qr_paths": {
            r.value: invites.qr_path(services_of(request).settings.channel_secret, i.code)
            for r, i in codes.items()
        },
        "members": members,
        "states": states,
        "checkins": lambda state: status.describe_checkins(locale, state),
        "schedule": locale.schedule,
        "calls": services_of(request).settings.calls,
        "phone_only": phone_only,
        "languages": [
            (language, services_of(request).i18n.get(language).t("language.name"))
            for language in services_of(request).i18n.languages
        ],
    }


@allow(OPERATOR)
async def team(request: web.Request) -> web.Response:
    return await page(request, "team.html", await _team_context(request))


@allow(OPERATOR)
async def flyer(request: web.Request) -> web.Response:
    """An A4 page for the 町会's notice board: the user invite as a large QR code."""
    context = await _team_context(request)
    await audit(request, "flyer_printed", str(context["team"].id))
    return render(request, "flyer.html", context)


@dataclass(frozen=True)
class TeamChange:
    """What a form on a team's page asks, with the staff member who sent it."""

    form: Any
    staff: str
    member_id: int | None


async def _rotate(work: UnitOfWork, team: Team, change: TeamChange, role: Role) -> int | None:
    await invites.rotate_invite(work, team, role)
    return change.member_id


async def _add_manager(work: UnitOfWork, team: Team, change: TeamChange) -> int | None:
    consented = change.form.get("consented") == "on"
    await on_behalf.add_watcher(work, team, change.member_id, change.staff, consented)
    return change.member_id


async def _remove_manager(work: UnitOfWork, team: Team, change: TeamChange) -> int | None:
    await team_service.remove_manager(work, team, change.member_id)
    return change.member_id


async def _desk_watch(work: UnitOfWork, team: Team, change: TeamChange, on: bool) -> int | None:
    await team_service.set_desk_watched(work, team, on)
    return change.member_id


async def _set_turn(work: UnitOfWork, team: Team, change: TeamChange) -> int | None:
    await team_service.set_turn(work, team, change.member_id, row_id(change.form.get("turn")))
    return change.member_id


async def _set_turn_minutes(work: UnitOfWork, team: Team, change: TeamChange) -> int | None:
    form = change.form
    minutes = row_id(form.get("minutes")) if form.get("minutes") else None
    await team_service.set_turn_minutes(work, team, minutes)
    return change.member_id


async def _register_by_phone(work: UnitOfWork, team: Team, change: TeamChange) -> int | None:
    """A person watched by phone alone: the audit and the next page are hers."""
    form = change.form
    person = await by_phone.register(
        work,
        team,
        str(form.get("name", "")),
        str(form.get("phone", "")),
        str(form.get("language", "ja")),
        change.staff,
        form.get("consented") == "on",
    )
    return person.id


TeamAction = Callable[[UnitOfWork, Team, TeamChange], Awaitable[int | None]]
# Each action returns the member its audit row names.
TEAM_ACTIONS: dict[str, TeamAction] = {
    "rotate_user": partial(_rotate, role=Role.USER),
    "rotate_manager": partial(_rotate, role=Role.MANAGER),
    "add_manager": _add_manager,
    "remove_manager": _remove_manager,
    "desk_watch_on": partial(_desk_watch, on=True),
    "desk_watch_off": partial(_desk_watch, on=False),
    "set_turn": _set_turn,
    "set_turn_minutes": _set_turn_minutes,
    "register_by_phone": _register_by_phone,
}


@allow(OPERATOR)
async def team_action(request: web.Request) -> web.Response:
    """Add or remove a manager by 会員ID, rotate an invite code, or register a person who is
    watched by phone alone (then shown their card)."""
    team_id = row_id(request.match_info["team_id"])
    form = await request.post()
    action = str(form.get("action", ""))
    if action not in TEAM_ACTIONS:
        raise web.HTTPBadRequest(text="unknown action")
    change = TeamChange(form, session_of(request).admin.name, row_id(form.get("member_id")))
    try:
        async with services_of(request).unit_of_work() as work:
            found = await team_service.team_by_id(work, team_id)
            member_id = await TEAM_ACTIONS[action](work, found, change)
    except Refused as refused:
        raise refusal(request, refused) from None
    await audit(request, f"team_{action}", f"team {found.id} member {member_id or ''}")
    if action == "register_by_phone":
        raise web.HTTPSeeOther(f"/admin/people/{member_id}")
    raise web.HTTPSeeOther(f"/admin/teams/{found.id}")


def add_routes(console: web.Application) -> None:
    add = console.router.add_route
    add("GET", "/teams", teams)
    add("POST", "/teams", create_team)
    add("GET", "/teams/{team_id}", team)
    add("POST", "/teams/{team_id}", team_action)
    add("GET", "/teams/{team_id}/flyer", flyer)
