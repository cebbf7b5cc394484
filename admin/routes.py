"""The console's URLs: a sub-app under /admin, every view behind its guard."""

from __future__ import annotations

from aiohttp import web

from admin import (
    access,
    accounts,
    auth,
    desk,
    guides,
    health,
    my_records,
    partners,
    report,
    rollcalls,
    signin,
    views,
)

STATIC = views.__file__.rsplit("/", 1)[0] + "/static"


def setup_admin(app: web.Application) -> None:
    app.add_subapp("/admin", admin_app())


def admin_app() -> web.Application:
    console = web.Application(middlewares=[auth.network_gate, auth.guard, health.service_health])
    console[views.QUOTA_CACHE] = views.QuotaCache()
    console[auth.LOGIN_GATE] = auth.LoginGate()
    add = console.router.add_route
    add("GET", "/login", auth.login_page)
    add("POST", "/login", auth.login)
    add("POST", "/logout", auth.logout)
    signin.add_routes(console)
    accounts.add_routes(console)
    add("GET", "/", views.dashboard)
    add("GET", "/alerts", views.alerts)
    add("GET", "/teams", views.teams)
    add("POST", "/teams", views.create_team)
    add("GET", "/teams/{team_id}", views.team)
    add("POST", "/teams/{team_id}", views.team_action)
    add("GET", "/teams/{team_id}/flyer", views.flyer)
    add("GET", "/groups", views.groups)
    add("GET", "/notices", views.notices)
    add("POST", "/notices/preview", views.preview_notice)
    add("POST", "/notices/send", views.send_notice)
    add("GET", "/quota", views.quota)
    add("GET", "/audit", views.audit_log)
    # Figures alone (閲覧 too) before the files of people's details (運用管理, with a purpose).
    add("GET", "/export/usage.csv", views.export_usage)
    add("GET", "/export/{what}.csv", views.export_form)
    add("POST", "/export/{what}.csv", views.export)
    rollcalls.add_routes(console)
    desk.add_routes(console)
    report.add_routes(console)
    partners.add_routes(console)
    guides.add_routes(console)
    health.add_routes(console)
    my_records.add_routes(console)
    console.router.add_static("/static", STATIC)
    console[access.PAGE_ROLES] = access.page_roles(console.router, "/admin")
    return console
