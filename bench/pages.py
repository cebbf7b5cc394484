"""Every console page that lists or counts, every export, the monthly report, /metrics and My
page's views, timed on a seeded history (bench/seed.py, issue 42): p50 and p95 of N requests
a page, beside a bare aiohttp app's request time measured in the same run (the reference) and
the ratio of the two.

    .venv/bin/python -m bench.seed --residents 100000 --days 400 --database /tmp/seed.db
    .venv/bin/python -m bench.pages --database /tmp/seed.db --requests 20 --runs 3

The app runs in this process (bench/inprocess.py) on the seeded database, its scheduler still,
configured as the seed's deployment would be: a desk an hour after the alert went out again,
calls placed, My page's LINE Login channel. Staff sign in as a person does (the password, then
the code from the app), as 運用管理 and, for the pages 窓口 reads differently, as 窓口. My page
is called by a resident and by one of her managers, their ID tokens verified by the stand-in
LINE. One request at a time, each timed until its body is read; the reference is the bare app
of bench/bare.py in this same process and loop. A page that takes long is asked fewer times:
once its requests in a run took --page-seconds, the next page is taken (one request at least).

Asserts nothing about time; exits 1 when a page does not answer 200. What it leaves in the
database: its two staff accounts (a rerun reuses them), their sessions and the audit rows the
pages write, as any staff member's reading would.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager, closing
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pyotp
from aiohttp import ClientSession, CookieJar, web

from admin.passwords import hash_password
from admin.second_factor import new_secret, seal
from bench import bare
from bench.inprocess import SECRET, InProcess, in_process
from bench.standins import BenchGround, CountingLine
from care.services import SERVICES, Services
from storage.database import is_postgres
from storage.models import StaffRole

PASSWORD = "a long bench password, never a real one"
OPERATOR, DESK = "bench-operator", "bench-desk"
LOGIN_CHANNEL = "1650000042"  # My page's LINE Login channel (any digits: the stand-in's)
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
REFERENCE_REQUESTS = 200
EXPORT_PURPOSE = {"purpose": "city_report", "purpose_text": "the benchmark of issue 42"}


class NotSeeded(Exception):
    """The database is not one bench.seed finished seeding."""


@dataclass(frozen=True)
class Seed:
    residents: int
    days: int
    schema: int


@dataclass(frozen=True)
class View:
    """One page as a person opens it: who, the route's pattern (the line's name) and what is
    asked for."""

    who: str  # operator, desk, resident, manager, monitoring
    name: str  # "GET /admin/people/{member_id}"
    path: str
    form: dict[str, str] | None = None  # a POST's fields (the session's CSRF token added)


@dataclass(frozen=True)
class People:
    """The seeded rows the pages are opened on."""

    by_phone: int  # a person watched by phone alone (the desk registered her)
    desk_known: int  # the person of the latest desk case (窓口 reads her)
    case: int
    team: int
    partner: int
    resident: int  # in LINE, with check-ins
    resident_uid: str
    manager_uid: str  # one of her managers


@dataclass
class Timed:
    view: View
    took_ms: list[float] = field(default_factory=list)
    size: int = 0  # the last answer's body, bytes
    failed: str = ""

    @property
    def p50(self) -> float:
        return statistics.median(self.took_ms)

    @property
    def p95(self) -> float:
        return percentile(self.took_ms, 95)


def percentile(values: list[float], share: int) -> float:
    """The nearest-rank percentile (of few requests, the slowest is the p95)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share / 100 * len(ordered)) - 1)]


def seed_of(target: str) -> Seed:
    """What bench.seed recorded in the database, asked before the app opens it (the app's
    migrations would make an empty database look like one)."""
    sql = "SELECT residents, days, schema_version FROM bench_seed WHERE seeded_at IS NOT NULL"
    row = None
    if is_postgres(target):
        import psycopg

        with psycopg.connect(target) as conn:
            try:
                row = conn.execute(sql).fetchone()
            except psycopg.errors.UndefinedTable:
                row = None
    else:
        if not Path(target).is_file():
            raise NotSeeded(f"{target}: no such file")
        with closing(sqlite3.connect(f"file:{target}?mode=ro", uri=True)) as conn:
            try:
                row = conn.execute(sql).fetchone()
            except sqlite3.OperationalError:
                row = None
    if row is None:
        raise NotSeeded(
            f"{target} holds no finished seed: seed it first (python -m bench.seed --database …)"
        )
    return Seed(int(row[0]), int(row[1]), int(row[2]))


