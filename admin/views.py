"""The console's pages. Every handler declares the roles that open it (admin.access.allow);
every change is audited."""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from admin.access import AUDITOR, DESK, EVERY_ROLE, OPERATOR, VIEWER, allow
from admin.auth import audit, session_of
from admin.chart import daily_chart
from admin.quota import Forecast, forecast
from admin.render import QUOTA_WARNING, admin_locale, render, services_of
from care.broadcasts import reach
from care.broadcasts.notices import AUDIENCES, TEXT_LIMIT, Audience, plan_notice, record_notice
from care.desk.reading import VIEW_AUDIT_EVERY, known_to_the_desk
from care.errors import Refusal, Refused
from care.members import by_phone, invites, on_behalf
from care.members import teams as team_service
from care.privacy import exports
from care.rounds import calls, status
from care.rounds.notify import phone_only
from care.rounds.schedule import INTERVALS, Schedule
from ground.identifiers import row_id
from storage.models import Role, StaffRole
from storage.stats import DAILY_SERIES

QUOTA_CACHE_FOR = timedelta(minutes=10)


def _int(value: Any) -> int | None:
    return row_id(value)


async def _daily(request: web.Request, days: int) -> list[dict[str, Any]]:
    now, tz = (
        services_of(request).clock.now(),
        services_of(request).settings.timezone,
    )
    today = now.astimezone(tz).date()
    async with services_of(request).reading_repositories() as repos:
        return await repos.stats.daily(
            today - timedelta(days=days - 1), today, tz.utcoffset(now) or timedelta(0)
        )


class QuotaCache:
    """LINE's quota answer, kept a few minutes: every page shows the warning banner."""

    def __init__(self) -> None:
        self.until: datetime | None = None
        self.forecast: Forecast | None = None


QUOTA_CACHE = web.AppKey("admin_quota_cache", QuotaCache)


async def quota_forecast(request: web.Request, fresh: bool = False) -> Forecast | None:
    now, cache = services_of(request).clock.now(), request.config_dict[QUOTA_CACHE]
    if not fresh and cache.until is not None and cache.until > now:
        return cache.forecast
    quota = await services_of(request).message_quota()
    cache.forecast = None
    if quota is not None:
        async with services_of(request).reading_repositories() as repos:
            cache.forecast = await forecast(
                repos,
                quota.limit,
                quota.used,
                now,
                services_of(request).settings.timezone,
            )
    cache.until = now + QUOTA_CACHE_FOR
    return cache.forecast


async def _page(request: web.Request, template: str, context: dict[str, Any]) -> web.Response:
    found = await quota_forecast(request)
    request[QUOTA_WARNING] = found is not None and found.warning
    return render(request, template, context)


@allow(*EVERY_ROLE)
async def dashboard(request: web.Request) -> web.Response:
    now = services_of(request).clock.now()
    days = await _daily(request, 30)
    async with services_of(request).reading_repositories() as repos:
        counts = await repos.stats.counts()
        answers = await repos.stats.answers(now - timedelta(days=30))
    locale = admin_locale(request)
    labels = {series: locale.t(f"admin.series.{series}") for series in DAILY_SERIES}
    return await _page(
        request,
        "dashboard.html",
        {
            "counts": counts,
            "today": days[-1],
            "answers": answers,
            "labels": labels,
            "chart": daily_chart(days, labels, locale.t("admin.chart_title")),
        },
    )


