"""The desk's search as GET parameters (a search is a link a coordinator keeps): the words
(a name, ふりがな, a 会員ID, a phone number), the filters, the column it is sorted by and the
page. Parsed here into storage.desk.Search; the search itself is SQL's."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from multidict import MultiMapping

from storage.desk import Search

PAGE_SIZE = 50
WORDS_LIMIT = 50
WAITING_HOURS_LIMIT = 24 * 30
_HIRAGANA = range(0x3041, 0x3097)
_KATAKANA = range(0x30A1, 0x30F7)
_KANA_SHIFT = 0x60  # ぁ (U+3041) to ァ (U+30A1)


def kana_forms(words: str) -> tuple[str, ...]:
    """The words as typed, in hiragana and in katakana: ふりがな is kept either way."""
    hiragana = "".join(
        chr(ord(c) - _KANA_SHIFT) if 0x30A1 <= ord(c) <= 0x30F6 else c for c in words
    )
    katakana = "".join(chr(ord(c) + _KANA_SHIFT) if ord(c) in _HIRAGANA else c for c in words)
    return tuple(dict.fromkeys((words, hiragana, katakana)))


def number_forms(words: str) -> tuple[str, ...]:
    """A phone number as its digits (03-1234-5678 → 0312345678) and as a number the desk
    registered by phone is kept (E.164 without '+': 81312345678)."""
    digits = "".join(c for c in words if c.isascii() and c.isdigit())
    if len(digits) < 3 or len(digits) != len(words.replace("-", "").replace(" ", "")):
        return ()
    if digits.startswith("0"):
        return (digits, "81" + digits[1:])
    return (digits,)


def _int(value: str | None, limit: int) -> int | None:
    text = unicodedata.normalize("NFKC", value or "").strip()
    # ASCII digits only: str.isdigit also takes numerals int() cannot read (፩), a 500.
    if not (text.isascii() and text.isdigit()) or len(text) > 9:
        return None
    return int(text) if int(text) <= limit else None


@dataclass(frozen=True)
class Asked:
    """A search as the page shows it back (its form filled in, its links kept) and as SQL
    reads it."""

    search: Search
    values: dict[str, str]  # the parameters as given, for the form and the links
    page: int

    def link(self, **changes: Any) -> str:
        """This search's URL query with some parameters changed (a sort, a page)."""
        values = {**self.values, **{k: str(v) for k, v in changes.items()}}
        return "?" + urlencode({k: v for k, v in values.items() if v not in ("", "0")})

    def sort_link(self, column: str) -> str:
        """The header's link: sorted by this column, the other way when it already is."""
        again = self.search.sort == column and not self.search.descending
        return self.link(sort=column, dir="desc" if again else "", page="")

    def aria_sort(self, column: str) -> str:
        if self.search.sort != column:
            return "none"
        return "descending" if self.search.descending else "ascending"

    def pages(self, total: int) -> int:
        return max(1, -(-total // self.search.limit))


FILTERS = ("urgent", "untaken", "mine", "heat")


def asked(query: MultiMapping[str], now: datetime, staff: str, sorts: tuple[str, ...]) -> Asked:
    """The search the URL asks for; what it cannot read is left out (never an error: a
    bookmark outlives a team)."""
    words = " ".join(_printable(unicodedata.normalize("NFKC", query.get("q", ""))).split())
    words = words[:WORDS_LIMIT]
    sort = query.get("sort", "")
    sort = sort if sort in sorts else ""
    page = _int(query.get("page"), 100_000) or 1
    hours = _int(query.get("waiting"), WAITING_HOURS_LIMIT)
    team_id = _int(query.get("team"), 2**31)
    on = {name: query.get(name) == "1" for name in FILTERS}
    member_id = _int(words, 2**31)
    search = Search(
        words=words,
        kana=kana_forms(words) if words else (),
        digits=number_forms(words) if words else (),
        member_id=member_id,
        urgent=on["urgent"],
        untaken=on["untaken"],
        mine=staff if on["mine"] else None,
        heat=on["heat"],
        team_id=team_id,
        opened_before=now - timedelta(hours=hours) if hours else None,
        sort=sort,
        descending=bool(sort) and query.get("dir") == "desc",
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    values = {
        "q": words,
        **{name: "1" if on[name] else "" for name in FILTERS},
        "team": str(team_id) if team_id else "",
        "waiting": str(hours) if hours else "",
        "sort": sort,
        "dir": "desc" if search.descending else "",
        "page": str(page) if page > 1 else "",
    }
    return Asked(search, values, page)


def _printable(text: str) -> str:
    """The words without control characters (a NUL, typed or pasted): no name holds one,
    PostgreSQL refuses one in text and SQLite's index of names ends its string at one; each is
    a space between words."""
    return "".join(" " if unicodedata.category(c) == "Cc" else c for c in text)


def within(found: Asked, total: int) -> Asked:
    """A page past the last (a bookmark, cases closed since) is the last page."""
    last = found.pages(total)
    if found.page <= last:
        return found
    search = replace(found.search, offset=(last - 1) * found.search.limit)
    return Asked(search, {**found.values, "page": str(last) if last > 1 else ""}, last)