class PagesLine(CountingLine):
    """The stand-in LINE, also answering what the pages ask of LINE: My page's ID tokens
    verified as LINE Login does (a token `bench.{user id}` is that user's, for the channel
    asked about, for a day), the account's basic id and the month's quota."""

    def app(self) -> web.Application:
        app = super().app()
        app.router.add_post("/oauth2/v2.1/verify", self.verify)
        app.router.add_get("/v2/bot/info", self.bot_info)
        app.router.add_get("/v2/bot/message/quota", self.quota)
        app.router.add_get("/v2/bot/message/quota/consumption", self.quota_used)
        return app

    async def verify(self, request: web.Request) -> web.Response:
        form = await request.post()
        token = str(form.get("id_token", ""))
        if not token.startswith("bench."):
            return web.json_response({"error": "invalid_request"}, status=400)
        expires = int(time.time()) + 86400  # LINE's own clock, not the app's fake one
        claims = {"sub": token.removeprefix("bench."), "aud": form.get("client_id"),
                  "exp": expires, "name": "bench"}  # fmt: skip
        return web.json_response(claims)

    async def bot_info(self, request: web.Request) -> web.Response:
        info = {"userId": "U" + "b" * 32, "basicId": "@bench", "displayName": "mimamori",
                "chatMode": "bot", "markAsReadMode": "auto"}  # fmt: skip
        return web.json_response(info)

    async def quota(self, request: web.Request) -> web.Response:
        return web.json_response({"type": "limited", "value": 15_000_000})

    async def quota_used(self, request: web.Request) -> web.Response:
        return web.json_response({"totalUsage": 1_000_000})


@asynccontextmanager
async def ground_for(target: str) -> AsyncIterator[BenchGround]:
    """The stand-in LINE serving, and the seeded database (kept)."""
    line = PagesLine()
    runner, url = await line.start()
    try:
        yield BenchGround(line, url, Path(tempfile.gettempdir()), target)
    finally:
        await runner.cleanup()


async def seeded_people(services: Services) -> People:
    async with services.reading_repositories() as repos:
        conn = repos.conn

        async def one(sql: str) -> int:
            row = await conn.fetch_one(sql)
            assert row is not None and row[0] is not None, sql
            return int(row[0])

        resident = await one(
            "SELECT MIN(id) FROM members WHERE channel = 'line' AND interval_days IS NOT NULL"
        )
        manager = await one(
            "SELECT MIN(t.member_id) FROM team_members t JOIN team_members u"
            f" ON u.team_id = t.team_id WHERE u.member_id = {resident} AND u.role = 'user'"
            " AND t.role = 'manager'"
        )
        uids = {
            row[0]: row[1]
            for row in await conn.fetch_all(
                "SELECT id, line_user_id FROM members WHERE id IN (?, ?)", (resident, manager)
            )
        }
        case = await one("SELECT MAX(id) FROM desk_cases")
        return People(
            by_phone=await one("SELECT MIN(id) FROM members WHERE channel = 'voice'"),
            desk_known=await one(f"SELECT member_id FROM desk_cases WHERE id = {case}"),
            case=case,
            team=await one(
                "SELECT MIN(team_id) FROM team_members WHERE member_id = " + str(resident)
            ),
            partner=await one("SELECT MIN(id) FROM partners"),
            resident=resident,
            resident_uid=uids[resident],
            manager_uid=uids[manager],
        )