@allow(OPERATOR, DESK)
async def alerts(request: web.Request) -> web.Response:
    """The open alerts and those answered this week. 窓口 reads only the people the desk has a
    case for or watches (the others are their managers' alone), and is told that it does."""
    since = services_of(request).clock.now() - timedelta(days=7)
    admin = session_of(request).admin
    async with services_of(request).unit_of_work() as work:
        repos = work.repos
        await repos.admin.audit_view(
            admin.name, "alerts_viewed", "open alerts", work.now, VIEW_AUDIT_EVERY
        )
        open_alerts = await repos.stats.open_alerts()
        answered = await repos.stats.answered_after_alert(since)
        desk_only = admin.role is StaffRole.DESK
        if desk_only:
            ids = [row["member_id"] for row in open_alerts + answered]
            known = await known_to_the_desk(work, ids)
            open_alerts = [row for row in open_alerts if row["member_id"] in known]
            answered = [row for row in answered if row["member_id"] in known]
        context = {
            "alerts": open_alerts,
            "answered": answered,
            # Chat groups' names are their members' words, and groups are 運用管理's page.
            "reports": [] if desk_only else await repos.stats.group_reports(since),
            "desk_only": desk_only,
        }
    return await _page(request, "alerts.html", context)


@allow(OPERATOR)
async def teams(request: web.Request) -> web.Response:
    search = request.query.get("q", "")[:50]
    async with services_of(request).reading_repositories() as repos:
        found = await repos.stats.teams(search)
    return await _page(
        request,
        "teams.html",
        {
            "teams": found,
            "search": search,
            "intervals": INTERVALS,
            "hours": range(24),
            "schedule": admin_locale(request).schedule,
        },
    )


def _refused(request: web.Request, refused: Refused) -> web.HTTPException:
    """The service layer's refusal, said in the console's language."""
    if refused.reason is Refusal.NO_SUCH_TEAM:
        return web.HTTPNotFound(text="no such team")
    locale = admin_locale(request)
    if refused.reason is Refusal.QUOTA_SHORT:
        return web.HTTPBadRequest(text=locale.t("rollcall.quota_short", **refused.values))
    key = f"admin.refused.{refused.reason.value}"
    if key not in locale.texts:  # a call's number (care.rounds.verify) says it in its own table
        key = f"admin.calls_verify.refused.{refused.reason.value}"
    if key not in locale.texts:  # ...and what guards its calls (issue 37) in another
        key = f"admin.calls_guard.refused.{refused.reason.value}"
    return web.HTTPBadRequest(text=locale.t(key, **refused.values))


@allow(OPERATOR)
async def create_team(request: web.Request) -> web.Response:
    """A team for an area (町会, 集合住宅, 民生委員 district), kept while it waits for people."""
    form = await request.post()
    interval, hour = _int(form.get("interval_days")), _int(form.get("hour"))
    try:
        schedule = Schedule(-1 if interval is None else interval, -1 if hour is None else hour)
        async with services_of(request).unit_of_work() as work:
            created = await team_service.create_team(
                work, str(form.get("name", "")), schedule=schedule
            )
    except ValueError:
        raise web.HTTPBadRequest(text="team name, interval or hour not valid") from None
    except Refused as refused:
        raise _refused(request, refused) from None
    team = created.team
    await audit(request, "team_created", f"{team.id} {team.name}")
    raise web.HTTPSeeOther(f"/admin/teams/{team.id}")


async def _team_context(request: web.Request) -> dict[str, Any]:
    team_id = _int(request.match_info["team_id"])
    locale = admin_locale(request)
    async with services_of(request).unit_of_work() as work:
        try:
            team = await team_service.team_by_id(work, team_id)
        except Refused as refused:
            raise _refused(request, refused) from None
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
    return await _page(request, "team.html", await _team_context(request))


@allow(OPERATOR)
async def flyer(request: web.Request) -> web.Response:
    """An A4 page for the 町会's notice board: the user invite as a large QR code."""
    context = await _team_context(request)
    await audit(request, "flyer_printed", str(context["team"].id))
    return render(request, "flyer.html", context)


TEAM_ACTIONS = (
    "rotate_user",
    "rotate_manager",
    "add_manager",
    "remove_manager",
    "desk_watch_on",
    "desk_watch_off",
    "set_turn",
    "set_turn_minutes",
    "register_by_phone",
)


