"""My page's JSON API. Every call carries a LIFF ID token; the caller is who LINE says it is.

Authorisation is decided here for every call: a person changes only their own card, a manager
reads only the users of their own teams, a team's invites are shown only to its members.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import date, datetime, timedelta
from typing import Any

from aiohttp import web

from bot.appkeys import CLOCK, DB, DEPS, ENGINE, I18N, LIFF_VERIFIER, SETTINGS
from bot.features.invites import ensure_invites, invite_link, share_text
from bot.features.teams import DEFAULT_TEAM_SCHEDULE, clean_team_name
from bot.i18n import Locale
from liff.auth import VerificationUnavailable
from scheduler import checkins
from scheduler.schedule import INTERVALS, Schedule, first_due
from storage.models import PERSONAL_FIELDS, Member, PersonalFields, Role, Team
from storage.repositories import Repositories, unit_of_work

log = logging.getLogger("mimamori.liff.api")

FIELD_LIMITS = {"full_name": 50, "furigana": 50, "phone": 20}
GENDERS = ("", "female", "male", "other")
PHONE = re.compile(r"^\+?[0-9][0-9-]{8,18}[0-9]$")
PAUSE_MAX_DAYS = 365


_ERRORS: dict[int, type[web.HTTPException]] = {
    400: web.HTTPBadRequest,
    401: web.HTTPUnauthorized,
    403: web.HTTPForbidden,
    404: web.HTTPNotFound,
    409: web.HTTPConflict,
    415: web.HTTPUnsupportedMediaType,
    503: web.HTTPServiceUnavailable,
}


def error(status: int, code: str, detail: str = "") -> web.HTTPException:
    """A JSON error the page can show; raised, so nothing after it runs."""
    body = json.dumps({"error": code, "detail": detail}, ensure_ascii=False)
    return _ERRORS[status](text=body, content_type="application/json")


async def caller(request: web.Request, *, terms: bool = True) -> Member:
    """The member behind the request's verified ID token (registered on first use)."""
    verifier = request.app.get(LIFF_VERIFIER)
    if verifier is None:
        raise error(503, "liff_not_configured", "LINE_LOGIN_CHANNEL_ID is not set")
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer ") or len(header) > 4096:
        raise error(401, "no_token")
    try:
        token = await verifier.verify(header.removeprefix("Bearer ").strip())
    except VerificationUnavailable as problem:
        log.warning("cannot verify an ID token now: %s", problem)
        raise error(503, "verification_unavailable") from None
    if token is None:
        raise error(401, "invalid_token")
    async with unit_of_work(request.app[DB]) as repos:
        member = await repos.members.by_line_id(token.user_id)
        if member is None:
            member, _ = await repos.members.register(
                token.user_id, token.name, "ja", request.app[CLOCK].now()
            )
    if terms and member.terms_accepted_at is None:
        raise error(403, "terms_not_accepted")
    return member


async def json_body(request: web.Request) -> dict[str, Any]:
    # Only JSON is accepted: a cross-site form post cannot make one, nor add the token.
    if request.content_type != "application/json":
        raise error(415, "json_required")
    try:
        body = await request.json()
    except ValueError:
        raise error(400, "malformed_json") from None
    if not isinstance(body, dict):
        raise error(400, "malformed_json")
    return body


def locale_of(request: web.Request, member: Member) -> Locale:
    return request.app[I18N].get(member.language)


# --- the member card ---------------------------------------------------------------------


