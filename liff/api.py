"""My page's JSON API. Every call carries a LIFF ID token; the caller is who LINE says it is.

The sub-app's guard verifies the token and loads the caller before any handler runs, and says
in JSON why the service layer refused an action. The service layer decides what a person may
do: a person changes only their own card, a manager reads only the users of their own teams,
a team's invites are shown only to its members.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Any

from aiohttp import web

from care.errors import Refusal, Refused
from care.members import details, invites, people, schedules, sharing, teams, withdrawal
from care.members.cards import Card, Relation, audit_member_view, open_card
from care.privacy.disclosure import record_of
from care.rounds import alerts, calls, devices, reassurance, status, verify
from care.rounds.notify import display_name
from care.rounds.schedule import INTERVALS, Schedule
from care.services import SERVICES, Services, UnitOfWork
from ground.i18n import Locale
from ground.identifiers import row_id
from liff.auth import LIFF_DEAUTHORIZER, LIFF_VERIFIER, VerificationUnavailable
from storage.models import PERSONAL_FIELDS, Member, Role, Team

log = logging.getLogger("mimamori.liff.api")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
CALLER = web.RequestKey("liff_caller", Member)

_ERRORS: dict[int, type[web.HTTPException]] = {
    400: web.HTTPBadRequest,
    401: web.HTTPUnauthorized,
    403: web.HTTPForbidden,
    404: web.HTTPNotFound,
    409: web.HTTPConflict,
    410: web.HTTPGone,
    415: web.HTTPUnsupportedMediaType,
    429: web.HTTPTooManyRequests,
    503: web.HTTPServiceUnavailable,
}
# A refusal of the service layer as (HTTP status, the error code the page shows).
REFUSALS: dict[Refusal, tuple[int, str]] = {
    Refusal.UNKNOWN_CODE: (404, "unknown_code"),
    Refusal.CODE_EXPIRED: (410, "code_expired"),
    Refusal.ALREADY_MEMBER: (409, "already_member"),
    Refusal.NOT_MEMBER: (403, "not_a_member"),
    Refusal.NO_SUCH_TEAM: (403, "not_a_member"),
    Refusal.NOT_ALLOWED: (403, "forbidden"),
    Refusal.INVALID_LANGUAGE: (400, "invalid_language"),
    Refusal.NO_CHECKINS: (409, "no_checkins"),
    Refusal.OUT_OF_RANGE: (400, "out_of_range"),
    Refusal.INVALID_NAME: (400, "invalid_name"),
    Refusal.NO_SUCH_MEMBER: (404, "not_found"),
    Refusal.ROLE_MISMATCH: (409, "role_mismatch"),
    Refusal.ONLY_STARTER: (403, "forbidden"),
    Refusal.GROUP_NOT_SET: (409, "not_set"),
    Refusal.ALERT_CLOSED: (409, "alert_closed"),
    Refusal.ALERT_OPEN: (409, "alert_open"),
    Refusal.INVALID_MEMO: (400, "invalid_memo"),
    Refusal.NOBODY: (409, "nobody"),
    Refusal.QUOTA_SHORT: (409, "quota_short"),
    Refusal.TOO_OFTEN: (429, "too_often"),
    Refusal.NOT_PAUSED: (409, "not_paused"),
    Refusal.ROLL_CALL_CLOSED: (409, "roll_call_closed"),
    Refusal.NOT_ASKED: (403, "not_asked"),
    Refusal.INVALID_PHONE: (400, "invalid_phone"),
    Refusal.NO_CALLS: (409, "no_calls"),
    Refusal.INVALID_DEVICE: (400, "invalid_device"),
    Refusal.INVALID_PERSON_NAME: (400, "invalid_person_name"),
    Refusal.NO_CONSENT: (400, "no_consent"),
    Refusal.NO_SUCH_DEVICE: (404, "not_found"),
    Refusal.NUMBER_ABROAD: (400, "number_abroad"),
    Refusal.NUMBER_NOT_A_PERSON: (400, "number_not_a_person"),
    Refusal.NOBODY_WATCHES: (409, "nobody_watches"),
    Refusal.NO_NUMBER: (409, "no_number"),
    Refusal.ALREADY_VERIFIED: (409, "already_verified"),
    Refusal.CALLS_SPENT: (409, "calls_spent"),
    Refusal.NOT_PRESENT: (400, "not_present"),
    Refusal.NUMBER_TAKEN: (409, "number_taken"),
    Refusal.VERIFY_MONTH_SPENT: (409, "verify_month_spent"),
    Refusal.SAME_STAFF: (409, "same_staff"),
}


def error(status: int, code: str, detail: str = "") -> web.HTTPException:
    """A JSON error the page can show; raised, so nothing after it runs."""
    body = json.dumps({"error": code, "detail": detail}, ensure_ascii=False)
    return _ERRORS[status](text=body, content_type="application/json")


def before_terms(handler: Handler) -> Handler:
    """Marks a call a person may make before accepting the terms (reading them, accepting)."""
    handler.before_terms = True  # type: ignore[attr-defined]
    return handler


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every call: the verified caller first (terms accepted unless the call is marked), and
    the service layer's refusals as JSON errors."""
    request[CALLER] = await caller(request, terms=not getattr(handler, "before_terms", False))
    # Invite links need the account's basic id: asked here, before any unit of work.
    await services_of(request).line.bot_basic_id()
    try:
        return await handler(request)
    except Refused as refused:
        status, code = REFUSALS[refused.reason]
        raise error(status, code) from None


