"""The console's URLs, all under /admin."""

from __future__ import annotations

from aiohttp import web

from admin import auth, views

STATIC = views.__file__.rsplit("/", 1)[0] + "/static"


def setup_admin(app: web.Application) -> None:
    app[views.QUOTA_CACHE] = views.QuotaCache()
    add = app.router.add_route
    add("GET", "/admin/login", auth.login_page)
    add("POST", "/admin/login", auth.login)
    add("POST", "/admin/logout", auth.logout)
    add("GET", "/admin/", views.dashboard)
    add("GET", "/admin/alerts", views.alerts)
    add("GET", "/admin/teams", views.teams)
    add("POST", "/admin/teams", views.create_team)
    add("GET", "/admin/teams/{team_id}", views.team)
    add("POST", "/admin/teams/{team_id}", views.team_action)
    add("GET", "/admin/teams/{team_id}/flyer", views.flyer)
    add("GET", "/admin/groups", views.groups)
    add("GET", "/admin/notices", views.notices)
    add("POST", "/admin/notices/preview", views.preview_notice)
    add("POST", "/admin/notices/send", views.send_notice)
    add("GET", "/admin/quota", views.quota)
    add("GET", "/admin/audit", views.audit_log)
    add("GET", "/admin/export/{what}.csv", views.export)
    app.router.add_static("/admin/static", STATIC)
