"""A small router: features register handlers for an event type and a filter; first match wins.

A handler gets a `PersonContext` (`from_person`, `action`) or a `GroupContext` (`in_group`,
`group_action`), with the batch's unit of work in `ctx.work`: read `bot.context` for what a
handler may and may not do inside it."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeGuard

from bot.context import EventContext, GroupContext, PersonContext
from bot.refusals import refusal_message
from care.errors import Refused

log = logging.getLogger("mimamori.router")

# A handler's context is narrowed by its filter (a person's or a group's): typed as Any here.
Handler = Callable[[Any], Awaitable[None]]
Filter = Callable[[EventContext], bool]


@dataclass(frozen=True)
class Route:
    event_type: type
    handler: Handler
    when: Filter | None

    def wants(self, ctx: EventContext) -> bool:
        """Its filter takes the event (its class was matched by the router's index)."""
        return self.when is None or self.when(ctx)


class Router:
    def __init__(self, name: str) -> None:
        self.name = name
        self.routes: list[Route] = []
        self.observers: list[Route] = []
        # Per class of event, the observers and routes that take it, in their order: a
        # route's isinstance on the SDK's models goes through pydantic's metaclass, and a text
        # passed some eighty of them (a fifth of its handling, bench/taps.py --kind text).
        self._taking: dict[type, tuple[list[Route], list[Route]]] = {}

    def on(self, event_type: type, when: Filter | None = None) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.routes.append(Route(event_type, handler, when))
            self._taking.clear()
            return handler

        return register

    def observe(
        self, event_type: type, when: Filter | None = None
    ) -> Callable[[Handler], Handler]:
        """Runs for every matching event before the handlers (e.g. a sign of life)."""

        def register(handler: Handler) -> Handler:
            self.observers.append(Route(event_type, handler, when))
            self._taking.clear()
            return handler

        return register

    def include(self, *routers: Router) -> None:
        for router in routers:
            self.routes.extend(router.routes)
            self.observers.extend(router.observers)
        self._taking.clear()

    async def dispatch(self, ctx: EventContext) -> bool:
        """Run the observers, then the first matching handler; False when none matched."""
        observers, routes = self._routes_taking(type(ctx.event))
        observed = False
        for route in observers:
            if route.wants(ctx):
                await route.handler(ctx)
                observed = True
        for route in routes:
            if route.wants(ctx):
                if not observed or ctx.work is None:
                    await route.handler(ctx)
                    return True
                # What an observer did stands whatever the route's rules say: her words during
                # an alert reach her family even when the message also looked like a code
                # that is then refused.
                try:
                    async with ctx.work.repos.savepoint():
                        await route.handler(ctx)
                except Refused as refused:
                    ctx.reply(refusal_message(ctx.locale, refused))
                return True
        return False

    def _routes_taking(self, event_class: type) -> tuple[list[Route], list[Route]]:
        taking = self._taking.get(event_class)
        if taking is None:
            taking = (
                [route for route in self.observers if issubclass(event_class, route.event_type)],
                [route for route in self.routes if issubclass(event_class, route.event_type)],
            )
            self._taking[event_class] = taking
        return taking


def from_person(ctx: EventContext) -> TypeGuard[PersonContext]:
    """The event comes from one person's 1:1 chat with the bot (and the person is known)."""
    return isinstance(ctx, PersonContext)


def in_group(ctx: EventContext) -> TypeGuard[GroupContext]:
    return isinstance(ctx, GroupContext)


def action(name: str) -> Filter:
    def matches(ctx: EventContext) -> bool:
        return ctx.postback is not None and ctx.postback.action == name and from_person(ctx)

    return matches


def group_action(name: str) -> Filter:
    def matches(ctx: EventContext) -> bool:
        return ctx.postback is not None and ctx.postback.action == name and in_group(ctx)

    return matches


def text_of(ctx: EventContext) -> str | None:
    message = getattr(ctx.event, "message", None)
    return getattr(message, "text", None) if getattr(message, "type", None) == "text" else None