def services_of(request: web.Request) -> Services:
    return request.config_dict[SERVICES]


async def caller(request: web.Request, *, terms: bool) -> Member:
    """The member behind the request's verified ID token (registered on first use)."""
    verifier = request.config_dict.get(LIFF_VERIFIER)
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
    services = services_of(request)
    async with services.reading_repositories() as repos:
        member = await repos.members.by_line_id(token.user_id)
    if member is None:
        # Met first on My page: in the language of their LINE, as the chat would (LINE is
        # asked before the unit of work).
        profile = await services.line.profile(token.user_id)
        language = services.locale(profile.language if profile else None).language
        async with services.unit_of_work() as work:
            member = await people.register(work, token.user_id, token.name, language)
    if terms and member.terms_accepted_at is None:
        raise error(403, "terms_not_accepted")
    return member


async def json_body(request: web.Request) -> dict[str, Any]:
    # Only JSON is accepted: a cross-site form post cannot make one, nor add the token.
    if request.content_type != "application/json":
        raise error(415, "json_required")
    try:
        body = json.loads(await request.text(), parse_constant=_refuse, parse_float=_finite)
    except (ValueError, RecursionError):
        # RecursionError: thousands of nested brackets; ValueError: not JSON, or 1e400 / NaN.
        raise error(400, "malformed_json") from None
    if not isinstance(body, dict):
        raise error(400, "malformed_json")
    return body


def _refuse(constant: str) -> Any:
    raise ValueError(f"{constant} is not a number a person types")


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"{text} is out of range")
    return number


def _id(request: web.Request, name: str) -> int:
    found = row_id(request.match_info[name])
    if found is None:
        raise error(404, "not_found")
    return found


# --- the member card ---------------------------------------------------------------------


