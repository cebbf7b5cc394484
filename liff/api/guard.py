"""What every call of My page's API goes through: the caller, verified by the LIFF ID token
LINE issued and loaded (registered on first use) before any handler runs; the body, JSON only;
and the service layer's refusals said as JSON errors the page shows."""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from care.errors import Refusal, Refused
from care.members import people
from care.services import SERVICES, Services
from ground.identifiers import row_id
from liff.auth import LIFF_VERIFIER, VerificationUnavailable
from storage.models import Member

log = logging.getLogger("mimamori.liff.api")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
CALLER = web.RequestKey("liff_caller", Member)

ERRORS: dict[int, type[web.HTTPException]] = {
    400: web.HTTPBadRequest,
    401: web.HTTPUnauthorized,
    403: web.HTTPForbidden,
    404: web.HTTPNotFound,
    409: web.HTTPConflict,
    410: web.HTTPGone,
    415: web.HTTPUnsupportedMediaType,
    429: web.HTTPTooManyRequests,
    503: web.HTTPServiceUnavailable,
}


REFUSALS: dict[Refusal, tuple[int, str]] = {
    Refusal.UNKNOWN_CODE: (404, "unknown_code"),
    Refusal.CODE_EXPIRED: (410, "code_expired"),
    Refusal.ALREADY_MEMBER: (409, "already_member"),
    Refusal.NOT_MEMBER: (403, "not_a_member"),
    Refusal.NO_SUCH_TEAM: (403, "not_a_member"),
    Refusal.NOT_ALLOWED: (403, "forbidden"),
    Refusal.INVALID_LANGUAGE: (400, "invalid_language"),
    Refusal.NO_CHECKINS: (409, "no_checkins"),
    Refusal.OUT_OF_RANGE: (400, "out_of_range"),
    Refusal.INVALID_NAME: (400, "invalid_name"),
    Refusal.NO_SUCH_MEMBER: (404, "not_found"),
    Refusal.ROLE_MISMATCH: (409, "role_mismatch"),
    Refusal.ONLY_STARTER: (403, "forbidden"),
    Refusal.GROUP_NOT_SET: (409, "not_set"),
    Refusal.ALERT_CLOSED: (409, "alert_closed"),
    Refusal.ALERT_OPEN: (409, "alert_open"),
    Refusal.INVALID_MEMO: (400, "invalid_memo"),
    Refusal.NOBODY: (409, "nobody"),
    Refusal.QUOTA_SHORT: (409, "quota_short"),
    Refusal.TOO_OFTEN: (429, "too_often"),
    Refusal.NOT_PAUSED: (409, "not_paused"),
    Refusal.ROLL_CALL_CLOSED: (409, "roll_call_closed"),
    Refusal.NOT_ASKED: (403, "not_asked"),
    Refusal.INVALID_PHONE: (400, "invalid_phone"),
    Refusal.NO_CALLS: (409, "no_calls"),
    Refusal.INVALID_DEVICE: (400, "invalid_device"),
    Refusal.INVALID_PERSON_NAME: (400, "invalid_person_name"),
    Refusal.NO_CONSENT: (400, "no_consent"),
    Refusal.NO_SUCH_DEVICE: (404, "not_found"),
    Refusal.NUMBER_ABROAD: (400, "number_abroad"),
    Refusal.NUMBER_NOT_A_PERSON: (400, "number_not_a_person"),
    Refusal.NOBODY_WATCHES: (409, "nobody_watches"),
    Refusal.NO_NUMBER: (409, "no_number"),
    Refusal.ALREADY_VERIFIED: (409, "already_verified"),
    Refusal.CALLS_SPENT: (409, "calls_spent"),
    Refusal.NOT_PRESENT: (400, "not_present"),
    Refusal.NUMBER_TAKEN: (409, "number_taken"),
    Refusal.VERIFY_MONTH_SPENT: (409, "verify_month_spent"),
    Refusal.SAME_STAFF: (409, "same_staff"),
}


def error(status: int, code: str, detail: str = "") -> web.HTTPException:
    """A JSON error the page can show; raised, so nothing after it runs."""
    body = json.dumps({"error": code, "detail": detail}, ensure_ascii=False)
    return ERRORS[status](text=body, content_type="application/json")


def before_terms(handler: Handler) -> Handler:
    """Marks a call a person may make before accepting the terms (reading them, accepting)."""
    handler.before_terms = True  # type: ignore[attr-defined]
    return handler


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every call: the verified caller first (terms accepted unless the call is marked), and
    the service layer's refusals as JSON errors."""
    request[CALLER] = await caller(request, terms=not getattr(handler, "before_terms", False))
    # Invite links need the account's basic id: asked here, before any unit of work.
    await services_of(request).line.bot_basic_id()
    try:
        return await handler(request)
    except Refused as refused:
        status, code = REFUSALS[refused.reason]
        raise error(status, code) from None


def services_of(request: web.Request) -> Services:
    return request.config_dict[SERVICES]


async def caller(request: web.Request, *, terms: bool) -> Member:
    """The member behind the request's verified ID token (registered on first use)."""
    verifier = request.config_dict.get(LIFF_VERIFIER)
    if verifier is None:
        raise error(503, "liff_not_configured", "LINE_LOGIN_CHANNEL_ID is not set")
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer ") or len(header) > 4096:
        raise error(401, "no_token")
    try:
        token = await verifier.verify(header.removeprefix("Bearer ").strip())
    except VerificationUnavailable as problem:
        log.warning("cannot verify an ID token now: %s", problem)
        raise error(503, "verification_unavailable") from None
    if token is None:
        raise error(401, "invalid_token")
    services = services_of(request)
    async with services.reading_repositories() as repos:
        member = await repos.members.by_line_id(token.user_id)
    if member is None:
        # Met first on My page: in the language of their LINE, as the chat would (LINE is
        # asked before the unit of work).
        profile = await services.line.profile(token.user_id)
        language = services.locale(profile.language if profile else None).language
        async with services.unit_of_work() as work:
            member = await people.register(work, token.user_id, token.name, language)
    if terms and member.terms_accepted_at is None:
        raise error(403, "terms_not_accepted")
    return member


async def json_body(request: web.Request) -> dict[str, Any]:
    # Only JSON is accepted: a cross-site form post cannot make one, nor add the token.
    if request.content_type != "application/json":
        raise error(415, "json_required")
    try:
        body = json.loads(await request.text(), parse_constant=_refuse, parse_float=_finite)
    except (ValueError, RecursionError):
        # RecursionError: thousands of nested brackets; ValueError: not JSON, or 1e400 / NaN.
        raise error(400, "malformed_json") from None
    if not isinstance(body, dict):
        raise error(400, "malformed_json")
    return body


def _refuse(constant: str) -> Any:
    raise ValueError(f"{constant} is not a number a person types")


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"{text} is out of range")
    return number


def path_id(request: web.Request, name: str) -> int:
    found = row_id(request.match_info[name])
    if found is None:
        raise error(404, "not_found")
    return found
