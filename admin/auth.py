"""Who is at the console: password login, a session cookie, CSRF tokens, lock-out, audit."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TypeVar

from aiohttp import web

from admin.access import EVERY_ROLE, SEES_PERSONAL_DATA, allow, roles_of
from admin.passwords import check_password, hash_password
from admin.render import SESSION_KEY, admin_locale, render, services_of
from admin.second_factor import new_secret, seal
from ground.client_address import Address, Network, UntrustedHeader
from ground.client_address import client_address as ground_client_address
from ground.client_address import client_ip as ground_client_ip
from ground.client_address import is_https as ground_is_https
from storage.admin import Admin, AdminSession
from storage.repositories import Repositories

COOKIE = "mimamori_admin"
LOGIN_CSRF_COOKIE = "mimamori_login"
SESSION_LENGTH = timedelta(hours=8)
# The idle deadline is moved at most this often: a page that polls, or a busy morning, costs one
# write a minute per session, and a session ends between its idle time and one minute less.
IDLE_TOUCH_EVERY = timedelta(minutes=1)
# Between the password and the session (the code, an enrolment, a new password): a few minutes.
SIGNIN_COOKIE = "mimamori_signin"
SIGNIN_LENGTH = timedelta(minutes=10)
MAX_FAILURES = 5
LOCK_LENGTH = timedelta(minutes=15)
# One address trying many names is stopped even though no single account locks.
MAX_FAILURES_PER_ADDRESS = 20
# Names no account has are counted apart, in a larger bucket: a stranger spraying made-up names
# from an office's or a city hall's shared address takes five times as long to lock out the
# staff behind it (each name still locks after MAX_FAILURES, and answers as a known one does).
MAX_UNKNOWN_NAMES_PER_ADDRESS = 100
# Wrong second-factor (or recovery) codes for one account, from every address together: past
# this many in the hour its code step is refused, whoever asks, until the hour has passed or an
# operator resets the account (someone has its password: the password step no longer clears
# these, so the code cannot be guessed a few at a time between passwords).
MAX_WRONG_CODES_PER_ACCOUNT = 10
WRONG_CODES_WINDOW = timedelta(hours=1)
# Failures are kept as long as the longest window that counts them.
FAILURES_KEPT = max(LOCK_LENGTH, WRONG_CODES_WINDOW)
# Each scrypt takes 16 MiB and ~50 ms of a core: a few at once, never on the event loop.
CONCURRENT_HASHES = 4

# A peer that is no configured proxy but sends X-Forwarded-For (a proxy left out of
# MIMAMORI_TRUSTED_PROXIES, or a client trying its luck) is logged once per address in this long,
# and no more than FORWARDED_WARNINGS addresses in that time in all: a spray of addresses cannot
# flood the log, nor grow what is remembered.
FORWARDED_WARNING_EVERY = timedelta(hours=1)
FORWARDED_WARNINGS = 20

log = logging.getLogger("mimamori.console")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
AnyHandler = TypeVar("AnyHandler", bound=Callable[..., Awaitable[web.StreamResponse]])


@functools.cache
def _dummy_hash() -> str:
    # Checked when the name is unknown, so that a wrong name takes as long as a wrong password.
    return hash_password(secrets.token_urlsafe(16))


class LoginGate:
    """Password checks run in threads, a few at a time, so a burst of logins cannot stall the
    webhook. Failures per client address are counted in the database over the lock-out
    window, so the limit holds across restarts and whichever instance answers."""

    def __init__(self) -> None:
        self._hashes = asyncio.Semaphore(CONCURRENT_HASHES)
        self._forwarded_warned: dict[str, datetime] = {}

    async def check(self, password: str, stored: str) -> bool:
        async with self._hashes:
            return await asyncio.to_thread(check_password, password, stored)

    async def hash(self, password: str) -> str:
        async with self._hashes:
            return await asyncio.to_thread(hash_password, password)

    @staticmethod
    async def blocked(repos: Repositories, address: str, name: str, now: datetime) -> str | None:
        """Why this address may not try this name now (None: it may). Counted per address and
        per (address, name), never per account alone: a stranger who guesses an admin's name
        locks out only themselves, and a name nobody has is treated like one that exists (the
        address's bucket for such names is larger, but whichever fills blocks every name)."""
        failures = await repos.admin.login_failures(address, name, now - LOCK_LENGTH)
        if (
            failures.known >= MAX_FAILURES_PER_ADDRESS
            or failures.unknown >= MAX_UNKNOWN_NAMES_PER_ADDRESS
        ):
            return "login_refused_address"
        if failures.with_name >= MAX_FAILURES:
            return "login_refused_locked"
        return None

    @staticmethod
    async def failed(
        repos: Repositories, address: str, name: str, now: datetime, kind: str = "password"
    ) -> None:
        """kind: 'password', 'unknown' (no account has the name) or 'code'."""
        await repos.admin.login_failed(address, name, now, now - FAILURES_KEPT, kind)

    @staticmethod
    async def codes_refused(repos: Repositories, name: str, now: datetime) -> bool:
        """The account took MAX_WRONG_CODES_PER_ACCOUNT wrong codes within the hour, from
        wherever: its code step is refused for now."""
        wrong = await repos.admin.wrong_codes_since(name, now - WRONG_CODES_WINDOW)
        return wrong >= MAX_WRONG_CODES_PER_ACCOUNT

    @staticmethod
    async def refusal_audited(
        repos: Repositories, name: str, refused: str, address: str, now: datetime
    ) -> None:
        """A blocked sign-in is recorded once per address and refusal in a lock window: a
        flood of them would otherwise write a row a request and bury the staff's actions."""
        await repos.admin.audit_view(
            name or "?", refused, address, now, LOCK_LENGTH, scope=f"{refused}:{address}"
        )

    def untrusted_forwarded(self, peer: str, bucket: str, header: str, now: datetime) -> None:
        """X-Forwarded-For or X-Forwarded-Proto came from a peer that is no trusted proxy: the
        header is ignored (the peer is counted, the request is not HTTPS), and said so once
        per address (its bucket) an hour."""
        since = now - FORWARDED_WARNING_EVERY
        warned = {key: at for key, at in self._forwarded_warned.items() if at > since}
        self._forwarded_warned = warned
        if bucket in warned or len(warned) >= FORWARDED_WARNINGS:
            return
        warned[bucket] = now
        log.warning(
            "%r from %s, which is not in MIMAMORI_TRUSTED_PROXIES: ignored, the login limit"
            " counts %s itself and takes it for plain HTTP (if it is your reverse proxy, add it"
            " there)%s",
            header[:200],
            peer,
            peer,
            "; no more such warnings for an hour" if len(warned) >= FORWARDED_WARNINGS else "",
        )


LOGIN_GATE = web.AppKey("login_gate", LoginGate)


def client_address(request: web.Request) -> str:
    """Who is asking, as the login limit counts (ground.client_address: the peer, or the
    client a trusted proxy names). X-Forwarded-For from a peer that is no proxy is ignored,
    and logged."""
    return ground_client_address(request, _proxies(request), _warner(request))


def is_https(request: web.Request) -> bool:
    return ground_is_https(request, _proxies(request), _warner(request))


def _proxies(request: web.Request) -> tuple[Network, ...]:
    return services_of(request).settings.trusted_proxies


def _warner(request: web.Request) -> UntrustedHeader:
    gate, now = request.app[LOGIN_GATE], services_of(request).clock.now()
    return lambda peer, bucket, header: gate.untrusted_forwarded(peer, bucket, header, now)


def client_ip(request: web.Request) -> Address | None:
    """Who is asking, the address itself (client_address is what the limit counts: an IPv6
    client's /64); None when the peer is no address."""
    return ground_client_ip(request, _proxies(request), _warner(request))


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def session_of(request: web.Request) -> AdminSession:
    return request[SESSION_KEY]


async def audit(request: web.Request, action: str, detail: str = "") -> None:
    """Every admin action leaves a line: who, what, when."""
    async with services_of(request).repositories() as repos:
        await repos.admin.audit(
            session_of(request).admin.name,
            action,
            detail,
            services_of(request).clock.now(),
        )


def before_login(handler: AnyHandler) -> AnyHandler:
    """Marks a view anyone may open (the login page and form); every other view is guarded."""
    handler.before_login = True  # type: ignore[attr-defined]
    return handler


@web.middleware
async def network_gate(request: web.Request, handler: Handler) -> web.StreamResponse:
    """MIMAMORI_CONSOLE_NETWORKS: a client from elsewhere gets 403 on every console URL, the
    login page too (nothing of the console is shown to it), and a log line."""
    networks = services_of(request).settings.console_networks
    if networks:
        address = client_ip(request)
        if address is None or not any(address in net for net in networks):
            log.warning(
                "console request from %s refused: not in MIMAMORI_CONSOLE_NETWORKS (%s %s)",
                address or request.remote,
                request.method,
                request.path[:200],
            )
            raise web.HTTPForbidden(text="the console does not answer this network")
    return await handler(request)


async def live_session(request: web.Request, token: str) -> AdminSession | None:
    """The session the cookie names while it is within both its absolute and idle ends; the
    idle end moves with each request (written at most once per IDLE_TOUCH_EVERY)."""
    services = services_of(request)
    now, idle = services.clock.now(), services.settings.console_idle
    async with services.repositories() as repos:
        session = await repos.admin.session(token_hash(token), now)
        moved = min(now + idle, session.expires_at) if session else now
        if session and session.idle_until and session.idle_until < moved - IDLE_TOUCH_EVERY:
            await repos.admin.touch_session(token_hash(token), moved)
    return session


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every console view: logged-out requests go to the login page (GET) or are refused
    (anything else); every POST must carry the session's CSRF token; the account's role must
    be one the view declared (admin.access.allow), and a view that declared none opens for
    nobody. A new view cannot forget it: it guards the whole console."""
    resource = request.match_info.route.resource
    if getattr(handler, "before_login", False) or isinstance(resource, web.StaticResource):
        return await handler(request)
    token = request.cookies.get(COOKIE)
    session = None
    if token:
        session = await live_session(request, token)
    if session is None:
        if request.method == "GET":
            raise web.HTTPSeeOther("/admin/login")
        raise web.HTTPForbidden(text="login required")
    if request.method == "POST":
        form = await request.post()
        sent = str(form.get("csrf_token", ""))
        if not hmac.compare_digest(sent.encode(), session.csrf_token.encode()):
            raise web.HTTPForbidden(text="CSRF token missing or wrong")
    request[SESSION_KEY] = session
    route = request.match_info.route
    if request.match_info.http_exception is not None:
        return await handler(request)  # no such page (404) or method (405): said as it is
    roles = roles_of(route.handler)
    if roles is None:
        log.error(
            "console view %s (%s %s) declares no roles (admin.access.allow): refused to every"
            " account until it does",
            getattr(route.handler, "__qualname__", route.handler),
            request.method,
            route.resource.canonical if route.resource else request.path,
        )
    if roles is None or session.admin.role not in roles:
        return await refused(request, "undeclared" if roles is None else "role")
    return await handler(request)


async def refused(request: web.Request, why: str) -> web.Response:
    """A signed-in account opened what its role does not: 403, a page that says so (GET) or a
    line of text (anything else, whose form sent nothing a page could show), and an audit row."""
    session = session_of(request)
    detail = f"{request.method} {request.path} ({session.admin.role.value}, {why})"
    await audit(request, "access_refused", detail)
    if request.method in ("GET", "HEAD"):
        role = admin_locale(request).t(f"admin.access.role.{session.admin.role.value}")
        return render(request, "forbidden.html", {"role": role}, status=403)
    return web.Response(
        status=403, text=admin_locale(request).t("admin.access.refused_text"), charset="utf-8"
    )


@before_login
async def login_page(request: web.Request, problem: str | None = None) -> web.Response:
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)
    response = render(request, "login.html", {"csrf_token": token, "problem": problem})
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="Strict",
        secure=is_https(request),
        path="/admin",
    )
    if problem:
        response.set_status(401 if problem != "locked" else 429)
    return response


@before_login
async def login(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    # Double-submit: a cross-site page cannot read the cookie to put it in the form.
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(
        str(form.get("csrf_token", "")).encode(), expected.encode()
    ):
        raise web.HTTPForbidden(text="CSRF token missing or wrong")
    name, password = str(form.get("name", "")), str(form.get("password", ""))
    gate, address = request.app[LOGIN_GATE], client_address(request)
    now = services_of(request).clock.now()
    name = name[:64]
    async with services_of(request).repositories() as repos:
        refused = await gate.blocked(repos, address, name, now)
        if refused is not None:
            await gate.refusal_audited(repos, name, refused, address, now)
            return await login_page(request, "locked")
        admin = await repos.admin.by_name(name)
    # Hashed outside the unit of work: no database connection waits on scrypt.
    right = await gate.check(password, admin.password_hash if admin else _dummy_hash())
    async with services_of(request).repositories() as repos:
        if admin is None or not right or admin.disabled_at is not None:
            # A disabled account answers as a wrong password does, and counts as one. A name
            # no account has is counted in the address's bucket for unknown names; it answers
            # the same, after the same hash and the same writes.
            kind = "unknown" if admin is None else "password"
            await gate.failed(repos, address, name, now, kind)
            refused = "login_failed" if admin is None or not right else "login_refused_disabled"
            await repos.admin.audit(name or "?", refused, address, now)
            return await login_page(request, "wrong")
        await repos.admin.login_forgiven(address, name)
        step = next_step(admin)
        if step is None:
            token = await start_session(request, repos, admin, now)
        else:
            pending = await start_signin(request, repos, admin, step, now)
    if step is None:
        response = web.HTTPSeeOther("/admin/")
        set_session_cookie(request, response, token)
    else:
        response = web.HTTPSeeOther(STEP_PAGES[step])
        set_signin_cookie(request, response, pending)
    response.del_cookie(LOGIN_CSRF_COOKIE, path="/admin")
    raise response


STEP_PAGES = {
    "code": "/admin/login/code",
    "enrol": "/admin/login/enrol",
    "new_password": "/admin/login/password",
}


def needs_second_factor(admin: Admin) -> bool:
    """Roles that see people's details sign in with a second factor; the others may."""
    return admin.role in SEES_PERSONAL_DATA or admin.totp_secret is not None


def next_step(admin: Admin, factor_done: bool = False) -> str | None:
    """What a sign-in asks next once the password is right (and, with factor_done, the second
    factor too); None: the session may start."""
    if not factor_done and admin.totp_secret is not None:
        return "code"
    if not factor_done and admin.role in SEES_PERSONAL_DATA:
        return "enrol"
    if admin.must_change_password:
        return "new_password"
    return None


async def start_signin(
    request: web.Request, repos: Repositories, admin: Admin, step: str, now: datetime
) -> str:
    """A pending sign-in (no session): -> the token for its cookie."""
    token = secrets.token_urlsafe(32)
    enrol_secret = None
    if step == "enrol":
        channel_secret = services_of(request).settings.channel_secret
        enrol_secret = seal(channel_secret, admin.id, new_secret())
    await repos.admin.start_signin(
        token_hash(token),
        admin.id,
        step,
        secrets.token_urlsafe(32),
        now,
        now + SIGNIN_LENGTH,
        enrol_secret,
    )
    await repos.admin.audit(admin.name, "login_password", f"{client_address(request)} {step}", now)
    return token


async def start_session(
    request: web.Request, repos: Repositories, admin: Admin, now: datetime, detail: str = ""
) -> str:
    """The session begins (every step is done): -> the token for its cookie."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    idle = services_of(request).settings.console_idle
    expires = now + SESSION_LENGTH
    await repos.admin.login_succeeded(admin.id, now)
    # Only now are this address's wrong codes for the account forgotten, not at the password.
    await repos.admin.signin_forgiven(client_address(request), admin.name)
    await repos.admin.start_session(token_hash(token), admin.id, csrf, now, expires, now + idle)
    await repos.admin.audit(admin.name, "login", detail, now)
    return token


def set_signin_cookie(request: web.Request, response: web.StreamResponse, pending: str) -> None:
    """The half-done sign-in (password given, code not yet): sent only to its own pages."""
    response.set_cookie(
        SIGNIN_COOKIE,
        pending,
        httponly=True,
        samesite="Strict",
        secure=is_https(request),
        path="/admin/login",
        max_age=int(SIGNIN_LENGTH.total_seconds()),
    )


def set_session_cookie(request: web.Request, response: web.StreamResponse, token: str) -> None:
    response.set_cookie(
        COOKIE,
        token,
        httponly=True,
        samesite="Strict",
        secure=is_https(request),
        path="/admin",
        max_age=int(SESSION_LENGTH.total_seconds()),
    )


@allow(*EVERY_ROLE)
async def logout(request: web.Request) -> web.StreamResponse:
    await audit(request, "logout")
    async with services_of(request).repositories() as repos:
        await repos.admin.end_session(token_hash(request.cookies[COOKIE]))
    response = web.HTTPSeeOther("/admin/login")
    response.del_cookie(COOKIE, path="/admin")
    raise response