async def card(work: UnitOfWork, locale: Locale, member: Member, viewer: Member) -> dict[str, Any]:
    own = member.id == viewer.id
    shown = await sharing.may_see_personal(work, viewer, member)
    state = await status.state_of(work, member)
    managers = await work.repos.teams.managers_watching(member.id)
    return {
        "id": member.id,
        "own": own,
        "nickname": member.display_name,
        "registered": locale.when(member.registered_at),
        "status": locale.t(f"status.member.{member.status}"),
        "checkins": state.status.value,
        "schedule": locale.schedule(member.interval_days, member.checkin_hour),
        "interval_days": member.interval_days,
        "hour": member.checkin_hour,
        "next": locale.when(state.next_at) if state.next_at else "",
        "last_ok": locale.when(member.last_ok_at),
        "round": locale.t(f"status.round.{state.round.value if state.round else 'none'}"),
        "alert_open": state.alert_open,
        "paused_until": state.paused_until.isoformat() if state.paused_until else None,
        # The pause as every surface writes it (a date, or 退院するまで: until resumed).
        "paused_label": status.describe_checkins(locale, state) if state.paused_until else None,
        # 緊急時メモ: the person's own, and a manager's only while an alert is open and only
        # once the person agreed to show their details to this manager.
        "memo": member.emergency_memo if own or (state.alert_open and shown) else None,
        "watchers": [display_name(locale, m) for m in managers],
        # Another's 氏名, 電話番号...: only once they agreed to show them to this viewer.
        "personal": {name: getattr(member.personal, name) for name in PERSONAL_FIELDS}
        if shown
        else None,
        # 最後の動き: a device's last sign of life, for the person and who watches them.
        "last_activity": devices.last_movement(locale, member),
        **(await _own_settings(work, locale, member) if own else {}),
    }


async def _own_settings(work: UnitOfWork, locale: Locale, member: Member) -> dict[str, Any]:
    """The call before the alert and the linked devices: only on the person's own card."""
    linked = await work.repos.devices.of_member(member.id)
    return {
        "calls": {
            "available": calls.VOICE in work.services.channels,
            "number": member.call_number,
            "before_alert": member.call_before_alert,
            # Hers (verified by a call's code, or by staff with her present), a call's code
            # waiting to be typed, and whether anyone watches her (else no call is placed).
            "verified": member.call_verified_at is not None,
            "code_waiting": await verify.waiting(work, member),
            "watched": await calls.watched(work, member),
        },
        "devices": [
            {
                "id": device.id,
                "label": device.label,
                "counts_as_ok": device.counts_as_ok,
                "last_ping": locale.when(device.last_ping_at) if device.last_ping_at else None,
            }
            for device in linked
        ],
    }


@before_terms
async def me(request: web.Request) -> web.Response:
    member = request[CALLER]
    services = services_of(request)
    locale = services.locale(member.language)
    async with services.reading() as work:
        body = await card(work, locale, member, member)
    return web.json_response(
        {
            "member": body,
            "terms_accepted": member.terms_accepted_at is not None,
            "language": locale.language,
            # Each language named in itself, for the choice on My page.
            "languages": {
                code: services.i18n.get(code).t("language.name")
                for code in services.i18n.languages
            },
            "texts": page_texts(locale),
        }
    )


@before_terms
async def accept_terms(request: web.Request) -> web.Response:
    await json_body(request)
    async with services_of(request).unit_of_work() as work:
        await people.accept_terms(work, request[CALLER])
    return web.json_response({"ok": True})


async def save_language(request: web.Request) -> web.Response:
    """日本語, やさしい日本語 or English: the chat and My page speak it from now on."""
    body = await json_body(request)
    async with services_of(request).unit_of_work() as work:
        await people.choose_language(work, request[CALLER], str(body.get("language", "")))
    return web.json_response({"ok": True})


async def save_personal(request: web.Request) -> web.Response:
    body = await json_body(request)
    services = services_of(request)
    today = services.clock.now().astimezone(services.timezone).date()
    fields, problems = details.validate_personal(body, today)
    if problems:
        return web.json_response({"error": "invalid", "fields": problems}, status=400)
    async with services.unit_of_work() as work:
        await details.save_personal(work, request[CALLER], fields)
    return web.json_response({"ok": True})


async def save_memo(request: web.Request) -> web.Response:
    body = await json_body(request)
    async with services_of(request).unit_of_work() as work:
        await details.save_memo(work, request[CALLER], str(body.get("memo") or ""))
    return web.json_response({"ok": True})