async def card(request: web.Request, repos: Repositories, member: Member, own: bool) -> dict:
    locale = locale_of(request, member)
    managers = await repos.teams.managers_watching(member.id)
    current = await repos.rounds.open_round(member.id)
    today = request.app[CLOCK].now().astimezone(request.app[SETTINGS].timezone).date()
    paused = (
        member.paused_until if member.paused_until and member.paused_until > str(today) else None
    )
    return {
        "id": member.id,
        "own": own,
        "nickname": member.display_name,
        "registered": locale.when(member.registered_at),
        "status": locale.t(f"status.member.{member.status}"),
        "schedule": locale.schedule(member.interval_days, member.checkin_hour),
        "interval_days": member.interval_days,
        "hour": member.checkin_hour,
        "next": locale.when(member.next_due_at) if member.next_due_at and not paused else "",
        "last_ok": locale.when(member.last_ok_at),
        "round": locale.t(f"status.round.{current.state.value if current else 'none'}"),
        "alert_open": current is not None and current.state.value == "alerted",
        "paused_until": paused,
        "watchers": [checkins.display_name(locale, m) for m in managers],
        "personal": {name: getattr(member.personal, name) for name in PERSONAL_FIELDS},
    }


async def me(request: web.Request) -> web.Response:
    member = await caller(request, terms=False)
    locale = locale_of(request, member)
    async with unit_of_work(request.app[DB]) as repos:
        body = await card(request, repos, member, own=True)
    return web.json_response(
        {
            "member": body,
            "terms_accepted": member.terms_accepted_at is not None,
            "language": locale.language,
            "texts": page_texts(locale),
        }
    )


async def accept_terms(request: web.Request) -> web.Response:
    member = await caller(request, terms=False)
    await json_body(request)
    async with unit_of_work(request.app[DB]) as repos:
        await repos.members.accept_terms(member.id, request.app[CLOCK].now())
    return web.json_response({"ok": True})


async def save_personal(request: web.Request) -> web.Response:
    member = await caller(request)
    body = await json_body(request)
    fields, problems = validate_personal(body, request.app[CLOCK].now().date())
    if problems:
        return web.json_response({"error": "invalid", "fields": problems}, status=400)
    async with unit_of_work(request.app[DB]) as repos:
        await repos.members.set_personal(member.id, fields)
    return web.json_response({"ok": True})


def validate_personal(body: dict[str, Any], today: date) -> tuple[PersonalFields, dict]:
    values = {name: str(body.get(name) or "").strip() for name in PERSONAL_FIELDS}
    problems = {}
    for name, limit in FIELD_LIMITS.items():
        if len(values[name]) > limit or any(ord(c) < 32 for c in values[name]):
            problems[name] = "too_long"
    if values["gender"] not in GENDERS:
        problems["gender"] = "unknown"
    if values["phone"] and not PHONE.match(values["phone"]):
        problems["phone"] = "not_a_phone_number"
    if values["birth_date"]:
        try:
            born = date.fromisoformat(values["birth_date"])
        except ValueError:
            problems["birth_date"] = "not_a_date"
        else:
            if not date(1900, 1, 1) <= born <= today:
                problems["birth_date"] = "out_of_range"
    return PersonalFields(**values), problems


async def save_schedule(request: web.Request) -> web.Response:
    member = await caller(request)
    body = await json_body(request)
    try:
        schedule = Schedule(int(body.get("interval_days", -1)), int(body.get("hour", -1)))
    except (TypeError, ValueError):
        raise error(400, "invalid_schedule") from None
    deps = request.app[DEPS]
    async with unit_of_work(request.app[DB]) as repos:
        await checkins.set_schedule(
            repos, deps.checkin_context, member, schedule, deps.clock.now()
        )
        await repos.members.set_paused_until(member.id, None)
    return web.json_response({"ok": True})


async def pause(request: web.Request) -> web.Response:
    """Pause check-ins until a date (入院・旅行): the open round ends, the managers are told."""
    member = await caller(request)
    body = await json_body(request)
    deps = request.app[DEPS]
    now, tz = deps.clock.now(), deps.settings.timezone
    today = now.astimezone(tz).date()
    try:
        until = date.fromisoformat(str(body.get("until", "")))
    except ValueError:
        raise error(400, "not_a_date") from None
    if not today < until <= today + timedelta(days=PAUSE_MAX_DAYS):
        raise error(400, "out_of_range")
    schedule = checkins.schedule_of(member)
    if schedule is None:
        raise error(409, "no_checkins")
    resume_at = first_due(schedule, datetime.combine(until, datetime.min.time(), tz), tz)
    async with unit_of_work(request.app[DB]) as repos:
        await repos.members.set_paused_until(member.id, until.isoformat())
        await repos.members.set_next_due(member.id, resume_at)
        await checkins.stop_checkins(
            repos, deps.checkin_context, member, "paused", now, until=resume_at
        )
    request.app[ENGINE].request_delivery()
    return web.json_response({"ok": True})


