"""The console's monthly report for the municipality (counts only, no names): a printable
page and a CSV."""

from __future__ import annotations

import re
from datetime import date

from aiohttp import web

from admin import files, pages
from admin.access import OPERATOR, VIEWER, allow
from admin.auth import audit
from admin.desk import outcome_label
from admin.render import services_of
from care.desk import report

MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def _month(request: web.Request) -> date:
    """?month=YYYY-MM, or this month; a month that cannot be read is a clear 400."""
    text = request.query.get("month", "")
    if not text:
        today = services_of(request).clock.now().astimezone(services_of(request).timezone)
        return today.date().replace(day=1)
    found = MONTH.match(text)
    if found is None or not 1 <= int(found.group(2)) <= 12 or int(found.group(1)) < 2000:
        raise web.HTTPBadRequest(text="month: YYYY-MM")
    return date(int(found.group(1)), int(found.group(2)), 1)


@allow(OPERATOR, VIEWER)
async def page(request: web.Request) -> web.Response:
    month = _month(request)
    async with services_of(request).reading() as work:
        found = await report.monthly(work, month)
    return await pages.page(
        request,
        "report.html",
        {"report": found, "month": month, "outcome_label": outcome_label(request)},
    )


@allow(OPERATOR, VIEWER)
async def csv_file(request: web.Request) -> web.Response:
    month = _month(request)
    async with services_of(request).reading() as work:
        found = await report.monthly(work, month)
    await audit(request, "report_export", month.strftime("%Y-%m"))
    rows = [[what, value] for what, value in found.rows()]
    return files.csv_file(f"mimamori-{month:%Y-%m}.csv", ["item", "value"], rows)


def add_routes(console: web.Application) -> None:
    console.router.add_route("GET", "/report", page)
    console.router.add_route("GET", "/report.csv", csv_file)
