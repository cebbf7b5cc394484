"""The console's list of people (ご本人の一覧): searched as the desk's queue is (a name, ふりがな,
a 会員ID, a phone number; GET parameters), a page at a time, each linking to her card. 運用管理
sees everyone; 窓口 only those it may read (care.desk.reading.known_person: a case lately, a
team it watches); 閲覧 and 監査 not at all. Reading it is audited as a card is."""

from __future__ import annotations

from aiohttp import web

from admin import searching
from admin.access import DESK, OPERATOR, allow
from admin.auth import session_of
from admin.desk import phone_of
from admin.pages import page
from admin.render import services_of
from care.desk.reading import CASE_KNOWN_FOR, VIEW_AUDIT_EVERY
from storage.desk import PEOPLE_SORTS
from storage.models import StaffRole

# The pages past this one the list counts (and links): past them it says "more than" and goes
# on a page at a time. Counting a city's every resident for a page of fifty grew with the city
# (issue 42).
PAGES_AHEAD = 10


def _counted_to(asked: searching.Asked) -> int:
    """How far the list counts: this page, PAGES_AHEAD more, and one to know there are more."""
    return asked.search.offset + asked.search.limit * (PAGES_AHEAD + 1) + 1


@allow(OPERATOR, DESK)
async def people(request: web.Request) -> web.Response:
    services = services_of(request)
    session = session_of(request)
    staff = session.admin.name
    everyone = session.admin.role is StaffRole.OPERATOR
    now = services.clock.now()
    asked = searching.asked(request.query, now, staff, tuple(PEOPLE_SORTS))
    known_since = now - CASE_KNOWN_FOR
    desk_watching = services.timings.desk_after is not None
    reading = (known_since, desk_watching, not everyone)
    async with services.unit_of_work() as work:
        await work.repos.admin.audit_view(
            staff, "people_viewed", "people list", work.now, VIEW_AUDIT_EVERY
        )
        found, total = await work.repos.desk.people_page(
            asked.search, *reading, _counted_to(asked)
        )
        if asked.page > asked.pages(total):
            asked = searching.within(asked, total)
            found, total = await work.repos.desk.people_page(
                asked.search, *reading, _counted_to(asked)
            )
        more = total >= _counted_to(asked)
        total = min(total, _counted_to(asked) - 1)
        at_risk = await work.repos.heat.at_risk_ids() if services.settings.heat_areas else None
    context = {
        "people": found,
        "total": total,
        "more": more,
        "PAGES_AHEAD": PAGES_AHEAD,  # the pages linked either side of this one
        "asked": asked,
        "everyone": everyone,
        "phone_of": phone_of,
        # 暑い日の確認 (issue 41): who the desk marked at risk, where the city reads the alerts.
        "at_risk": at_risk,
    }
    return await page(request, "people.html", context)


def add_routes(console: web.Application) -> None:
    console.router.add_route("GET", "/people", people)
