"""Per-feature routers, in the order they are tried (first match wins)."""

from __future__ import annotations

from bot.features import (
    checkin,
    fallback,
    follow,
    groups,
    heat,
    invites,
    menu,
    notes,
    on_behalf,
    rollcall,
    schedule,
    teams,
    visits,
)
from bot.router import Router


def build_router() -> Router:
    root = Router("root")
    # invites before teams: a code is recognised even while a team name is awaited.
    # notes before checkin: a watcher's note about her is no call for help of their own.
    root.include(
        follow.router,
        notes.router,
        checkin.router,
        schedule.router,
        invites.router,
        rollcall.router,
        heat.router,
        visits.router,
        on_behalf.router,
        groups.router,
        teams.router,
        menu.router,
        fallback.router,
    )
    return root
