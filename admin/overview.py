"""The console's overview: the dashboard's figures, the open alerts, the chat groups and the
month's quota. Read-only pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from aiohttp import web

from admin.access import DESK, EVERY_ROLE, OPERATOR, VIEWER, allow
from admin.auth import session_of
from admin.chart import daily_chart
from admin.pages import page, quota_forecast
from admin.render import admin_locale, services_of
from care.desk import report
from care.desk.reading import VIEW_AUDIT_EVERY, known_to_the_desk
from care.rounds import calls
from storage.models import StaffRole
from storage.stats import DAILY_SERIES

CHART_DAYS = 30
# The week's answered alerts listed, latest first: a million residents' week had 48,000
# (a 7 MB page); each person's card keeps her own.
ANSWERED_LISTED = 200


@dataclass(frozen=True)
class ChartPeriod:
    """A chart's local days, today the last, read from the clock once: its figures and the
    counts beside it are of the same days even across midnight."""

    first: date
    last: date
    start: datetime  # the first day's local midnight
    end: datetime  # the midnight after the last day
    offset: timedelta  # the zone's distance from UTC, as the day's hours are counted


def chart_period(request: web.Request, days: int) -> ChartPeriod:
    now, tz = services_of(request).clock.now(), services_of(request).settings.timezone
    last = now.astimezone(tz).date()
    first = last - timedelta(days=days - 1)
    return ChartPeriod(
        first,
        last,
        datetime.combine(first, time(), tz),
        datetime.combine(last + timedelta(days=1), time(), tz),
        tz.utcoffset(now) or timedelta(0),
    )


async def daily(request: web.Request, period: ChartPeriod) -> list[dict[str, Any]]:
    async with services_of(request).reading_repositories() as repos:
        return await repos.stats.daily(period.first, period.last, period.offset)


@allow(*EVERY_ROLE)
async def dashboard(request: web.Request) -> web.Response:
    period = chart_period(request, CHART_DAYS)
    days = await daily(request, period)
    start, end = period.start, period.end
    async with services_of(request).reading_repositories() as repos:
        counts = await repos.stats.counts()
        # The chart's days, as the figures beside it count them.
        answers = await repos.stats.answers(start, end)
        # お返事の割合 as the monthly report counts it (one definition), over the same days.
        rounds = await repos.stats.rounds_between(start, end)
    locale = admin_locale(request)
    labels = {series: locale.t(f"admin.series.{series}") for series in DAILY_SERIES}
    return await page(
        request,
        "dashboard.html",
        {
            "counts": counts,
            "today": days[-1],
            "answers": answers,
            "answer_rate": report.percent(
                report.answer_rate(rounds["checkins"], rounds["answered"], rounds["waiting"])
            ),
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
        answered = await repos.stats.answered_after_alert(since, ANSWERED_LISTED)
        capped = len(answered) >= ANSWERED_LISTED
        desk_only = admin.role is StaffRole.DESK
        # How many there were in all, for 運用管理: a city-wide figure 窓口 is not told (it
        # reads only its own people's).
        answered_total = None if desk_only else await repos.stats.answered_after_alert_count(since)
        if desk_only:
            ids = [row["member_id"] for row in open_alerts + answered]
            known = await known_to_the_desk(work, ids)
            open_alerts = [row for row in open_alerts if row["member_id"] in known]
            answered = [row for row in answered if row["member_id"] in known]
        context = {
            "alerts": open_alerts,
            "answered": answered,
            "answered_total": answered_total,
            "answered_capped": capped,
            "answered_listed": ANSWERED_LISTED,
            # Chat groups' names are their members' words, and groups are 運用管理's page.
            "reports": [] if desk_only else await repos.stats.group_reports(since),
            "desk_only": desk_only,
        }
    return await page(request, "alerts.html", context)


@allow(OPERATOR)
async def groups(request: web.Request) -> web.Response:
    async with services_of(request).reading_repositories() as repos:
        found = await repos.stats.groups()
    return await page(
        request,
        "groups.html",
        {
            "groups": found,
            "schedule": admin_locale(request).schedule,
        },
    )


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
    return await page(request, "quota.html", context)


def add_routes(console: web.Application) -> None:
    add = console.router.add_route
    add("GET", "/", dashboard)
    add("GET", "/alerts", alerts)
    add("GET", "/groups", groups)
    add("GET", "/quota", quota)
