"""Her teams: the members each sees, the invites she may hand out, a new team, leaving one;
a person taking a manager off watching her or choosing what he sees; a manager's daily note."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web

from care.members import invites, sharing, teams
from care.rounds import reassurance, status
from care.rounds.notify import display_name
from care.services import Services, UnitOfWork
from ground.i18n import Locale
from liff.api.guard import CALLER, error, json_body, path_id, services_of
from storage.models import Member, Role, Team

routes = web.RouteTableDef()


@routes.route("GET", "/teams")
async def team_list(request: web.Request) -> web.Response:
    viewer = request[CALLER]
    services = services_of(request)
    locale = services.locale(viewer.language)
    async with services.unit_of_work() as work:
        found = [
            await team_view(work, locale, viewer, team, role)
            for team, role in await work.repos.teams.teams_of(viewer.id)
        ]
    return web.json_response({"teams": found, "daily_note": viewer.daily_note})


async def team_view(
    work: UnitOfWork, locale: Locale, viewer: Member, team: Team, role: Role
) -> dict[str, Any]:
    members = []
    for role_in_team in Role:
        for member in await work.repos.teams.members_of(team.id, role_in_team):
            if (
                team.kept_when_empty
                and role is Role.USER
                and role_in_team is Role.USER
                and member.id != viewer.id
            ):
                # An area team's users are neighbours who joined with a flyer's code, not a
                # family: each sees the managers and herself, never the others (as tell_team).
                continue
            members.append(await _member_entry(work, locale, viewer, role, member, role_in_team))
    return {
        "id": team.id,
        "name": team.name,
        "role": role.value,
        "default_schedule": locale.schedule(team.default_interval_days, team.default_hour),
        "members": members,
        "invites": await _invites(work, locale, team, role),
    }


async def _member_entry(
    work: UnitOfWork,
    locale: Locale,
    viewer: Member,
    role: Role,
    member: Member,
    role_in_team: Role,
) -> dict[str, Any]:
    """One member as the viewer (whose role in the team is `role`) sees them."""
    entry: dict[str, Any] = {
        "id": member.id,
        "name": display_name(locale, member),
        "role": role_in_team.value,
        "me": member.id == viewer.id,
    }
    if role is Role.USER and role_in_team is Role.MANAGER and member.id != viewer.id:
        # The person may take this manager off watching them (「外す」).
        entry["watches_me"] = await work.repos.teams.is_manager_of(member.id, viewer.id)
        # And whether he sees her details (「見せる」), hers to change here.
        entry["shown"] = entry["watches_me"] and await work.repos.teams.shares_personal(
            viewer.id, member.id
        )
    watched = role is Role.MANAGER and role_in_team is Role.USER
    if watched and await work.repos.teams.is_manager_of(viewer.id, member.id):
        state = await status.state_of(work, member)
        entry["last_ok"] = locale.when(member.last_ok_at)
        entry["alert_open"] = state.alert_open
        entry["state"] = locale.t(f"status.round.{state.round.value if state.round else 'none'}")
    return entry


async def _invites(
    work: UnitOfWork, locale: Locale, team: Team, role: Role
) -> dict[str, dict[str, str]]:
    """The team's invites, where the viewer's role may hand them out."""
    shown_codes = invites.may_hand_out(team, role)
    codes = await invites.ensure_invites(work, team) if shown_codes else {}
    return {
        r.value: await invite_view(
            work.services, locale, team, r, codes[r].code, invites.expires_at(work, codes[r])
        )
        for r in codes
    }


async def invite_view(
    services: Services,
    locale: Locale,
    team: Team,
    role: Role,
    code: str,
    expires: datetime | None,
) -> dict[str, str]:
    link = invites.invite_link(services.line, locale, code)
    secret = services.settings.channel_secret
    text = invites.share_text(locale, team, role, code, link)
    return {
        "code": code,
        "text": text,
        "link": link or "",
        "qr": invites.qr_path(secret, code),
        "expires": locale.when(expires) if expires else "",
    }


def _role(body: dict[str, Any]) -> Role:
    if body.get("role") not in (Role.USER.value, Role.MANAGER.value):
        raise error(400, "invalid_role")
    return Role(body["role"])


@routes.route("POST", "/teams")
async def create_team(request: web.Request) -> web.Response:
    body = await json_body(request)
    role = _role(body)
    async with services_of(request).unit_of_work() as work:
        created = await teams.create_team(
            work, str(body.get("name") or ""), founder=request[CALLER], role=role
        )
    return web.json_response({"ok": True, "team_id": created.team.id}, status=201)


@routes.route("POST", "/teams/{team_id}/rotate")
async def rotate_invite(request: web.Request) -> web.Response:
    body = await json_body(request)
    role = _role(body)
    async with services_of(request).unit_of_work() as work:
        team, own_role = await teams.membership(work, request[CALLER], path_id(request, "team_id"))
        await invites.codes_for(work, team, own_role)  # refused where they are not hers
        await invites.rotate_invite(work, team, role)
    return web.json_response({"ok": True})


@routes.route("POST", "/teams/{team_id}/leave")
async def leave_team(request: web.Request) -> web.Response:
    await json_body(request)
    viewer = request[CALLER]
    async with services_of(request).unit_of_work() as work:
        team, role = await teams.membership(work, viewer, path_id(request, "team_id"))
        await teams.leave_team(work, team, viewer, role)
    return web.json_response({"ok": True})


@routes.route("POST", "/managers/{member_id}/stop")
async def stop_watching(request: web.Request) -> web.Response:
    """The person takes a manager off watching them (the chat's 「外す」 too)."""
    body = await json_body(request)
    if body.get("confirm") is not True:
        raise error(400, "confirm_required")
    async with services_of(request).unit_of_work() as work:
        await teams.stop_watching(work, request[CALLER], path_id(request, "member_id"))
    return web.json_response({"ok": True})


@routes.route("PUT", "/managers/{member_id}/shown")
async def set_shown(request: web.Request) -> web.Response:
    """Her 「見せる」/「見せない」 for one manager who watches her (he keeps watching her)."""
    body = await json_body(request)
    if not isinstance(body.get("shown"), bool):
        raise error(400, "invalid_shown")
    async with services_of(request).unit_of_work() as work:
        await sharing.set_shown(
            work, request[CALLER], path_id(request, "member_id"), body["shown"]
        )
    return web.json_response({"ok": True, "shown": body["shown"]})


@routes.route("PUT", "/me/daily_note")
async def save_daily_note(request: web.Request) -> web.Response:
    """A manager's choice: a daily note of every OK, or only word when something is wrong."""
    body = await json_body(request)
    every_day = body.get("every_day")
    if not isinstance(every_day, bool):
        raise error(400, "every_day_required")
    async with services_of(request).unit_of_work() as work:
        await reassurance.choose(work, request[CALLER], every_day)
    return web.json_response({"ok": True})
