"""Console accounts: added, disabled and enabled, removed, their password or second factor
reset, their role changed, their sessions ended. The same rules for `mimamori admin` and for
運用管理 on /admin/accounts; every change is audited, every refusal changes nothing.

A change that takes something from an account (disable, remove, a new password, a new second
factor, another role) ends its sessions and any sign-in it has half done: a person who leaves,
or whose phone is lost, is out at once, and a new role is read at the next sign-in (which
asks for the second factor the role needs).

A password an operator sets is one the account's holder must change at their next sign-in
(after the second factor): the operator knows it, and the audit log should name who acted,
not whoever else learned the password."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from aiohttp import web

from admin.access import allow
from admin.auth import LOGIN_GATE, session_of
from admin.passwords import MIN_LENGTH
from admin.render import render, services_of
from admin.signin import password_problem
from storage.admin import Admin
from storage.database import Conflict
from storage.models import StaffRole
from storage.repositories import Repositories

NAME = re.compile(r"[A-Za-z0-9_.@-]{3,64}")
# What each change is called in the audit log and in the console's form (action field).
DISABLE, ENABLE, REMOVE = "disable", "enable", "remove"
RESET_PASSWORD, RESET_SECOND_FACTOR = "reset_password", "reset_second_factor"
SET_ROLE, END_SESSIONS = "set_role", "end_sessions"
CHANGES = (DISABLE, ENABLE, REMOVE, RESET_PASSWORD, RESET_SECOND_FACTOR, SET_ROLE, END_SESSIONS)
ENDS_SESSIONS = frozenset(CHANGES) - {ENABLE}


class AccountRefused(Exception):
    """Why a change was not made: `reason` is a key of admin.accounts.refused; the message
    says it in English for the command line."""

    MESSAGES = {
        "no_such_account": "there is no admin named {name}",
        "invalid_name": "an admin name has 3-64 letters, digits or _.@-",
        "name_taken": "an admin named {name} exists already",
        "last_operator": "{name} is the last enabled 運用管理 (operator) account: add or enable"
        " another operator first",
        "yourself": "you cannot do that to your own account; another operator can",
        "unchanged": "{name} is like that already: nothing changed",
        "unknown_role": "a role is one of: " + ", ".join(role.value for role in StaffRole),
    }

    def __init__(self, reason: str, name: str = "") -> None:
        super().__init__(self.MESSAGES[reason].format(name=name))
        self.reason = reason
        self.name = name


@dataclass(frozen=True)
class Changed:
    name: str
    action: str
    sessions_ended: int


def valid_name(name: str) -> bool:
    return NAME.fullmatch(name) is not None


def role_named(text: str) -> StaffRole:
    try:
        return StaffRole(text.strip().lower())
    except ValueError:
        raise AccountRefused("unknown_role") from None


async def add(
    repos: Repositories,
    actor: str,
    name: str,
    password_hash: str,
    role: StaffRole,
    now: datetime,
    must_change_password: bool,
) -> None:
    if not valid_name(name):
        raise AccountRefused("invalid_name", name)
    if await repos.admin.by_name(name) is not None:
        raise AccountRefused("name_taken", name)
    try:
        await repos.admin.add(name, password_hash, now, role)
    except Conflict:
        raise AccountRefused("name_taken", name) from None
    if must_change_password:
        await repos.admin.set_password(name, password_hash, must_change=True)
    await repos.admin.audit(actor, "admin_added", f"{name} role={role.value}", now)


def _takes_operator_away(account: Admin, action: str, role: StaffRole | None) -> bool:
    if account.role is not StaffRole.OPERATOR or account.disabled_at is not None:
        return False
    return action in (DISABLE, REMOVE) or (action == SET_ROLE and role is not StaffRole.OPERATOR)


async def change(
    repos: Repositories,
    actor: str,
    name: str,
    action: str,
    now: datetime,
    *,
    role: StaffRole | None = None,
    password_hash: str | None = None,
    yourself: str | None = None,
) -> Changed:
    """One change to one account, by `actor` (a console account, or `cli:<user>`);
    `yourself`: the console account acting, which may not take its own operator role away."""
    account = await repos.admin.by_name(name)
    if account is None:
        raise AccountRefused("no_such_account", name)
    if _takes_operator_away(account, action, role):
        if yourself == account.name:
            raise AccountRefused("yourself", name)
        if await repos.admin.enabled_operators() == [account.name]:
            raise AccountRefused("last_operator", name)
    detail = name
    if action == DISABLE:
        if account.disabled_at is not None:
            raise AccountRefused("unchanged", name)
        await repos.admin.set_disabled(account.id, now)
    elif action == ENABLE:
        if account.disabled_at is None:
            raise AccountRefused("unchanged", name)
        await repos.admin.set_disabled(account.id, None)
    elif action == SET_ROLE:
        assert role is not None
        if role is account.role:
            raise AccountRefused("unchanged", name)
        await repos.admin.set_role(account.id, role)
        detail = f"{name} role {account.role.value} -> {role.value}"
    elif action == RESET_PASSWORD:
        assert password_hash is not None
        await repos.admin.set_password(name, password_hash, must_change=True)
    elif action == RESET_SECOND_FACTOR:
        if account.totp_secret is None:
            raise AccountRefused("unchanged", name)
        await repos.admin.clear_second_factor(account.id)
    elif action not in (REMOVE, END_SESSIONS):
        raise ValueError(f"no such change: {action}")
    if action in (RESET_PASSWORD, RESET_SECOND_FACTOR):
        # Its code step, closed by too many wrong codes (LoginGate.codes_refused), opens again.
        await repos.admin.wrong_codes_forgiven(name)
    ended = await repos.admin.end_sessions(account.id) if action in ENDS_SESSIONS else 0
    if action == REMOVE:
        await repos.admin.remove(account.id)
    await repos.admin.audit(actor, f"admin_{action}", f"{detail}; sessions ended: {ended}", now)
    return Changed(name, action, ended)


# The console's page (運用管理 only).


def add_routes(console: web.Application) -> None:
    console.router.add_route("GET", "/accounts", accounts_page)
    console.router.add_route("POST", "/accounts", add_account)
    console.router.add_route("POST", "/accounts/{name}", change_account)


async def _page(
    request: web.Request,
    problem: str | None = None,
    done: Changed | None = None,
    status: int = 200,
    values: dict[str, str] | None = None,
) -> web.Response:
    services = services_of(request)
    async with services.reading_repositories() as repos:
        accounts = await repos.admin.accounts(services.clock.now())
    context = {
        "accounts": accounts,
        "roles": list(StaffRole),
        "problem": problem,
        "problem_values": values or {},
        "done": done,
        "yourself": session_of(request).admin.name,
        "min_length": MIN_LENGTH,
    }
    return render(request, "accounts.html", context, status=status)


@allow(StaffRole.OPERATOR)
async def accounts_page(request: web.Request) -> web.Response:
    return await _page(request)


@allow(StaffRole.OPERATOR)
async def add_account(request: web.Request) -> web.Response:
    form = await request.post()
    name, password = str(form.get("name", "")).strip(), str(form.get("password", ""))
    try:
        role = role_named(str(form.get("role", "")))
        if not valid_name(name):
            raise AccountRefused("invalid_name", name)
    except AccountRefused as refused:
        return await _page(request, refused.reason, status=400, values={"name": name})
    problem = password_problem(password, str(form.get("again", "")), name)
    if problem is not None:
        return await _page(request, f"password_{problem}", status=400)
    password_hash = await request.app[LOGIN_GATE].hash(password)
    services = services_of(request)
    try:
        async with services.repositories() as repos:
            await add(
                repos,
                session_of(request).admin.name,
                name,
                password_hash,
                role,
                services.clock.now(),
                must_change_password=True,
            )
    except AccountRefused as refused:
        return await _page(request, refused.reason, status=409, values={"name": name})
    raise web.HTTPSeeOther("/admin/accounts")


@allow(StaffRole.OPERATOR)
async def change_account(request: web.Request) -> web.Response:
    form = await request.post()
    name, action = request.match_info["name"], str(form.get("action", ""))
    if action not in CHANGES:
        raise web.HTTPBadRequest(text="unknown action")
    role, password_hash = None, None
    try:
        if action == SET_ROLE:
            role = role_named(str(form.get("role", "")))
    except AccountRefused as refused:
        return await _page(request, refused.reason, status=400, values={"name": name})
    if action == RESET_PASSWORD:
        password = str(form.get("password", ""))
        problem = password_problem(password, str(form.get("again", password)), name)
        if problem is not None:
            return await _page(request, f"password_{problem}", status=400)
        password_hash = await request.app[LOGIN_GATE].hash(password)
    services, me = services_of(request), session_of(request).admin.name
    try:
        async with services.repositories() as repos:
            done = await change(
                repos,
                me,
                name,
                action,
                services.clock.now(),
                role=role,
                password_hash=password_hash,
                yourself=me,
            )
    except AccountRefused as refused:
        return await _page(request, refused.reason, status=409, values={"name": name})
    if name == me and action in ENDS_SESSIONS:
        # Their own sessions ended with the change (a new password, a new second factor).
        raise web.HTTPSeeOther("/admin/login")
    return await _page(request, done=done)