def views(people: People) -> list[View]:
    """Every console page that lists or counts, every export, the monthly report, /metrics,
    and My page's views, in the order they are timed."""
    p = people
    month = "2026-10"  # the last whole month of the history (the clock stands in November)
    operator = [
        # First: it counts the month's forecast afresh, and every other page shows the warning
        # from it, cached for 10 minutes (admin.pages.QUOTA_CACHE_FOR; the fake clock stands
        # still, so the others are timed without it). Its line is what one page in 10 minutes
        # pays, whichever it is.
        ("GET /admin/quota", "/admin/quota"),
        ("GET /admin/", "/admin/"),
        ("GET /admin/alerts", "/admin/alerts"),
        ("GET /admin/groups", "/admin/groups"),
        ("GET /admin/teams", "/admin/teams"),
        ("GET /admin/teams/{team_id}", f"/admin/teams/{p.team}"),
        ("GET /admin/notices", "/admin/notices"),
        ("GET /admin/audit", "/admin/audit"),
        ("GET /admin/audit?action=desk_closed", "/admin/audit?action=desk_closed"),
        ("GET /admin/accounts", "/admin/accounts"),
        ("GET /admin/set-aside", "/admin/set-aside"),
        ("GET /admin/heat", "/admin/heat"),
        ("GET /admin/rollcalls", "/admin/rollcalls"),
        ("GET /admin/roster", "/admin/roster"),
        ("GET /admin/desk", "/admin/desk"),
        ("GET /admin/desk/{case_id}", f"/admin/desk/{p.case}"),
        ("GET /admin/people", "/admin/people"),
        ("GET /admin/people?q=a name", "/admin/people?q=resident+4242"),
        ("GET /admin/people?q=a phone", "/admin/people?q=090-0000-4242"),
        ("GET /admin/people/{member_id}", f"/admin/people/{p.by_phone}"),
        ("GET /admin/partners", "/admin/partners"),
        ("GET /admin/partners/{partner_id}", f"/admin/partners/{p.partner}"),
        ("GET /admin/report", "/admin/report"),
        ("GET /admin/report?month=last", f"/admin/report?month={month}"),
        ("GET /admin/report.csv?month=last", f"/admin/report.csv?month={month}"),
        ("GET /admin/export/usage.csv", "/admin/export/usage.csv"),
    ]
    found = [View("operator", name, path) for name, path in operator]
    found += [
        View("operator", f"POST /admin/export/{what}.csv", f"/admin/export/{what}.csv",
             EXPORT_PURPOSE)
        for what in ("members", "teams", "cases", "case_steps")
    ]  # fmt: skip
    found.append(
        View("operator", "POST /admin/records", "/admin/records",
             {"member_id": str(p.resident), "reference": "bench 42", "format": "csv"})
    )  # fmt: skip
    desk = [
        ("GET /admin/alerts", "/admin/alerts"),
        ("GET /admin/desk", "/admin/desk"),
        ("GET /admin/people", "/admin/people"),
        ("GET /admin/people?q=a name", "/admin/people?q=resident+4242"),
        ("GET /admin/people/{member_id}", f"/admin/people/{p.desk_known}"),
        ("GET /admin/partners", "/admin/partners"),
    ]
    found += [View("desk", name, path) for name, path in desk]
    found.append(View("monitoring", "GET /metrics", "/metrics"))
    her = f"/liff/api/members/{p.resident}"
    resident = [
        ("GET /liff/api/me", "/liff/api/me"),
        ("GET /liff/api/me/heat", "/liff/api/me/heat"),
        ("GET /liff/api/teams", "/liff/api/teams"),
        ("GET /liff/api/members/{own id}/history", f"{her}/history"),
        ("GET /liff/api/me/records", "/liff/api/me/records"),
        ("GET /liff/api/me/records/download?format=csv",
         "/liff/api/me/records/download?format=csv"),
    ]  # fmt: skip
    manager = [
        ("GET /liff/api/me", "/liff/api/me"),
        ("GET /liff/api/teams", "/liff/api/teams"),
        ("GET /liff/api/members/{member_id}", her),
        ("GET /liff/api/members/{member_id}/history", f"{her}/history"),
        ("GET /liff/api/cards/{member_id}", f"/liff/api/cards/{p.resident}"),
    ]
    found += [View("resident", name, path) for name, path in resident]
    found += [View("manager", name, path) for name, path in manager]
    return found


async def staff_accounts(bot: InProcess) -> dict[str, str]:
    """The two staff accounts, made or reused, each with a second factor set afresh (its
    last code forgotten: the fake clock stands still between runs). -> name: TOTP secret."""
    services = bot.app[SERVICES]
    secrets = {}
    hashed = hash_password(PASSWORD)  # outside the transaction: no connection waits on scrypt
    async with services.repositories() as repos:
        for name, role in ((OPERATOR, StaffRole.OPERATOR), (DESK, StaffRole.DESK)):
            if await repos.admin.by_name(name) is None:
                await repos.admin.add(name, hashed, bot.clock.now(), role)
            admin = await repos.admin.by_name(name)
            assert admin is not None and admin.role is role, f"{name} is not {role.value}"
            secrets[name] = new_secret()
            sealed = seal(services.settings.channel_secret, admin.id, secrets[name])
            await repos.admin.set_second_factor(admin.id, sealed)
    return secrets


