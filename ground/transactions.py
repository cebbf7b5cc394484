"""Whether this task is inside a unit of work, for the one rule the ground floor keeps about it:
no call to LINE while the database's writer is held (on SQLite every other batch, OK taps
included, waits behind it; a LINE that answers slowly would hold them all up).

storage's unit of work marks it; the LINE client's session looks before every request. In the
tests such a call fails; in production it is logged with what was called, and goes."""

from __future__ import annotations

from contextvars import ContextVar

INSIDE_TRANSACTION: ContextVar[bool] = ContextVar("mimamori_inside_transaction", default=False)


class LineCallInTransaction(RuntimeError):
    """LINE was called while a unit of work was open."""
