"""The console's sign-in after the password: the second factor's code (or a recovery code), the
enrolment of a second factor, and the choice of a new password after an operator set one.

The password step (admin/auth.login) starts no session: it leaves a pending sign-in in the
database for a few minutes (its cookie hashed, as a session's is), and these steps end it with
the session. A wrong code counts where a wrong password does (LoginGate), and a pending sign-in
that took too many wrong codes is ended: the password is asked again. Typing the password again
does not forgive wrong codes (only a sign-in that reaches its session does), and an account's
wrong codes from every address together have a ceiling an hour (LoginGate.codes_refused)."""

from __future__ import annotations

import asyncio
import base64
import hmac
import logging
from datetime import datetime

from aiohttp import web

from admin import second_factor
from admin.access import allow
from admin.auth import (
    COOKIE,
    LOCK_LENGTH,
    LOGIN_GATE,
    MAX_WRONG_CODES_PER_ACCOUNT,
    SIGNIN_COOKIE,
    STEP_PAGES,
    WRONG_CODES_WINDOW,
    before_login,
    client_address,
    next_step,
    session_of,
    set_session_cookie,
    set_signin_cookie,
    start_session,
    start_signin,
    token_hash,
)
from admin.passwords import MIN_LENGTH, weak_password
from admin.render import render, services_of
from ground.branding import load_branding
from ground.qr_codes import qr_png
from storage.admin import PendingSignin
from storage.models import StaffRole
from storage.repositories import Repositories

MAX_WRONG_CODES = 5
log = logging.getLogger("mimamori.console")


async def same_password(request: web.Request, password: str, password_hash: str) -> bool:
    """The new password is the account's present one (which an operator set, and knows):
    checked as a login checks it, in a thread."""
    return await request.app[LOGIN_GATE].check(password, password_hash)


def password_problem(password: str, again: str, name: str) -> str | None:
    """Why a new password is refused, as a key of admin.signin.password_refused; None: taken."""
    if len(password) < MIN_LENGTH:
        return "too_short"
    if weak_password(password, name):
        return "has_name"
    if password != again:
        return "differ"
    return None


def add_routes(console: web.Application) -> None:
    add = console.router.add_route
    add("GET", "/login/code", code_page)
    add("POST", "/login/code", code)
    add("GET", "/login/enrol", enrol_page)
    add("POST", "/login/enrol", enrol)
    add("GET", "/login/password", password_page)
    add("POST", "/login/password", new_password)
    add("GET", "/second-factor", second_factor_page)
    add("POST", "/second-factor", enrol_now)


async def _pending(request: web.Request, step: str) -> PendingSignin:
    """The sign-in the cookie names, at this step; anything else starts again at the password."""
    token = request.cookies.get(SIGNIN_COOKIE, "")
    pending = None
    if token:
        services = services_of(request)
        async with services.reading_repositories() as repos:
            pending = await repos.admin.signin(token_hash(token), services.clock.now())
    if pending is None or pending.step != step:
        raise web.HTTPSeeOther("/admin/login")
    return pending


async def _form(request: web.Request, pending: PendingSignin) -> dict[str, str]:
    form = await request.post()
    if not hmac.compare_digest(
        str(form.get("csrf_token", "")).encode(), pending.csrf_token.encode()
    ):
        raise web.HTTPForbidden(text="CSRF token missing or wrong")
    return {key: str(value) for key, value in form.items()}


def _token(request: web.Request) -> str:
    return token_hash(request.cookies[SIGNIN_COOKIE])


@before_login
async def code_page(request: web.Request) -> web.Response:
    pending = await _pending(request, "code")
    return render(request, "signin_code.html", {"csrf_token": pending.csrf_token, "problem": None})


@before_login
async def code(request: web.Request) -> web.StreamResponse:
    pending = await _pending(request, "code")
    form = await _form(request, pending)
    admin, entered = pending.admin, form.get("code", "")[:64]
    services, gate = services_of(request), request.app[LOGIN_GATE]
    now, address = services.clock.now(), client_address(request)
    secret = services.settings.channel_secret
    async with services.repositories() as repos:
        refused = await gate.blocked(repos, address, admin.name, now)
        if refused is not None:
            await gate.refusal_audited(repos, admin.name, refused, address, now)
            return _code_problem(request, pending, "locked", 429)
        if await gate.codes_refused(repos, admin.name, now):
            await repos.admin.audit_view(
                admin.name,
                "login_refused_codes",
                address,
                now,
                LOCK_LENGTH,
                scope=f"login_refused_codes:{admin.name}:{address}",
            )
            return _code_problem(request, pending, "codes_refused", 429)
        used_recovery = second_factor.looks_like_recovery_code(entered)
        if used_recovery:
            code_hash = second_factor.recovery_hash(secret, entered)
            taken = await repos.admin.use_recovery_code(admin.id, code_hash, now)
            refusal = "login_recovery_code_wrong"
        else:
            assert admin.totp_secret is not None
            try:
                totp = second_factor.unseal(secret, admin.id, admin.totp_secret)
            except second_factor.SealBroken:
                log.error(
                    "the second factor of console account %s cannot be read with this"
                    " LINE_CHANNEL_SECRET (changed since it was enrolled?): it signs in with a"
                    " recovery code, or after `mimamori admin reset-2fa %s`",
                    admin.name,
                    admin.name,
                )
                totp = ""
            step = second_factor.matching_step(totp, entered, now) if totp else None
            taken = step is not None and await repos.admin.second_factor_used(admin.id, step)
            refusal = "login_code_wrong" if step is None else "login_code_replayed"
        if not taken:
            return await _wrong_code(request, repos, pending, refusal, now)
        left = await repos.admin.recovery_codes_left(admin.id)
        if used_recovery:
            await repos.admin.audit(admin.name, "recovery_code_used", f"{left} left", now)
        detail = f"{address} recovery code" if used_recovery else f"{address} code"
        session, next_page = await _after_factor(request, repos, pending, now, detail)
    if used_recovery:
        page = render(request, "signin_recovery_used.html", {"left": left, "next": next_page})
        _finish(request, page, session)
        return page
    redirect = web.HTTPSeeOther(next_page)
    _finish(request, redirect, session)
    raise redirect


