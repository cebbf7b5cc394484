"""What the console's pages share: the page with LINE's quota banner, a refusal of the service
layer said in the console's language, who a notice or a roll-call is for, and a roll-call's
tally read with its look audited."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from aiohttp import web

from admin.auth import session_of
from admin.quota import Forecast, forecast
from admin.render import QUOTA_WARNING, admin_locale, render, services_of
from care.broadcasts.notices import AUDIENCES, Audience
from care.desk.reading import VIEW_AUDIT_EVERY
from care.errors import Refusal, Refused
from care.services import UnitOfWork
from ground.identifiers import row_id, row_ids
from storage.rollcalls import RollCall
from storage.stats import StatsRepository

QUOTA_CACHE_FOR = timedelta(minutes=10)
# Teams a picker lists at once: a prefecture's are tens of thousands (a household each), and
# a page naming every one grew to megabytes and seconds; staff search for the rest.
TEAMS_SHOWN = 100
T = TypeVar("T")


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


async def page(request: web.Request, template: str, context: dict[str, Any]) -> web.Response:
    found = await quota_forecast(request)
    request[QUOTA_WARNING] = found is not None and found.warning
    return render(request, template, context)


async def page_status(
    request: web.Request, template: str, context: dict[str, Any], status: int
) -> web.Response:
    response = await page(request, template, context)
    response.set_status(status)
    return response


def refusal(request: web.Request, refused: Refused) -> web.HTTPException:
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


def audience_of(form: Any, kinds: tuple[str, ...] = AUDIENCES) -> Audience:
    """Who a notice or a roll-call is for, from the console's form."""
    kind = str(form.get("audience", ""))
    if kind not in kinds:
        raise web.HTTPBadRequest(text="choose who it is for")
    return Audience(
        kind=kind,
        team_ids=tuple(row_ids(form.getall("team_id", []))),
        group_ids=tuple(row_ids(form.getall("group_id", []))),
        member_id=row_id(form.get("member_id")),
    )


async def roll_call_of(request: web.Request) -> RollCall:
    """The roll-call the path names (call_id), or 404."""
    roll_call_id = row_id(request.match_info["call_id"])
    async with services_of(request).reading_repositories() as repos:
        call = await repos.rollcalls.get(roll_call_id) if roll_call_id else None
    if call is None:
        raise web.HTTPNotFound(text="no such roll-call")
    return call


async def read_tally(
    request: web.Request,
    read: Callable[[UnitOfWork, RollCall], Awaitable[T]],
    viewed: str,
    scope: str,
) -> tuple[RollCall, T]:
    """A roll-call's tally, `read` of the roll-call the path names (as it stands in the same
    transaction), with the look audited: people's answers and how to reach them were read.
    Once each `VIEW_AUDIT_EVERY` per admin and roll-call (`viewed` the audit's action,
    `scope` the page's), since a tally page reloads itself while the roll-call is open."""
    roll_call_id = (await roll_call_of(request)).id
    admin = session_of(request).admin.name
    async with services_of(request).unit_of_work() as work:
        call = await work.repos.rollcalls.get(roll_call_id)
        if call is None:
            raise web.HTTPNotFound(text="no such roll-call")
        found = await read(work, call)
        await work.repos.admin.audit_view(
            admin,
            viewed,
            f"roll-call {call.id}",
            work.now,
            VIEW_AUDIT_EVERY,
            f"{scope}:{call.id}:{admin}",
        )
    return call, found


async def team_choices(
    request: web.Request, stats: StatsRepository, including: Iterable[int] = ()
) -> dict[str, Any]:
    """A team picker's context: the first TEAMS_SHOWN teams whose name has the page's
    `team_q`, the ones `including` names (a form's ticked: never dropped by a save), how many
    the search finds, and the search."""
    search = request.query.get("team_q", "")[:50]
    return {
        "teams": await stats.teams(search, TEAMS_SHOWN, including),
        "teams_total": await stats.team_count(search),
        "teams_shown": TEAMS_SHOWN,
        "team_q": search,
    }
