"""Which console role opens which page: every view declares its roles with `allow`, and the
guard (admin/auth.py) refuses a view that declares none, so a new page cannot be left open.

The pages each role opens (docs/security.md says the same to a city's reviewer):
運用管理 everything; 窓口 the desk, partners and the visits it asks of them, the open alerts, and
the list and cards of the people it has a case for or watches
(care.desk.reading.known_person), and the city's roster as care.roster.visibility allows;
閲覧 figures without names (the dashboard, the monthly report, the quota, the guides); 監査 the
audit log.
Exports of personal data are 運用管理's alone, each with its purpose recorded
(care/privacy/exports.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiohttp import web

from storage.models import StaffRole

AnyHandler = TypeVar("AnyHandler", bound=Callable[..., Awaitable[web.StreamResponse]])

EVERY_ROLE = frozenset(StaffRole)
# Who sees people's names, numbers and addresses, and so signs in with a second factor.
SEES_PERSONAL_DATA = frozenset({StaffRole.OPERATOR, StaffRole.DESK})

OPERATOR = StaffRole.OPERATOR
DESK = StaffRole.DESK
VIEWER = StaffRole.VIEWER
AUDITOR = StaffRole.AUDITOR


def allow(*roles: StaffRole) -> Callable[[AnyHandler], AnyHandler]:
    """Declares the roles that may open a view (the guard checks it before the view runs)."""

    def declare(handler: AnyHandler) -> AnyHandler:
        handler.allowed_roles = frozenset(roles)  # type: ignore[attr-defined]
        return handler

    return declare


def roles_of(handler: Callable[..., object]) -> frozenset[StaffRole] | None:
    """The roles a view declared; None when it declared none (the guard refuses it)."""
    return getattr(handler, "allowed_roles", None)


# The console's GET pages by their route's pattern ("/admin/teams/{team_id}"): who opens each.
# Read from the router once it is built, so a link is shown by the same declaration the guard
# enforces (admin/render.py's `opens`).
PAGE_ROLES = web.AppKey("admin_page_roles", dict)


def page_roles(router: web.UrlDispatcher, prefix: str) -> dict[str, frozenset[StaffRole]]:
    found: dict[str, frozenset[StaffRole]] = {}
    for route in router.routes():
        if route.method != "GET" or route.resource is None:
            continue
        roles = roles_of(route.handler)
        if roles is not None:
            found[prefix + route.resource.canonical] = roles
    return found


def may_open(request: web.Request, role: StaffRole | None, pattern: str) -> bool:
    """Whether `role` opens the page whose route is `pattern` (a page nobody declared, or an
    unknown one, is not linked)."""
    roles = request.config_dict.get(PAGE_ROLES, {}).get(pattern)
    return role is not None and roles is not None and role in roles
