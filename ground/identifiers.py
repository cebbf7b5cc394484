"""Row ids as they come from outside (a URL, a form, a postback): plain ASCII digits that fit a
database integer, or nothing. `str.isdigit` also says yes to ² and ١٢, which `int` refuses, and
to ninety nines, which the database cannot hold: both were a 500 where a 404 belongs."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

MAX_DIGITS = 18  # below 2**63: every engine's integer column holds it


def row_id(value: Any) -> int | None:
    text = str(value if value is not None else "").strip()
    if not text or len(text) > MAX_DIGITS or not (text.isascii() and text.isdigit()):
        return None
    return int(text)


def row_ids(values: Iterable[Any]) -> list[int]:
    """The row ids among `values` (a form's ticked boxes), in their order; the rest dropped."""
    return [found for found in (row_id(value) for value in values) if found]
