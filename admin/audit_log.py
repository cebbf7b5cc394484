"""The console's audit log, read a page at a time by 運用管理 and 監査."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from admin.access import AUDITOR, OPERATOR, allow
from admin.pages import page, page_status
from admin.render import admin_locale, services_of
from ground.i18n import Locale
from ground.identifiers import row_id

AUDIT_PAGE = 100
AUDIT_FILTERS = ("action", "account", "from", "to")
WORDS = "admin.reach40.action"
# Where a part of the service keeps the words of its own actions (issue 41: the roster's).
MORE_WORDS = ("admin.register41.action", "admin.gaps41.action")


def words_key(locale: Locale, action: str) -> str:
    """The key of an action's words: the log's table, else a part's own (the first found)."""
    for table in (WORDS, *MORE_WORDS):
        key = f"{table}.{action}"
        if key in locale.texts:
            return key
    return f"{WORDS}.{action}"


# What the code writes into a row's detail (`case 1`, `team 3 member 5`), as staff read it.
_DETAIL = re.compile(r"\b(case|roll-call|team|member|partner|visit) (\d+)\b")
_DETAIL_WORDS = {"roll-call": "roll_call"}
_SESSIONS = re.compile(r"sessions ended: (\d+)")


def in_words(locale: Locale, entry: dict[str, Any]) -> dict[str, Any]:
    """A row with its action and detail in words, the raw code and detail kept beside them
    (the 監査 role's filters and exports use the codes). An action with no words yet shows
    its code: the row is never hidden (tests/test_audit_words.py keeps the words complete)."""
    action = str(entry["action"])
    key = words_key(locale, action)
    detail = str(entry["detail"] or "")
    readable = _DETAIL.sub(
        lambda found: locale.t(
            f"admin.reach40.detail.{_DETAIL_WORDS.get(found[1], found[1])}", id=found[2]
        ),
        detail,
    )
    readable = _SESSIONS.sub(
        lambda found: locale.t("admin.reach40.detail.sessions_ended", count=found[1]), readable
    )
    if readable == "open alerts":
        readable = locale.t("admin.reach40.detail.open_alerts")
    return {
        **entry,
        "words": locale.t(key) if key in locale.texts else action,
        "readable": readable,
    }


@allow(OPERATOR, AUDITOR)
async def audit_log(request: web.Request) -> web.Response:
    """The audit log, newest first, a page at a time (older / newer by row id), filtered by
    action, account and days (the deployment's dates, both ends included). Read-only: a flood
    of refused sign-ins cannot push a staff member's action out of reach."""
    query = request.query
    filters = {key: query.get(key, "").strip()[:64] for key in AUDIT_FILTERS}
    tz = services_of(request).settings.timezone
    try:
        since = _day_start(filters["from"], tz)
        until = _day_start(filters["to"], tz, next_day=True)
        before, after = _audit_id(query.get("before")), _audit_id(query.get("after"))
    except (ValueError, OverflowError):
        context = {
            "entries": [],
            "filters": filters,
            "problem": "bad_filter",
            "pages": {"older": None, "newer": None},
        }
        return await page_status(request, "audit.html", context, 400)
    async with services_of(request).reading_repositories() as repos:
        entries = await repos.admin.audit_log(
            AUDIT_PAGE + 1,
            action=filters["action"] or None,
            account=filters["account"] or None,
            since=since,
            until=until,
            before=before,
            after=after if before is None else None,
        )
    entries, pages = _paged(entries, filters, before, after)
    locale = admin_locale(request)
    entries = [in_words(locale, entry) for entry in entries]
    context = {"entries": entries, "filters": filters, "problem": None, "pages": pages}
    return await page(request, "audit.html", context)


def _paged(
    entries: list[dict[str, Any]], filters: dict[str, str], before: int | None, after: int | None
) -> tuple[list[dict[str, Any]], dict[str, str | None]]:
    """A page of the rows read (one more than a page says whether there is more in the
    direction read), and the links to the older and newer pages, the filters kept."""
    more = len(entries) > AUDIT_PAGE
    if after is not None and before is None:
        entries = entries[1:] if more else entries
        newer, older = more, True
    else:
        entries = entries[:AUDIT_PAGE]
        newer, older = before is not None, more
    kept = {key: value for key, value in filters.items() if value}
    pages = {
        "older": f"?{urlencode({**kept, 'before': entries[-1]['id']})}"
        if older and entries
        else None,
        "newer": f"?{urlencode({**kept, 'after': entries[0]['id']})}"
        if newer and entries
        else None,
    }
    return entries, pages


def _day_start(text: str, tz: tzinfo, next_day: bool = False) -> datetime | None:
    """The start of a day written 2026-04-01 in the deployment's time zone (of the day after,
    for the range's inclusive end); None when not given. ValueError when not a date."""
    if not text:
        return None
    day = date.fromisoformat(text) + timedelta(days=1 if next_day else 0)
    return datetime.combine(day, time(0), tz)


def _audit_id(text: str | None) -> int | None:
    if not text:
        return None
    found = row_id(text)
    if found is None:
        raise ValueError(text)
    return found


def add_routes(console: web.Application) -> None:
    console.router.add_route("GET", "/audit", audit_log)