@allow(OPERATOR)
async def team_action(request: web.Request) -> web.Response:
    """Add or remove a manager by 会員ID, rotate an invite code, or register a person who is
    watched by phone alone (then shown their card)."""
    team_id = _int(request.match_info["team_id"])
    form = await request.post()
    action, member_id = str(form.get("action", "")), _int(form.get("member_id"))
    if action not in TEAM_ACTIONS:
        raise web.HTTPBadRequest(text="unknown action")
    try:
        async with services_of(request).unit_of_work() as work:
            found = await team_service.team_by_id(work, team_id)
            if action.startswith("rotate_"):
                await invites.rotate_invite(work, found, Role(action.removeprefix("rotate_")))
            elif action == "add_manager":
                staff = session_of(request).admin.name
                consented = form.get("consented") == "on"
                await on_behalf.add_watcher(work, found, member_id, staff, consented)
            elif action.startswith("desk_watch_"):
                await team_service.set_desk_watched(work, found, action == "desk_watch_on")
            elif action == "set_turn":
                await team_service.set_turn(work, found, member_id, _int(form.get("turn")))
            elif action == "register_by_phone":
                staff = session_of(request).admin.name
                person = await by_phone.register(
                    work,
                    found,
                    str(form.get("name", "")),
                    str(form.get("phone", "")),
                    str(form.get("language", "ja")),
                    staff,
                    form.get("consented") == "on",
                )
                member_id = person.id
            elif action == "set_turn_minutes":
                minutes = _int(form.get("minutes")) if form.get("minutes") else None
                await team_service.set_turn_minutes(work, found, minutes)
            else:
                await team_service.remove_manager(work, found, member_id)
    except Refused as refused:
        raise _refused(request, refused) from None
    await audit(request, f"team_{action}", f"team {found.id} member {member_id or ''}")
    if action == "register_by_phone":
        raise web.HTTPSeeOther(f"/admin/people/{member_id}")
    raise web.HTTPSeeOther(f"/admin/teams/{found.id}")


@allow(OPERATOR)
async def groups(request: web.Request) -> web.Response:
    async with services_of(request).reading_repositories() as repos:
        found = await repos.stats.groups()
    return await _page(
        request,
        "groups.html",
        {
            "groups": found,
            "schedule": admin_locale(request).schedule,
        },
    )


@allow(OPERATOR)
async def notices(request: web.Request) -> web.Response:
    async with services_of(request).reading_repositories() as repos:
        sent = await repos.admin.notices()
        team_list = await repos.stats.teams()
        group_list = await repos.stats.groups()
    pending = any((n["rows_sent"] or 0) + (n["rows_failed"] or 0) < n["rows_total"] for n in sent)
    return await _page(
        request,
        "notices.html",
        {
            "notices": sent,
            "teams": team_list,
            "groups": group_list,
            "audiences": AUDIENCES,
            "pending": pending,
            "limit": TEXT_LIMIT,
        },
    )


def audience_of(form: Any, kinds: tuple[str, ...] = AUDIENCES) -> Audience:
    """Who a notice or a roll-call is for, from the console's form."""
    kind = str(form.get("audience", ""))
    if kind not in kinds:
        raise web.HTTPBadRequest(text="choose who it is for")
    return Audience(
        kind=kind,
        team_ids=tuple(i for i in (_int(v) for v in form.getall("team_id", [])) if i),
        group_ids=tuple(i for i in (_int(v) for v in form.getall("group_id", [])) if i),
        member_id=_int(form.get("member_id")),
    )


def _notice_text(form: Any) -> str:
    text = str(form.get("text", "")).strip()
    if not text or len(text) > TEXT_LIMIT:
        raise web.HTTPBadRequest(text=f"the notice needs 1-{TEXT_LIMIT} characters")
    return text


