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

from admin.access import EVERY_ROLE, allow, roles_of
from admin.passwords import check_password, hash_password
from admin.render import SESSION_KEY, admin_locale, render, services_of
from ground.client_address import Network, UntrustedHeader
from ground.client_address import client_address as ground_client_address
from ground.client_address import is_https as ground_is_https
from storage.admin import AdminSession
from storage.repositories import Repositories

COOKIE = "mimamori_admin"
LOGIN_CSRF_COOKIE = "mimamori_login"
SESSION_LENGTH = timedelta(hours=8)
MAX_FAILURES = 5
LOCK_LENGTH = timedelta(minutes=15)
# One address trying many names is stopped even though no single account locks.
MAX_FAILURES_PER_ADDRESS = 20
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

    @staticmethod
    async def blocked(repos: Repositories, address: str, name: str, now: datetime) -> str | None:
        """Why this address may not try this name now (None: it may). Counted per address and
        per (address, name), never per account alone: a stranger who guesses an admin's name
        locks out only themselves, and a name nobody has is treated like one that exists."""
        from_address, with_name = await repos.admin.login_failures(
            address, name, now - LOCK_LENGTH
        )
        if from_address >= MAX_FAILURES_PER_ADDRESS:
            return "login_refused_address"
        if with_name >= MAX_FAILURES:
            return "login_refused_locked"
        return None

    @staticmethod
    async def failed(repos: Repositories, address: str, name: str, now: datetime) -> None:
        await repos.admin.login_failed(address, name, now, forget_before=now - LOCK_LENGTH)

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


def _hash(token: str) -> str:
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
        services = services_of(request)
        async with services.repositories() as repos:
            session = await repos.admin.session(_hash(token), services.clock.now())
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
            await repos.admin.audit(name or "?", refused, address, now)
            return await login_page(request, "locked")
        admin = await repos.admin.by_name(name)
    # Hashed outside the unit of work: no database connection waits on scrypt.
    right = await gate.check(password, admin.password_hash if admin else _dummy_hash())
    async with services_of(request).repositories() as repos:
        if admin is None or not right:
            await gate.failed(repos, address, name, now)
            await repos.admin.audit(name or "?", "login_failed", address, now)
            return await login_page(request, "wrong")
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        await repos.admin.login_forgiven(address, name)
        await repos.admin.login_succeeded(admin.id, now)
        await repos.admin.start_session(_hash(token), admin.id, csrf, now, now + SESSION_LENGTH)
        await repos.admin.audit(admin.name, "login", "", now)
    response = web.HTTPSeeOther("/admin/")
    response.set_cookie(
        COOKIE,
        token,
        httponly=True,
        samesite="Strict",
        secure=is_https(request),
        path="/admin",
        max_age=int(SESSION_LENGTH.total_seconds()),
    )
    response.del_cookie(LOGIN_CSRF_COOKIE, path="/admin")
    raise response


@allow(*EVERY_ROLE)
async def logout(request: web.Request) -> web.StreamResponse:
    await audit(request, "logout")
    async with services_of(request).repositories() as repos:
        await repos.admin.end_session(_hash(request.cookies[COOKIE]))
    response = web.HTTPSeeOther("/admin/login")
    response.del_cookie(COOKIE, path="/admin")
    raise response