async def signed_in(session: ClientSession, bot: InProcess, name: str, secret: str) -> str:
    """Both steps of the console's sign-in, as a person does them; -> the session's CSRF
    token (for the exports' forms)."""
    base = bot.url
    page = await (await session.get(f"{base}/admin/login")).text()
    form = {"name": name, "password": PASSWORD, "csrf_token": _csrf(page)}
    async with session.post(f"{base}/admin/login", data=form, allow_redirects=False) as asked:
        assert asked.headers.get("Location") == "/admin/login/code", f"{name}: {asked.status}"
    page = await (await session.get(f"{base}/admin/login/code")).text()
    code = pyotp.TOTP(secret).at(bot.clock.now())
    form = {"code": code, "csrf_token": _csrf(page)}
    async with session.post(
        f"{base}/admin/login/code", data=form, allow_redirects=False
    ) as answered:
        assert answered.headers.get("Location") == "/admin/", f"{name}: not signed in"
    return _csrf(await (await session.get(f"{base}/admin/records")).text())


def _csrf(page: str) -> str:
    found = CSRF.search(page)
    assert found is not None, "no CSRF token on the page"
    return found.group(1)


@dataclass
class Callers:
    """Who opens the pages: a browser each for the two staff members, My page's tokens."""

    sessions: dict[str, ClientSession]
    csrf: dict[str, str]
    headers: dict[str, dict[str, str]]


async def timed(
    session: ClientSession, url: str, view: View, callers: Callers
) -> tuple[float, int]:
    """One request, until its body is read; -> milliseconds, and the body's size in bytes
    (raises on an answer not 200)."""
    headers = callers.headers.get(view.who, {})
    data = None
    if view.form is not None:
        data = {**view.form, "csrf_token": callers.csrf[view.who]}
    began = time.perf_counter()
    async with session.request(
        "POST" if data else "GET", url + view.path, data=data, headers=headers,
        allow_redirects=False,
    ) as answer:  # fmt: skip
        body = await answer.read()
        status = answer.status
    took = (time.perf_counter() - began) * 1000
    if status != 200:
        raise LookupError(f"answered {status}")
    return took, len(body)


async def time_view(
    bot: InProcess, view: View, callers: Callers, requests: int, page_seconds: float
) -> Timed:
    session = callers.sessions.get(view.who, callers.sessions["anyone"])
    found = Timed(view)
    for _ in range(requests):
        try:
            took, found.size = await timed(session, bot.url, view, callers)
        except LookupError as refused:
            found.failed = str(refused)
            break
        found.took_ms.append(took)
        if sum(found.took_ms) >= page_seconds * 1000:
            break
    return found


async def reference(session: ClientSession) -> Timed:
    """The bare aiohttp app (bench/bare.py) in this process: its GET /healthz, timed alike."""
    runner = web.AppRunner(bare.make_app(SECRET))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    found = Timed(View("bare", "GET /healthz", "/healthz"))
    try:
        for _ in range(REFERENCE_REQUESTS):
            took, found.size = await timed(
                session, f"http://127.0.0.1:{port}", found.view, Callers({}, {}, {})
            )
            found.took_ms.append(took)
    finally:
        await runner.cleanup()
    return found


def line(found: Timed, bare_p50: float) -> str:
    view = found.view
    if found.failed:
        return f"  {view.who:10} {view.name:50} FAILED: {found.failed}"
    return (
        f"  {view.who:10} {view.name:50} {len(found.took_ms):3}  p50 {found.p50:9.1f} ms"
        f"  p95 {found.p95:9.1f} ms  {found.p50 / bare_p50:9,.0f} × bare"
        f"  {found.size / 1024:9,.1f} kB"
    )