@allow(OPERATOR)
async def preview_notice(request: web.Request) -> web.Response:
    form = await request.post()
    text, audience = _notice_text(form), audience_of(form)
    sizes = await reach.group_sizes(services_of(request), audience.group_ids)
    async with services_of(request).reading() as work:
        plan = await plan_notice(work, audience, sizes)
    found = await quota_forecast(request)
    return await _page(
        request,
        "preview.html",
        {
            "text": text,
            "plan": plan,
            "audience_json": json.dumps(audience.detail()),
            "forecast": found,
        },
    )


@allow(OPERATOR)
async def send_notice(request: web.Request) -> web.Response:
    form = await request.post()
    text, audience = _notice_text(form), audience_of(form)
    admin = session_of(request).admin.name
    forecast = await quota_forecast(request, fresh=True)
    left = forecast.left if forecast else None
    sizes = await reach.group_sizes(services_of(request), audience.group_ids)
    try:
        async with services_of(request).unit_of_work() as work:
            plan = await plan_notice(work, audience, sizes)
            outcome = await record_notice(work, plan, text, admin, left)
    except Refused as refused:
        raise _refused(request, refused) from None
    if isinstance(outcome, str):
        raise web.HTTPBadRequest(text=admin_locale(request).t(f"admin.notice_problem.{outcome}"))
    raise web.HTTPSeeOther("/admin/notices")


@allow(OPERATOR, VIEWER)
async def quota(request: web.Request) -> web.Response:
    """LINE's month and, where calls are placed, the calls' month beside it: both cost."""
    found = await quota_forecast(request, fresh=True)
    unlimited = services_of(request).settings.unlimited_messages
    call_budget = None
    if services_of(request).settings.calls:
        async with services_of(request).reading() as work:
            call_budget = await calls.budget(work)
    context = {"forecast": found, "unlimited_plan": unlimited, "calls": call_budget}
    return await _page(request, "quota.html", context)


AUDIT_PAGE = 100
AUDIT_FILTERS = ("action", "account", "from", "to")


@allow(OPERATOR, AUDITOR)
async def audit_log(request: web.Request) -> web.Response:
    """The audit log, newest first, a page at a time (older / newer by row id), filtered by
    action, account and days (the deployment's dates, both ends included). Read-only: a flood
    of refused sign-ins cannot push a staff member's action out of reach."""
    query = request.query
    filters = {key: query.get(key, "").strip()[:64] for key in AUDIT_FILTERS}
    tz = services_of(request).settings.timezone
    try:
        since = _day_start(filters["from"], tz)
        until = _day_start(filters["to"], tz, next_day=True)
        before, after = _audit_id(query.get("before")), _audit_id(query.get("after"))
    except (ValueError, OverflowError):
        context = {
            "entries": [],
            "filters": filters,
            "problem": "bad_filter",
            "pages": {"older": None, "newer": None},
        }
        return await _page_status(request, "audit.html", context, 400)
    async with services_of(request).reading_repositories() as repos:
        entries = await repos.admin.audit_log(
            AUDIT_PAGE + 1,
            action=filters["action"] or None,
            account=filters["account"] or None,
            since=since,
            until=until,
            before=before,
            after=after if before is None else None,
        )
    more = len(entries) > AUDIT_PAGE
    # One row more than a page says whether there is more in the direction read.
    if after is not None and before is None:
        entries = entries[1:] if more else entries
        newer, older = more, True
    else:
        entries = entries[:AUDIT_PAGE]
        newer, older = before is not None, more
    kept = {key: value for key, value in filters.items() if value}
    pages = {
        "older": f"?{urlencode({**kept, 'before': entries[-1]['id']})}"
        if older and entries
        else None,
        "newer": f"?{urlencode({**kept, 'after': entries[0]['id']})}"
        if newer and entries
        else None,
    }
    context = {"entries": entries, "filters": filters, "problem": None, "pages": pages}
    return await _page(request, "audit.html", context)


