"""Which console role opens which page: every view declares its roles with `allow`, and the
guard (admin/auth.py) refuses a view that declares none, so a new page cannot be left open."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiohttp import web

from storage.models import StaffRole

AnyHandler = TypeVar("AnyHandler", bound=Callable[..., Awaitable[web.StreamResponse]])

EVERY_ROLE = frozenset(StaffRole)
# Who sees people's names, numbers and addresses, and so signs in with a second factor.
SEES_PERSONAL_DATA = frozenset({StaffRole.OPERATOR, StaffRole.DESK})


def allow(*roles: StaffRole) -> Callable[[AnyHandler], AnyHandler]:
    """Declares the roles that may open a view (the guard checks it before the view runs)."""

    def declare(handler: AnyHandler) -> AnyHandler:
        handler.allowed_roles = frozenset(roles)  # type: ignore[attr-defined]
        return handler

    return declare


def roles_of(handler: Callable[..., object]) -> frozenset[StaffRole] | None:
    """The roles a view declared; None when it declared none (the guard refuses it)."""
    return getattr(handler, "allowed_roles", None)