async def resume(request: web.Request) -> web.Response:
    member = await caller(request)
    await json_body(request)
    deps = request.app[DEPS]
    schedule = checkins.schedule_of(member)
    async with unit_of_work(request.app[DB]) as repos:
        await repos.members.set_paused_until(member.id, None)
        if schedule is not None:
            next_due = first_due(schedule, deps.clock.now(), deps.settings.timezone)
            await repos.members.set_next_due(member.id, next_due)
    return web.json_response({"ok": True})


async def stop(request: web.Request) -> web.Response:
    """Stop check-ins (as the chat's 安否確認を止める): the managers are told."""
    member = await caller(request)
    await json_body(request)
    deps = request.app[DEPS]
    async with unit_of_work(request.app[DB]) as repos:
        await checkins.stop_checkins(
            repos, deps.checkin_context, member, "stopped", deps.clock.now()
        )
        await repos.members.clear_schedule(member.id)
        await repos.members.set_paused_until(member.id, None)
    request.app[ENGINE].request_delivery()
    return web.json_response({"ok": True})


async def withdraw(request: web.Request) -> web.Response:
    """退会: the optional fields and the memberships are deleted, check-ins stop."""
    member = await caller(request, terms=False)
    body = await json_body(request)
    if body.get("confirm") is not True:
        raise error(400, "confirm_required")
    deps = request.app[DEPS]
    now = deps.clock.now()
    async with unit_of_work(request.app[DB]) as repos:
        await checkins.stop_checkins(repos, deps.checkin_context, member, "withdrawn", now)
        for team, role in await repos.teams.teams_of(member.id):
            await checkins.leave_team(repos, deps.checkin_context, team, member, role, now)
        await repos.members.set_personal(member.id, PersonalFields())
        await repos.members.clear_schedule(member.id)
        await repos.members.set_paused_until(member.id, None)
    request.app[ENGINE].request_delivery()
    return web.json_response({"ok": True})


async def member_view(request: web.Request) -> web.Response:
    """Read only: oneself, or a user of a team the caller manages. Nobody else."""
    viewer = await caller(request)
    try:
        member_id = int(request.match_info["member_id"])
    except ValueError:
        raise error(404, "not_found") from None
    async with unit_of_work(request.app[DB]) as repos:
        allowed = member_id == viewer.id or await repos.teams.is_manager_of(viewer.id, member_id)
        member = await repos.members.get(member_id) if allowed else None
        if member is None:
            raise error(403, "forbidden")
        body = await card(request, repos, member, own=member.id == viewer.id)
    return web.json_response({"member": body})


# --- teams -------------------------------------------------------------------------------


async def teams(request: web.Request) -> web.Response:
    viewer = await caller(request)
    locale = locale_of(request, viewer)
    async with unit_of_work(request.app[DB]) as repos:
        found = [
            await team_view(request, repos, locale, viewer, team, role)
            for team, role in await repos.teams.teams_of(viewer.id)
        ]
    return web.json_response({"teams": found})