def _day_start(text: str, tz: tzinfo, next_day: bool = False) -> datetime | None:
    """The start of a day written 2026-04-01 in the deployment's time zone (of the day after,
    for the range's inclusive end); None when not given. ValueError when not a date."""
    if not text:
        return None
    day = date.fromisoformat(text) + timedelta(days=1 if next_day else 0)
    return datetime.combine(day, time(0), tz)


def _audit_id(text: str | None) -> int | None:
    if not text:
        return None
    found = row_id(text)
    if found is None:
        raise ValueError(text)
    return found


async def _page_status(
    request: web.Request, template: str, context: dict[str, Any], status: int
) -> web.Response:
    response = await _page(request, template, context)
    response.set_status(status)
    return response


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> Any:
    """A text cell a spreadsheet will not run as a formula (OWASP's CSV injection advice: a
    leading =, +, -, @, tab or carriage return is prefixed with a quote). Japanese spreadsheet
    programs also read the full-width ＝＋－＠ as formulas, and skip leading spaces: the
    first character is read as NFKC would have it, after any spaces."""
    if not isinstance(value, str):
        return value
    first = unicodedata.normalize("NFKC", value.lstrip(" \u3000")[:1])
    if value.startswith(FORMULA_START) or first.startswith(FORMULA_START):
        return "'" + value
    return value


def _csv(name: str, header: list[str], rows: list[list[Any]]) -> web.Response:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows([[cell(value) for value in row] for row in rows])
    # A BOM so that spreadsheet programs in Japan open the UTF-8 file correctly.
    return web.Response(
        body=("\ufeff" + buffer.getvalue()).encode("utf-8"),
        content_type="text/csv",
        charset="utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            # People's names and phone numbers: no proxy or browser cache keeps a copy.
            "Cache-Control": "no-store",
        },
    )


@allow(OPERATOR, VIEWER)
async def export_usage(request: web.Request) -> web.Response:
    """The last 90 days' figures, no names: for 閲覧 too, audited like every export."""
    days = await _daily(request, 90)
    response = _csv(
        "usage.csv",
        ["date", *DAILY_SERIES],
        [[d["date"], *(d[s] for s in DAILY_SERIES)] for d in days],
    )
    await audit(request, "export", "usage.csv")
    return response


async def _export_of(request: web.Request, what: str) -> exports.Export:
    async with services_of(request).reading() as work:
        if what == "members":
            return await exports.members(work)
        if what == "teams":
            return await exports.teams(work)
    raise web.HTTPNotFound()


async def export_page(
    request: web.Request, found: exports.Export, problem: bool = False
) -> web.Response:
    """What a file of people's details will hold, and the form that states its purpose."""
    return render(
        request,
        "export.html",
        {
            "export": found,
            "action": request.path,
            "purposes": exports.PURPOSES,
            "text_min": exports.PURPOSE_TEXT_MIN,
            "text_limit": exports.PURPOSE_TEXT_LIMIT,
            "problem": problem,
        },
        status=400 if problem else 200,
    )


async def purposeful_csv(request: web.Request, found: exports.Export, action: str) -> web.Response:
    """The file, once the form stated a purpose (else the form again, saying it is needed);
    the audit row says what, how many rows, how many fields were withheld, and why."""
    form = await request.post()
    purpose = exports.purpose_of(str(form.get("purpose", "")), str(form.get("purpose_text", "")))
    if purpose is None:
        return await export_page(request, found, problem=True)
    await audit(request, action, found.detail(purpose))
    response = _csv(found.name, found.header, found.rows)
    response.headers["X-Withheld-Fields"] = str(found.withheld)
    return response


@allow(OPERATOR)
async def export_form(request: web.Request) -> web.Response:
    return await export_page(request, await _export_of(request, request.match_info["what"]))


@allow(OPERATOR)
async def export(request: web.Request) -> web.Response:
    found = await _export_of(request, request.match_info["what"])
    return await purposeful_csv(request, found, "export")