def summary(runs: list[list[Timed]], bares: list[Timed]) -> Iterable[str]:
    """Each page over the runs: its p50 and p95, lowest and highest of the runs."""
    yield f"summary of {len(runs)} run(s), each figure lowest–highest of the runs:"
    p50s = [b.p50 for b in bares]
    yield (
        f"  {'reference':10} {'bare aiohttp GET /healthz':50}  p50 {_span(p50s, 2)} ms"
        f"  p95 {_span([b.p95 for b in bares], 2)} ms"
    )
    for number, view in enumerate(found.view for found in runs[0]):
        each = [run[number] for run in runs if not run[number].failed]
        if not each:
            continue
        ratios = [t.p50 / b.p50 for t, b in zip(each, bares, strict=False)]
        yield (
            f"  {view.who:10} {view.name:50}  p50 {_span([t.p50 for t in each], 1)} ms"
            f"  p95 {_span([t.p95 for t in each], 1)} ms  {_span(ratios, 0)} × bare"
        )


def _span(values: list[float], digits: int) -> str:
    low, high = min(values), max(values)
    if f"{low:,.{digits}f}" == f"{high:,.{digits}f}":
        return f"{low:,.{digits}f}"
    return f"{low:,.{digits}f}–{high:,.{digits}f}"


async def main(
    target: str, requests: int, runs: int, page_seconds: float, only: tuple[str, ...] = ()
) -> int:
    seed = seed_of(target)
    engine = "PostgreSQL" if is_postgres(target) else "SQLite"
    async with (
        ground_for(target) as ground,
        in_process(
            ground,
            desk_after=timedelta(hours=1),
            login_channel_id=LOGIN_CHANNEL,
            public_url="https://mimamori.example.jp",
            twilio_account_sid="ACbench",
            twilio_auth_token="bench",
            twilio_from="+815000000000",
            twilio_api_base_url=ground.line_url,  # never called: the scheduler stands still
            call_budget=10_000,
            console_idle=timedelta(hours=8),
        ) as bot,
    ):
        people = await seeded_people(bot.app[SERVICES])
        secrets = await staff_accounts(bot)
        jars = {
            who: ClientSession(cookie_jar=CookieJar(unsafe=True)) for who in ("operator", "desk")
        }
        sessions = {**jars, "anyone": ClientSession()}
        try:
            callers = Callers(
                sessions,
                {
                    "operator": await signed_in(
                        jars["operator"], bot, OPERATOR, secrets[OPERATOR]
                    ),
                    "desk": await signed_in(jars["desk"], bot, DESK, secrets[DESK]),
                },
                {
                    "resident": {"Authorization": f"Bearer bench.{people.resident_uid}"},
                    "manager": {"Authorization": f"Bearer bench.{people.manager_uid}"},
                },
            )
            print(
                f"{seed.residents:,} residents × {seed.days} days (bench.seed, schema"
                f" {seed.schema}), {engine}: {target}"
            )
            print(
                f"{requests} request(s) a page a run, fewer once a page took {page_seconds:g} s;"
                f" one at a time; {runs} run(s); the reference: a bare aiohttp app's GET"
                f" /healthz in this process ({REFERENCE_REQUESTS} requests a run)"
            )
            results, bares = [], []
            for run in range(1, runs + 1):
                bare_timed = await reference(sessions["anyone"])
                bares.append(bare_timed)
                print(
                    f"run {run}: bare aiohttp p50 {bare_timed.p50:.2f} ms, p95"
                    f" {bare_timed.p95:.2f} ms"
                )
                found = []
                for view in views(people):
                    if only and not any(f"{view.who} {view.name}".startswith(o) for o in only):
                        continue
                    timed_view = await time_view(bot, view, callers, requests, page_seconds)
                    print(line(timed_view, bare_timed.p50), flush=True)
                    found.append(timed_view)
                results.append(found)
        finally:
            for session in sessions.values():
                await session.close()
    for said in summary(results, bares):
        print(said)
    failed = {t.view for run in results for t in run if t.failed}
    if failed:
        print(f"{len(failed)} page(s) did not answer 200", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database", required=True, help="an SQLite file or a postgresql:// URL bench.seed seeded"
    )
    parser.add_argument("--requests", type=int, default=20, help="requests a page a run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--page-seconds",
        type=float,
        default=30.0,
        help="a page's requests in a run stop once they took this long (one at least)",
    )
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        help="only the pages whose line starts so ('desk GET /admin/people'); again for more",
    )
    args = parser.parse_args()
    if args.requests < 1 or args.runs < 1:
        parser.error("at least one request and one run")
    try:
        sys.exit(
            asyncio.run(
                main(args.database, args.requests, args.runs, args.page_seconds, tuple(args.only))
            )
        )
    except NotSeeded as refusal:
        sys.exit(f"refused: {refusal}")