async def team_view(
    request: web.Request,
    repos: Repositories,
    locale: Locale,
    viewer: Member,
    team: Team,
    role: Role,
) -> dict:
    members = []
    for role_in_team in Role:
        for member in await repos.teams.members_of(team.id, role_in_team):
            entry: dict[str, Any] = {
                "id": member.id,
                "name": checkins.display_name(locale, member),
                "role": role_in_team.value,
                "me": member.id == viewer.id,
            }
            if role is Role.MANAGER and role_in_team is Role.USER:
                current = await repos.rounds.open_round(member.id)
                entry["last_ok"] = locale.when(member.last_ok_at)
                entry["alert_open"] = current is not None and current.state.value == "alerted"
                entry["state"] = locale.t(
                    f"status.round.{current.state.value if current else 'none'}"
                )
            members.append(entry)
    invites = await ensure_invites(repos, team, request.app[CLOCK].now())
    return {
        "id": team.id,
        "name": team.name,
        "role": role.value,
        "default_schedule": locale.schedule(team.default_interval_days, team.default_hour),
        "members": members,
        "invites": {
            r.value: await invite_view(request, locale, team, r, invites[r].code) for r in Role
        },
    }


async def invite_view(
    request: web.Request, locale: Locale, team: Team, role: Role, code: str
) -> dict[str, str]:
    link = await invite_link(request.app[DEPS].line, locale, code)
    text = share_text(locale, team, role, code, link)
    return {"code": code, "text": text, "link": link or "", "qr": f"/invites/{code}.png"}


async def create_team(request: web.Request) -> web.Response:
    viewer = await caller(request)
    body = await json_body(request)
    name = clean_team_name(str(body.get("name") or ""))
    role_value = body.get("role")
    if name is None:
        raise error(400, "invalid_name")
    if role_value not in (Role.USER.value, Role.MANAGER.value):
        raise error(400, "invalid_role")
    deps = request.app[DEPS]
    now, default = deps.clock.now(), DEFAULT_TEAM_SCHEDULE
    async with unit_of_work(request.app[DB]) as repos:
        team = await repos.teams.create(name, default.interval_days, default.hour, now)
        await repos.teams.add_member(team.id, viewer.id, Role(role_value), now)
        if role_value == Role.USER.value and viewer.interval_days is None:
            await checkins.set_schedule(repos, deps.checkin_context, viewer, default, now)
        await ensure_invites(repos, team, now)
    return web.json_response({"ok": True, "team_id": team.id}, status=201)


async def _my_team(request: web.Request, repos: Repositories, viewer: Member) -> tuple[Team, Role]:
    try:
        team_id = int(request.match_info["team_id"])
    except ValueError:
        raise error(404, "not_found") from None
    team = await repos.teams.get(team_id)
    role = await repos.teams.role_of(team_id, viewer.id) if team else None
    if team is None or role is None:
        raise error(403, "not_a_member")
    return team, role


async def rotate_invite(request: web.Request) -> web.Response:
    viewer = await caller(request)
    body = await json_body(request)
    if body.get("role") not in (Role.USER.value, Role.MANAGER.value):
        raise error(400, "invalid_role")
    now = request.app[CLOCK].now()
    async with unit_of_work(request.app[DB]) as repos:
        team, _ = await _my_team(request, repos, viewer)
        await repos.teams.revoke_invites(team.id, Role(body["role"]), now)
        await ensure_invites(repos, team, now)
    return web.json_response({"ok": True})


async def leave_team(request: web.Request) -> web.Response:
    viewer = await caller(request)
    await json_body(request)
    deps = request.app[DEPS]
    now = deps.clock.now()
    async with unit_of_work(request.app[DB]) as repos:
        team, role = await _my_team(request, repos, viewer)
        await checkins.leave_team(repos, deps.checkin_context, team, viewer, role, now)
    request.app[ENGINE].request_delivery()
    return web.json_response({"ok": True})


def page_texts(locale: Locale) -> dict[str, str]:
    """What the page's script shows, in the person's language."""
    texts = locale.section("liff")
    for role in Role:
        texts[f"role.{role.value}"] = locale.t(f"role_name.{role.value}")
    for days in INTERVALS:
        texts[f"interval.{days}"] = locale.t("schedule.interval_choice", days=days)
    for hour in range(24):
        texts[f"hour.{hour}"] = locale.t("schedule.hour_choice", hour=hour)
    return texts