async def save_calls(request: web.Request) -> web.Response:
    """電話での確認: the person's number, and their consent to a call before the alert."""
    body = await json_body(request)
    before_alert = body.get("before_alert")
    if not isinstance(before_alert, bool):
        raise error(400, "invalid", "before_alert")
    member = request[CALLER]
    async with services_of(request).unit_of_work() as work:
        number = await calls.set_consent(
            work, member, str(body.get("number") or ""), before_alert, "self"
        )
        # A new number starts its verification call at once; nobody watching her is said on
        # the page (the number is kept, and no call goes to it).
        calling = number is not None and number != member.call_number
        if calling and await calls.watched(work, member):
            changed = await work.repos.members.get(member.id)
            assert changed is not None
            await verify.start(work, changed)
        else:
            calling = False
    return web.json_response({"ok": True, "number": number, "calling": calling})


async def call_for_code(request: web.Request) -> web.Response:
    """Ring her number again with a new code (the last expired, or was spent)."""
    await json_body(request)
    async with services_of(request).unit_of_work() as work:
        await verify.start(work, request[CALLER])
    return web.json_response({"ok": True, "calling": True})


async def check_code(request: web.Request) -> web.Response:
    """The code the call read out, typed on My page. A wrong one counts, so the answer is
    given after the unit of work has kept the count."""
    body = await json_body(request)
    async with services_of(request).unit_of_work() as work:
        result = await verify.check(work, request[CALLER], str(body.get("code") or "")[:20])
    if result.checked is verify.Checked.VERIFIED:
        return web.json_response({"ok": True, "verified": True})
    status = 400 if result.checked is verify.Checked.WRONG else 409
    raise error(status, result.checked.value, str(result.left))


async def link_device(request: web.Request) -> web.Response:
    """A device's secret URL, shown this once (only its hash is kept)."""
    body = await json_body(request)
    counts_as_ok = body.get("counts_as_ok")
    if not isinstance(counts_as_ok, bool):
        raise error(400, "invalid", "counts_as_ok")
    services = services_of(request)
    async with services.unit_of_work() as work:
        linked = await devices.link(
            work, request[CALLER], str(body.get("label") or ""), counts_as_ok
        )
    url = linked.url(services.settings.public_url or "")
    return web.json_response({"id": linked.device_id, "url": url})


async def revoke_device(request: web.Request) -> web.Response:
    async with services_of(request).unit_of_work() as work:
        await devices.revoke(work, request[CALLER], _id(request, "device_id"))
    return web.json_response({"ok": True})


async def save_daily_note(request: web.Request) -> web.Response:
    """A manager's choice: a daily note of every OK, or only word when something is wrong."""
    body = await json_body(request)
    every_day = body.get("every_day")
    if not isinstance(every_day, bool):
        raise error(400, "every_day_required")
    async with services_of(request).unit_of_work() as work:
        await reassurance.choose(work, request[CALLER], every_day)
    return web.json_response({"ok": True})


async def save_schedule(request: web.Request) -> web.Response:
    body = await json_body(request)
    try:
        schedule = Schedule(int(body.get("interval_days", -1)), int(body.get("hour", -1)))
    except (TypeError, ValueError):
        raise error(400, "invalid_schedule") from None
    async with services_of(request).unit_of_work() as work:
        await schedules.set_schedule(work, request[CALLER], schedule)
    return web.json_response({"ok": True})


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


async def resume(request: web.Request) -> web.Response:
    """Resume a pause; refused (409 not_paused) when there is none, so the schedule is left."""
    await json_body(request)
    async with services_of(request).unit_of_work() as work:
        await schedules.resume(work, request[CALLER])
    return web.json_response({"ok": True})


