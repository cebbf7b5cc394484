"""The console's URLs: a sub-app under /admin, every view behind its guard."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from admin import (
    access,
    accounts,
    audit_log,
    auth,
    desk,
    exports,
    guides,
    health,
    heat,
    my_records,
    notices,
    overview,
    pages,
    partners,
    people,
    report,
    rollcalls,
    roster,
    signin,
    teams,
)

STATIC = str(Path(__file__).resolve().parent / "static")


def setup_admin(app: web.Application) -> None:
    app.add_subapp("/admin", admin_app())


def admin_app() -> web.Application:
    console = web.Application(middlewares=[auth.network_gate, auth.guard, health.service_health])
    console[pages.QUOTA_CACHE] = pages.QuotaCache()
    console[auth.LOGIN_GATE] = auth.LoginGate()
    add = console.router.add_route
    add("GET", "/login", auth.login_page)
    add("POST", "/login", auth.login)
    add("POST", "/logout", auth.logout)
    signin.add_routes(console)
    accounts.add_routes(console)
    # The overview's pages, teams, notices and the audit log in the order they were added
    # (an aiohttp router matches in order: /export/usage.csv before /export/{what}.csv).
    overview.add_routes(console)
    teams.add_routes(console)
    notices.add_routes(console)
    audit_log.add_routes(console)
    exports.add_routes(console)
    rollcalls.add_routes(console)
    roster.add_routes(console)

    heat.add_routes(console)
    desk.add_routes(console)
    people.add_routes(console)
    report.add_routes(console)
    partners.add_routes(console)
    guides.add_routes(console)
    health.add_routes(console)
    my_records.add_routes(console)
    console.router.add_static("/static", STATIC)
    console[access.PAGE_ROLES] = access.page_roles(console.router, "/admin")
    return console
