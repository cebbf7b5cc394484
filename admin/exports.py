"""The console's exports: the figures alone (閲覧 too), then the files of people's details
(運用管理, each with its purpose stated and audited)."""

from __future__ import annotations

from aiohttp import web

from admin.access import OPERATOR, VIEWER, allow
from admin.auth import audit
from admin.files import csv_file, export_page, purposeful_csv
from admin.overview import chart_period, daily
from admin.render import services_of
from care.privacy import exports
from storage.stats import DAILY_SERIES


@allow(OPERATOR, VIEWER)
async def export_usage(request: web.Request) -> web.Response:
    """The last 90 days' figures, no names: for 閲覧 too, audited like every export."""
    days = await daily(request, chart_period(request, 90))
    response = csv_file(
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
        if what == "cases":
            return await exports.cases(work)
        if what == "case_steps":
            return await exports.case_steps(work)
    raise web.HTTPNotFound()


@allow(OPERATOR)
async def export_form(request: web.Request) -> web.Response:
    return await export_page(request, await _export_of(request, request.match_info["what"]))


@allow(OPERATOR)
async def export(request: web.Request) -> web.Response:
    found = await _export_of(request, request.match_info["what"])
    return await purposeful_csv(request, found, "export")


def add_routes(console: web.Application) -> None:
    add = console.router.add_route
    # Figures alone (閲覧 too) before the files of people's details (運用管理, with a purpose).
    add("GET", "/export/usage.csv", export_usage)
    add("GET", "/export/{what}.csv", export_form)
    add("POST", "/export/{what}.csv", export)