async def stop(request: web.Request) -> web.Response:
    """Stop check-ins (as the chat's 安否確認を止める): the managers are told. During an open
    alert she is asked first (409 alert_open_confirm, then alert_ok)."""
    await _asked_first(request, await json_body(request))
    async with services_of(request).unit_of_work() as work:
        await schedules.stop(work, request[CALLER])
    return web.json_response({"ok": True})


@before_terms
async def withdraw(request: web.Request) -> web.Response:
    """退会: the optional fields and the memberships are deleted, check-ins stop. Then the LIFF
    app's authorization is revoked with the access token the page sent (`line_unlinked` says
    whether LINE did; the page never claims it did when it did not)."""
    body = await json_body(request)
    if body.get("confirm") is not True:
        raise error(400, "confirm_required")
    async with services_of(request).unit_of_work() as work:
        await withdrawal.withdraw(work, request[CALLER])
    unlinked = await deauthorize(request, body.get("access_token"))
    return web.json_response({"ok": True, "line_unlinked": unlinked})


async def member_view(request: web.Request) -> web.Response:
    """Read only: oneself, or a user of a team the caller manages. Nobody else."""
    viewer = request[CALLER]
    member_id = _id(request, "member_id")
    services = services_of(request)
    async with services.unit_of_work() as work:
        member = await people.viewable(work, viewer, member_id)
        locale = services.locale(viewer.language)
        body = await card(work, locale, member, viewer)
        # Her details, shown here to a manager she shows them to: audited as her card is.
        shown = body["personal"] is not None
        await audit_member_view(work, viewer, member, shown, bool(body["memo"]))
    return web.json_response({"member": body})


async def member_history(request: web.Request) -> web.Response:
    """The last 30 days of answers: oneself, or a user of a team the caller manages."""
    viewer = request[CALLER]
    services = services_of(request)
    locale = services.locale(viewer.language)
    async with services.reading() as work:
        member = await people.viewable(work, viewer, _id(request, "member_id"))
        entries = await people.history(work, member)
    return web.json_response(
        {
            "days": [
                {
                    "date": day.isoformat(),
                    "label": locale.when(entry.slot_at),
                    "short": locale.short_day(day),
                    "answer": entry.answer,
                    "minutes": entry.minutes,
                }
                for entry in entries
                for day in [entry.slot_at.astimezone(services.timezone).date()]
            ]
        }
    )


