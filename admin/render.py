"""Rendering the console's pages: jinja2, the admin's language, strict headers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from admin.access import may_open
from care.services import SERVICES, Services
from ground.branding import load_branding
from ground.i18n import Locale, first_language
from storage.admin import AdminSession
from storage.database import from_db
from storage.models import SENSITIVE_FIELDS

SESSION_KEY = web.RequestKey("admin_session", AdminSession)
QUOTA_WARNING = web.RequestKey("quota_warning", bool)
# What troubles the service, read for every signed-in page (admin/health.py).
HEALTH_KEY = web.RequestKey("service_health", object)
TEMPLATES = Path(__file__).resolve().parent / "templates"
CSP = "; ".join(
    [
        "default-src 'none'",
        # console.js: confirmations and tallies updated in place; no inline script anywhere.
        "script-src 'self'",
        "connect-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)

_environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined
)
# 要配慮個人情報, as storage.models marks them once: the pages that show them say so.
_environment.globals["sensitive_fields"] = SENSITIVE_FIELDS


def services_of(request: web.Request) -> Services:
    return request.config_dict[SERVICES]


def admin_locale(request: web.Request) -> Locale:
    """The console speaks the browser's language (Japanese first)."""
    language = first_language(request.headers.get("Accept-Language", ""))
    return services_of(request).i18n.get(language)


NAV_LINKS = (
    ("/admin/", "dashboard"),
    ("/admin/alerts", "alerts"),
    ("/admin/desk", "desk"),
    ("/admin/people", "people"),
    ("/admin/partners", "partners"),
    ("/admin/roster", "roster"),
    ("/admin/teams", "teams"),
    ("/admin/groups", "groups"),
    ("/admin/notices", "notices"),
    ("/admin/rollcalls", "rollcalls"),
    ("/admin/heat", "heat"),
    ("/admin/quota", "quota"),
    ("/admin/report", "report"),
    ("/admin/guides", "guides"),
    ("/admin/audit", "audit"),
    ("/admin/set-aside", "set_aside"),
    ("/admin/accounts", "accounts"),
    ("/admin/second-factor", "second_factor"),
)


def nav_current(path: str) -> str | None:
    """The navigation entry a page belongs to (a team's page is under チーム)."""
    found = None
    for href, _ in NAV_LINKS:
        if path == href or (href != "/admin/" and path.startswith(href)):
            found = href
    return found


def render(
    request: web.Request, template: str, context: dict[str, Any], status: int = 200
) -> web.Response:
    locale = admin_locale(request)
    session = request.get(SESSION_KEY)
    role = session.admin.role if session else None

    def opens(pattern: str) -> bool:
        """Whether the signed-in account's role opens the page of this route pattern: every
        link to a page it may not open is left out, by the declaration the guard enforces."""
        return may_open(request, role, pattern)

    values: dict[str, Any] = {
        "t": lambda key, **more: locale.t(f"admin.{key}", **more),
        "when": locale.when,
        "parse": from_db,
        "language": locale.language,
        "service_name": load_branding(services_of(request).settings.branding).service_name,
        "admin_name": session.admin.name if session else None,
        "csrf_token": session.csrf_token if session else "",
        "quota_warning": request.get(QUOTA_WARNING, False),
        "health": request.get(HEALTH_KEY),
        "nav_links": [(href, key) for href, key in NAV_LINKS if opens(href)],
        "opens": opens,
        "staff_role": role.value if role else None,
        "nav_current": nav_current(request.path),
    }
    body = _environment.get_template(template).render({**values, **context})
    response = web.Response(text=body, content_type="text/html", status=status)
    response.headers["Content-Security-Policy"] = CSP
    response.headers["Cache-Control"] = "no-store"
    return response
