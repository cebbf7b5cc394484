"""Whether this task is inside a unit of work, for the one rule the ground floor keeps about it:
no call to another system (LINE, Twilio, the city's system, JMA, LINE Login's token check)
while the database's writer is held (on SQLite every other batch, OK taps included, waits
behind it; a system that answers slowly would hold them all up).

storage's unit of work (and its short claims) marks it; every client's session looks before
each request (`outside_only`). In the tests such a call fails; in production it is logged with
what was called, and goes."""

from __future__ import annotations

import logging
from contextvars import ContextVar
from types import SimpleNamespace

import aiohttp

log = logging.getLogger("mimamori.transactions")

INSIDE_TRANSACTION: ContextVar[bool] = ContextVar("mimamori_inside_transaction", default=False)


class SlowCallInTransaction(RuntimeError):
    """Another system was called while a unit of work was open."""


class LineCallInTransaction(SlowCallInTransaction):
    """LINE was called while a unit of work was open."""


def look_outside(what: str, strict: bool) -> None:
    """Refuse (strict: the tests) or log a call to another system inside a unit of work."""
    if not INSIDE_TRANSACTION.get():
        return
    if strict:
        raise SlowCallInTransaction(f"{what} inside a transaction")
    log.warning("called inside a transaction: %s", what)


def outside_only(what: str, strict: bool) -> aiohttp.TraceConfig:
    """A session's trace that looks, before every request, that no unit of work is open."""
    trace = aiohttp.TraceConfig()

    async def starting(
        session: aiohttp.ClientSession,
        context: SimpleNamespace,
        params: aiohttp.TraceRequestStartParams,
    ) -> None:
        look_outside(f"{what}: {params.method} {params.url.host}{params.url.path}", strict)

    trace.on_request_start.append(starting)
    return trace