# --- teams -------------------------------------------------------------------------------


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
                entry["state"] = locale.t(
                    f"status.round.{state.round.value if state.round else 'none'}"
                )
            members.append(entry)
    shown_codes = invites.may_hand_out(team, role)
    codes = await invites.ensure_invites(work, team) if shown_codes else {}
    return {
        "id": team.id,
        "name": team.name,
        "role": role.value,
        "default_schedule": locale.schedule(team.default_interval_days, team.default_hour),
        "members": members,
        "invites": {
            r.value: await invite_view(
                work.services, locale, team, r, codes[r].code, invites.expires_at(work, codes[r])
            )
            for r in codes
        },
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


async def create_team(request: web.Request) -> web.Response:
    body = await json_body(request)
    role = _role(body)
    async with services_of(request).unit_of_work() as work:
        created = await teams.create_team(
            work, str(body.get("name") or ""), founder=request[CALLER], role=role
        )
    return web.json_response({"ok": True, "team_id": created.team.id}, status=201)


async def rotate_invite(request: web.Request) -> web.Response:
    body = await json_body(request)
    role = _role(body)
    async with services_of(request).unit_of_work() as work:
        team, own_role = await teams.membership(work, request[CALLER], _id(request, "team_id"))
        await invites.codes_for(work, team, own_role)  # refused where they are not hers
        await invites.rotate_invite(work, team, role)
    return web.json_response({"ok": True})


async def leave_team(request: web.Request) -> web.Response:
    await json_body(request)
    viewer = request[CALLER]
    async with services_of(request).unit_of_work() as work:
        team, role = await teams.membership(work, viewer, _id(request, "team_id"))
        await teams.leave_team(work, team, viewer, role)
    return web.json_response({"ok": True})


async def stop_watching(request: web.Request) -> web.Response:
    """The person takes a manager off watching them (the chat's 「外す」 too)."""
    body = await json_body(request)
    if body.get("confirm") is not True:
        raise error(400, "confirm_required")
    async with services_of(request).unit_of_work() as work:
        await teams.stop_watching(work, request[CALLER], _id(request, "member_id"))
    return web.json_response({"ok": True})


async def set_shown(request: web.Request) -> web.Response:
    """Her 「見せる」/「見せない」 for one manager who watches her (he keeps watching her)."""
    body = await json_body(request)
    if not isinstance(body.get("shown"), bool):
        raise error(400, "invalid_shown")
    async with services_of(request).unit_of_work() as work:
        await sharing.set_shown(work, request[CALLER], _id(request, "member_id"), body["shown"])
    return web.json_response({"ok": True, "shown": body["shown"]})


# --- わたしの記録 and 退会's deauthorization (issue 38) ------------------------------------


async def my_records(request: web.Request) -> web.Response:
    """Everything held about the caller (care.privacy.disclosure), as the page shows it. Only hers:
    the caller is who LINE's ID token names; no id is read from the request."""
    member = request[CALLER]
    services = services_of(request)
    locale = services.locale(member.language)
    async with services.reading() as work:
        record = await record_of(work, locale, member)
    return web.json_response({"record": record.as_json(), "texts": locale.section("my_records")})


async def my_records_download(request: web.Request) -> web.Response:
    """The same record as a file: ?format=json or ?format=csv."""
    kind = request.query.get("format", "json")
    if kind not in ("json", "csv"):
        raise error(400, "invalid_format")
    member = request[CALLER]
    services = services_of(request)
    async with services.reading() as work:
        record = await record_of(work, services.locale(member.language), member)
    text = record.to_json() if kind == "json" else record.to_csv()
    response = web.Response(
        text=text,
        content_type="application/json" if kind == "json" else "text/csv",
        charset="utf-8",
    )
    response.headers["Content-Disposition"] = (
        f'attachment; filename="mimamori-my-records-{member.id}.{kind}"'
    )
    response.headers["Cache-Control"] = "no-store"
    return response


async def deauthorize(request: web.Request, access_token: object) -> bool:
    """LINE Login's deauthorize with her access token, after 退会 committed: a failure is
    logged and 退会 stands (she was told only what happened)."""
    deauthorizer = request.config_dict.get(LIFF_DEAUTHORIZER)
    if deauthorizer is None:
        log.warning("退会 without revoking the LIFF app: LINE_LOGIN_CHANNEL_SECRET is not set")
        return False
    if not isinstance(access_token, str) or not 0 < len(access_token) <= 4096:
        log.warning("退会 without revoking the LIFF app: the page sent no access token")
        return False
    return await deauthorizer.deauthorize(access_token, request[CALLER].line_user_id)


def page_texts(locale: Locale) -> dict[str, str]:
    """What the page's script shows, in the person's language."""
    texts = locale.section("liff")
    # The number's verification (care.rounds.verify), in a table of its own.
    texts.update({f"verify.{k}": v for k, v in locale.section("calls.verify").items()})
    texts.update({f"guard.{k}": v for k, v in locale.section("calls.guard").items()})
    # わたしの記録 and what 退会 says about LINE (issue 38).
    texts.update({f"my_records.{k}": v for k, v in locale.section("my_records").items()})
    # Her 「見せる」/「見せない」 next to each manager in her team (issue 38's review).
    texts.update({f"share_back.{k}": v for k, v in locale.section("share_back").items()})
    for role in Role:
        texts[f"role.{role.value}"] = locale.t(f"role_name.{role.value}")
    for days in INTERVALS:
        texts[f"interval.{days}"] = locale.t("schedule.interval_choice", days=days)
    for hour in range(24):
        texts[f"hour.{hour}"] = locale.t("schedule.hour_choice", hour=hour)
    return texts


# --- her card: phone, address and 緊急時メモ off the chat (issue 38) -------------------------
# Alerts, visit requests and the roll-call's 「助けが必要です」 carry a button to here
# (/liff/card/{id}) instead of her details; care.members.cards decides who reads what, and audits
# it. Open before the terms are accepted: a partner or a relative at her door is not kept from her
# phone number by a page of terms (safety first, as the alert itself).


@before_terms
async def person_card(request: web.Request) -> web.Response:
    """Her card for the caller: her details where she shows them to the caller, that she chose
    not to for a manager she does not show them to, and 404 for anyone else (whether she
    exists or not)."""
    viewer = request[CALLER]
    services = services_of(request)
    locale = services.locale(viewer.language)
    texts = {f"card.{key}": value for key, value in locale.section("card").items()}
    async with services.unit_of_work() as work:
        found = await open_card(work, viewer, row_id(request.match_info["member_id"]))
    if found is None:
        body = {"error": "not_found", "detail": "", "texts": texts}
        response = web.json_response(body, status=404)
    else:
        response = web.json_response({"card": card_view(services, locale, found), "texts": texts})
    response.headers["Cache-Control"] = "no-store"
    return response


def card_view(services: Services, locale: Locale, found: Card) -> dict[str, Any]:
    person = found.person
    return {
        "id": person.id,
        "name": display_name(locale, person),
        "relation": found.relation.value,
        "shown": found.shown,
        "alert_open": found.alert_open,
        "last_ok": locale.when(person.last_ok_at),
        # Each shown detail, 要配慮 ones marked (storage.models.SENSITIVE_FIELDS).
        "details": [
            {"field": name, "value": value, "sensitive": name in found.sensitive}
            for name, value in found.details
        ],
        "tel": found.tel,
        "memo_later": found.memo_later,
        # A manager's way on to her page (answers, the last 30 days): My page's team view.
        "member_page": f"/liff/teams#member-{person.id}"
        if found.relation is Relation.MANAGER
        else None,
    }


# --- the API ------------------------------------------------------------------------------


def api_app() -> web.Application:
    """The API as a sub-app under /liff/api, behind its guard."""
    app = web.Application(middlewares=[guard])
    routes: list[tuple[str, str, Handler]] = [
        ("GET", "/me", me),
        ("POST", "/terms", accept_terms),
        ("PUT", "/me/personal", save_personal),
        ("PUT", "/me/schedule", save_schedule),
        ("PUT", "/me/memo", save_memo),
        ("PUT", "/me/language", save_language),
        ("PUT", "/me/daily_note", save_daily_note),
        ("PUT", "/me/calls", save_calls),
        ("POST", "/me/calls/verify", call_for_code),
        ("POST", "/me/calls/code", check_code),
        ("POST", "/me/devices", link_device),
        ("DELETE", "/me/devices/{device_id}", revoke_device),
        ("POST", "/me/pause", pause),
        ("POST", "/me/resume", resume),
        ("POST", "/me/stop", stop),
        ("POST", "/me/withdraw", withdraw),
        ("GET", "/me/records", my_records),
        ("GET", "/me/records/download", my_records_download),
        ("GET", "/members/{member_id}", member_view),
        ("GET", "/members/{member_id}/history", member_history),
        ("GET", "/teams", team_list),
        ("POST", "/teams", create_team),
        ("POST", "/teams/{team_id}/rotate", rotate_invite),
        ("POST", "/teams/{team_id}/leave", leave_team),
        ("POST", "/managers/{member_id}/stop", stop_watching),
        ("PUT", "/managers/{member_id}/shown", set_shown),
        ("GET", "/cards/{member_id}", person_card),  # her card (issue 38)
    ]
    for method, path, handler in routes:
        app.router.add_route(method, path, handler)
    return app