async def _after_factor(
    request: web.Request,
    repos: Repositories,
    pending: PendingSignin,
    now: datetime,
    detail: str,
) -> tuple[str | None, str]:
    """The second factor is done: the session starts, or the new password is asked first.
    -> (the session's token, or None while a step is left; where to go next)."""
    step = next_step(pending.admin, factor_done=True)
    if step is None:
        await repos.admin.end_signin(_token(request))
        token = await start_session(request, repos, pending.admin, now, detail)
        return token, "/admin/"
    await repos.admin.signin_step(_token(request), step)
    return None, STEP_PAGES[step]


def _finish(request: web.Request, response: web.StreamResponse, session: str | None) -> None:
    if session is not None:
        set_session_cookie(request, response, session)
        response.del_cookie(SIGNIN_COOKIE, path="/admin/login")


async def _wrong_code(
    request: web.Request,
    repos: Repositories,
    pending: PendingSignin,
    refusal: str,
    now: datetime,
) -> web.Response:
    address, gate, name = client_address(request), request.app[LOGIN_GATE], pending.admin.name
    # Counted as a code, not a password: the right password typed again does not forgive it.
    await gate.failed(repos, address, name, now, kind="code")
    await repos.admin.audit(name, refusal, address, now)
    if pending.step == "code" and await gate.codes_refused(repos, name, now):
        await _codes_closed(repos, name, address, now)
        await repos.admin.end_signin(_token(request))
        return _code_problem(request, pending, "codes_refused", 429)
    if await repos.admin.signin_wrong_code(_token(request)) >= MAX_WRONG_CODES:
        await repos.admin.end_signin(_token(request))
        return _back_to_password()
    template = "signin_code.html" if pending.step == "code" else "signin_enrol.html"
    context = {"csrf_token": pending.csrf_token, "problem": "wrong_code"}
    if pending.step == "enrol":
        context.update(await _enrolment(request, pending))
    return render(request, template, context, status=401)


async def _codes_closed(repos: Repositories, name: str, address: str, now: datetime) -> None:
    """The account reached its ceiling of wrong codes: audited, and logged at error for the
    operator's monitor, once in the window (concurrent wrong codes past it say nothing more)."""
    action = "second_factor_codes_closed"
    scope = f"{action}:{name}"
    if await repos.admin.audited_since(action, scope, now - WRONG_CODES_WINDOW):
        return
    detail = f"{MAX_WRONG_CODES_PER_ACCOUNT} wrong codes within the hour, the last from {address}"
    await repos.admin.audit(name, action, detail, now, scope)
    log.error(
        "console account %s took %d wrong second-factor or recovery codes within the hour (the"
        " last from %s): its code step is refused for the hour. Someone may have its password:"
        " reset it (`mimamori admin reset-password %s`, or 運用管理 on the accounts page), which"
        " also opens the code step again",
        name,
        MAX_WRONG_CODES_PER_ACCOUNT,
        address,
        name,
    )


def _back_to_password() -> web.Response:
    # Returned, not raised: raised inside the unit of work, it would undo what was recorded.
    return web.Response(status=303, headers={"Location": "/admin/login"})


def _code_problem(
    request: web.Request, pending: PendingSignin, problem: str, status: int
) -> web.Response:
    context = {"csrf_token": pending.csrf_token, "problem": problem}
    return render(request, "signin_code.html", context, status=status)


async def _enrolment(request: web.Request, pending: PendingSignin) -> dict[str, str]:
    """What the enrolment page shows: the QR code an authenticator app scans, and the secret
    in text for an app that cannot scan."""
    settings = services_of(request).settings
    assert pending.enrol_secret is not None
    secret = second_factor.unseal(settings.channel_secret, pending.admin.id, pending.enrol_secret)
    service = load_branding(settings.branding).service_name
    uri = second_factor.setup_uri(secret, pending.admin.name, service)
    png = await asyncio.to_thread(qr_png, uri)
    return {
        "qr": "data:image/png;base64," + base64.b64encode(png).decode(),
        "secret": second_factor.grouped(secret),
        "account": pending.admin.name,
    }


@before_login
async def enrol_page(request: web.Request) -> web.Response:
    pending = await _pending(request, "enrol")
    context = {"csrf_token": pending.csrf_token, "problem": None}
    return render(request, "signin_enrol.html", {**context, **await _enrolment(request, pending)})


@before_login
async def enrol(request: web.Request) -> web.StreamResponse:
    """The first code from the app confirms the secret; the recovery codes are shown once."""
    pending = await _pending(request, "enrol")
    form = await _form(request, pending)
    services, gate = services_of(request), request.app[LOGIN_GATE]
    now, address, admin = services.clock.now(), client_address(request), pending.admin
    secret = services.settings.channel_secret
    assert pending.enrol_secret is not None
    totp = second_factor.unseal(secret, admin.id, pending.enrol_secret)
    async with services.repositories() as repos:
        refused = await gate.blocked(repos, address, admin.name, now)
        if refused is not None:
            await repos.admin.audit(admin.name, refused, address, now)
            return _back_to_password()
        step = second_factor.matching_step(totp, form.get("code", "")[:64], now)
        if step is None:
            return await _wrong_code(request, repos, pending, "login_code_wrong", now)
        sealed = second_factor.seal(secret, admin.id, totp)
        if not await repos.admin.enrol_second_factor(admin.id, sealed, step):
            # Another browser, with the same password, enrolled the account first: its factor
            # stays, and this enrolment ends without a session (the password again, then the
            # code of the factor that was kept).
            await repos.admin.end_signin(_token(request))
            await repos.admin.audit(admin.name, "second_factor_enrol_refused", address, now)
            return _enrolled_already(request)
        # Sign-ins started with the password before this enrolment end: none finishes past it.
        await repos.admin.end_other_signins(admin.id, _token(request))
        codes = second_factor.new_recovery_codes()
        hashes = [second_factor.recovery_hash(secret, c) for c in codes]
        await repos.admin.set_recovery_codes(admin.id, hashes, now)
        await repos.admin.audit(admin.name, "second_factor_enrolled", address, now)
        session, next_page = await _after_factor(
            request, repos, pending, now, f"{address} enrolled"
        )
    page = render(request, "signin_recovery_codes.html", {"codes": codes, "next": next_page})
    _finish(request, page, session)
    return page


def _enrolled_already(request: web.Request) -> web.Response:
    response = render(request, "signin_enrolled_already.html", {}, status=409)
    response.del_cookie(SIGNIN_COOKIE, path="/admin/login")
    return response


@before_login
async def password_page(request: web.Request) -> web.Response:
    pending = await _pending(request, "new_password")
    context = {"csrf_token": pending.csrf_token, "problem": None, "min_length": MIN_LENGTH}
    return render(request, "signin_password.html", context)


@before_login
async def new_password(request: web.Request) -> web.StreamResponse:
    """An operator set this password: its holder chooses their own before the session starts."""
    pending = await _pending(request, "new_password")
    form = await _form(request, pending)
    password, again = form.get("password", ""), form.get("again", "")
    problem = password_problem(password, again, pending.admin.name)
    if problem is None and await same_password(request, password, pending.admin.password_hash):
        problem = "same"
    if problem is not None:
        context = {"csrf_token": pending.csrf_token, "problem": problem, "min_length": MIN_LENGTH}
        return render(request, "signin_password.html", context, status=400)
    password_hash = await request.app[LOGIN_GATE].hash(password)
    services = services_of(request)
    now = services.clock.now()
    async with services.repositories() as repos:
        await repos.admin.set_password(pending.admin.name, password_hash, must_change=False)
        await repos.admin.audit(pending.admin.name, "password_changed", "", now)
        await repos.admin.end_signin(_token(request))
        token = await start_session(request, repos, pending.admin, now, client_address(request))
    response = web.HTTPSeeOther("/admin/")
    _finish(request, response, token)
    raise response


@allow(*StaffRole)
async def second_factor_page(request: web.Request) -> web.Response:
    """Whether this account signs in with a second factor; one whose role does not need it
    may set one up here."""
    admin = session_of(request).admin
    return render(request, "second_factor.html", {"enrolled": admin.totp_secret is not None})


@allow(*StaffRole)
async def enrol_now(request: web.Request) -> web.StreamResponse:
    """Sets up a second factor for the signed-in account: this session ends and the enrolment
    (the QR code, a first code, the recovery codes) starts a new one."""
    admin = session_of(request).admin
    if admin.totp_secret is not None:
        raise web.HTTPSeeOther("/admin/second-factor")
    services = services_of(request)
    now = services.clock.now()
    async with services.repositories() as repos:
        await repos.admin.end_session(token_hash(request.cookies[COOKIE]))
        pending = await start_signin(request, repos, admin, "enrol", now)
    response = web.HTTPSeeOther(STEP_PAGES["enrol"])
    response.del_cookie(COOKIE, path="/admin")
    set_signin_cookie(request, response, pending)
    raise response
