"""The admin console: access, every page with data, notices, quota, exports, the audit log."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from admin.auth import COOKIE, MAX_UNKNOWN_NAMES_PER_ADDRESS
from server.app import create_app
from storage.models import Role
from tests import line_webhook as hook
from tests.conftest import Bot
from tests.drivers import (
    CSRF,
    PASSWORD,
    Group,
    add_admin,
    csrf,
    exported,
    login,
    run_to,
    tokyo,
    watched_resident,
)
from tests.wording import JA, t

ROOT = Path(__file__).resolve().parents[1]


async def audit_actions(bot: Bot) -> list[str]:
    async with bot.repos() as repos:
        return [entry["action"] for entry in await repos.admin.audit_log()]


async def test_the_first_admin_comes_from_the_command_line(
    start_bot: Callable[..., Awaitable[Bot]], tmp_path: Path
) -> None:
    bot = await start_bot()
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(ROOT),
        "MIMAMORI_DATABASE": str(bot.settings.database),
        "HOME": str(tmp_path),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "mimamori",
        "admin",
        "add",
        "city-staff",
        "--role",
        "operator",
        cwd=tmp_path,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate(f"{PASSWORD}\n".encode())
    assert process.returncode == 0, err.decode()
    assert await login(bot.client) == 200
    assert t("admin.nav.dashboard") in await (await bot.client.get("/admin/")).text()
    assert "admin_added" in await audit_actions(bot)


async def test_login_lock_out_and_logout(bot: Bot) -> None:
    await add_admin(bot)
    assert await login(bot.client, password="wrong") == 401
    assert await login(bot.client, name="nobody") == 401
    for _ in range(4):
        await login(bot.client, password="wrong")
    assert await login(bot.client) == 429, "this address is stopped for this name"
    bot.clock.advance(timedelta(minutes=16))
    assert await login(bot.client) == 200
    page = await (await bot.client.get("/admin/")).text()
    assert "city-staff" in page
    cookie = next(c for c in bot.client.session.cookie_jar if c.key == "mimamori_admin")
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and cookie["path"] == "/admin"

    token = await csrf(bot.client)
    await bot.client.post("/admin/logout", data={"csrf_token": token})
    response = await bot.client.get("/admin/", allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/admin/login"
    actions = await audit_actions(bot)
    assert actions.count("login_failed") == 6 and "login_refused_locked" in actions
    assert actions[:2] == ["logout", "login"]


async def test_a_burst_of_logins_leaves_the_server_answering(bot: Bot) -> None:
    page = await (await bot.client.get("/admin/login")).text()
    token = CSRF.search(page)
    assert token is not None
    finished: list[int] = []
    first_answered = asyncio.Event()

    async def guess(n: int) -> None:
        form = {"name": f"nobody-{n}", "password": "x", "csrf_token": token.group(1)}
        finished.append((await bot.client.post("/admin/login", data=form)).status)
        first_answered.set()

    guesses = [asyncio.create_task(guess(n)) for n in range(32)]
    await first_answered.wait()
    assert (await bot.client.get("/healthz")).status == 200
    # The hashes run in a few threads: the health check does not wait behind the burst.
    assert len(finished) < 16
    await asyncio.gather(*guesses)
    assert set(finished) <= {401, 429}


async def test_one_address_trying_many_names_is_stopped(bot: Bot) -> None:
    """Names no account has fill the address's own, larger bucket (MAX_UNKNOWN_NAMES_PER_ADDRESS;
    real names' wrong passwords stop it at MAX_FAILURES_PER_ADDRESS,
    tests/test_console_signin_guard.py)."""
    await add_admin(bot)
    for n in range(MAX_UNKNOWN_NAMES_PER_ADDRESS):
        assert await login(bot.client, name=f"guess-{n}") == 401
    assert await login(bot.client) == 429, "the address is stopped, even for a right password"
    assert "login_refused_address" in await audit_actions(bot)
    bot.clock.advance(timedelta(minutes=16))
    assert await login(bot.client) == 200


async def test_parallel_wrong_passwords_still_lock_the_account(bot: Bot) -> None:
    await add_admin(bot)
    await asyncio.gather(*(login(bot.client, password=f"wrong-{n}") for n in range(6)))
    assert await login(bot.client) == 429


async def test_every_admin_url_refuses_a_logged_out_request(bot: Bot) -> None:
    await add_admin(bot)
    checked = 0
    (console,) = [r for r in bot.app.router.resources() if r.canonical == "/admin"]
    for resource in console.get_info()["app"].router.resources():
        path = "/admin" + resource.canonical
        if path.startswith(("/admin/login", "/admin/static")):
            continue
        url = path.replace("{team_id}", "1").replace("{what}", "usage")
        for route in resource:
            response = await bot.client.request(route.method, url, allow_redirects=False)
            if route.method == "GET":
                assert response.status == 303 and response.headers["Location"] == "/admin/login"
            else:
                assert response.status == 403, url
            checked += 1
    assert checked >= 15


async def test_forms_without_the_csrf_token_change_nothing(bot: Bot) -> None:
    await add_admin(bot)
    await login(bot.client)
    for data in ({}, {"csrf_token": "forged"}):
        response = await bot.client.post(
            "/admin/teams", data={**data, "name": "町会", "interval_days": "1", "hour": "9"}
        )
        assert response.status == 403
    async with bot.repos() as repos:
        assert await repos.stats.teams() == []
    # The login form is guarded too (double-submit cookie).
    response = await bot.client.post("/admin/login", data={"name": "x", "password": "y"})
    assert response.status == 403


async def test_every_page_renders_with_data(bot: Bot) -> None:
    resident, (son,) = await watched_resident(bot, "resident", ["son"])
    town = Group(bot, "三丁目町会")
    leader = town.person("leader")
    await town.join()
    await town.set_daily(leader)
    await run_to(bot, tokyo(11, 24, 9))
    await run_to(bot, tokyo(11, 25, 9))
    await run_to(bot, tokyo(11, 25, 12))
    await add_admin(bot)
    await login(bot.client)

    page = await (await bot.client.get("/admin/")).text()
    assert re.search(r'id="count-users"><span>[^<]+</span><strong>1<', page)
    assert re.search(r'id="count-open_alerts"><span>[^<]+</span><strong>1<', page)
    assert "<svg" in page and "stroke-dasharray" in page and "<title>" in page
    page = await (await bot.client.get("/admin/alerts")).text()
    assert "resident" in page and f"son ({t('admin.delivery.sent')})" in page
    assert "三丁目町会" in page  # the group's report
    page = await (await bot.client.get("/admin/teams?q=resident")).text()
    assert "residentの家族" in page and JA.schedule(1, 9) in page
    assert "residentの家族" not in await (await bot.client.get("/admin/teams?q=nothing")).text()
    page = await (await bot.client.get("/admin/teams/1")).text()
    assert "son" in page and 'src="/invites/' in page
    page = await (await bot.client.get("/admin/teams/1/flyer")).text()
    assert 'id="flyer-qr"' in page and "@page" not in page  # the A4 rule lives in the CSS
    page = await (await bot.client.get("/admin/groups")).text()
    assert "三丁目町会" in page and "0% (0/1)" in page
    page = await (await bot.client.get("/admin/quota")).text()
    assert t("admin.quota.unlimited") in page
    page = await (await bot.client.get("/admin/audit")).text()
    assert "flyer_printed" in page

    for what, expected in (
        ("usage", "2026-11-24,1,0,0,0"),
        ("teams", "residentの家族,2,1,1"),
        ("members", ",nickname\r\n"),  # she shows nothing: her LINE name is left out too
    ):
        path = f"/admin/export/{what}.csv"
        response = await (bot.client.get(path) if what == "usage" else exported(bot.client, path))
        body = (await response.read()).decode("utf-8-sig")
        assert response.status == 200 and expected in body, body[:300]
    assert (await audit_actions(bot)).count("export") == 3


async def test_a_notice_to_a_team_of_1200_goes_out_as_3_multicasts(bot: Bot) -> None:
    now = bot.clock.now()
    async with bot.repos() as repos:
        team = await repos.teams.create("〇〇団地", 1, 9, now)
        for number in range(1200):
            member, _ = await repos.members.register(hook.user_id(f"r{number}"), "", "ja", now)
            await repos.teams.add_member(team.id, member.id, Role.USER, now)
    await add_admin(bot)
    await login(bot.client)
    token = await csrf(bot.client, "/admin/notices")
    form = {
        "csrf_token": token,
        "text": "【避難情報】〇〇川が増水しています。",
        "audience": "teams",
        "team_id": str(team.id),
    }
    preview = await (await bot.client.post("/admin/notices/preview", data=form)).text()
    assert t("admin.notices.cost", recipients=1200, requests=3) in preview
    assert bot.line.multicasts == [], "nothing is sent before the confirmation"
    await bot.client.post("/admin/notices/send", data=form)
    await bot.settle()
    sizes = sorted(len(c.body["to"]) for c in bot.line.multicasts)
    assert sizes == [200, 500, 500]
    assert {c.body["messages"][0]["text"] for c in bot.line.multicasts} == {form["text"]}
    page = await (await bot.client.get("/admin/notices")).text()
    assert re.search(r'class="progress">3/3<', page) and "1200" in page
    assert "notice_sent" in await audit_actions(bot)


async def test_notices_to_everyone_a_group_and_one_person(bot: Bot) -> None:
    resident = await bot.follow("resident")
    town = Group(bot, "町会")
    await town.join()
    bot.line.chat_member_counts[town.chat_id] = 37
    await add_admin(bot)
    await login(bot.client)
    token = await csrf(bot.client, "/admin/notices")
    cases = [
        ({"audience": "everyone"}, t("admin.notices.cost", recipients=1, requests=1)),
        (
            {"audience": "groups", "group_id": "1"},
            t("admin.notices.cost", recipients=37, requests=1),
        ),
        (
            {"audience": "person", "member_id": "1"},
            t("admin.notices.cost", recipients=1, requests=1),
        ),
    ]
    for choice, cost in cases:
        form = {"csrf_token": token, "text": "重要なお知らせ", **choice}
        assert cost in await (await bot.client.post("/admin/notices/preview", data=form)).text()
        await bot.client.post("/admin/notices/send", data=form)
    await bot.settle()
    assert len(bot.line.broadcasts) == 1
    assert "重要なお知らせ" in bot.line.to_chat(town.chat_id)
    assert bot.line.texts_to(resident)[-1] == "重要なお知らせ"
    form = {"csrf_token": token, "text": "x", "audience": "person", "member_id": "999"}
    page = await (await bot.client.post("/admin/notices/preview", data=form)).text()
    assert t("admin.notice_problem.nobody") in page
    response = await bot.client.post("/admin/notices/send", data=form)
    assert response.status == 400


async def test_the_quota_warning_appears_when_the_quota_is_nearly_spent(bot: Bot) -> None:
    await watched_resident(bot, "resident", ["son"])
    await add_admin(bot)
    await login(bot.client)
    assert 'id="quota-warning"' not in await (await bot.client.get("/admin/")).text()
    bot.line.quota = {"type": "limited", "value": 1000}
    bot.line.quota_used = 995
    bot.clock.advance(timedelta(minutes=11))  # past the few minutes the answer is kept
    page = await (await bot.client.get("/admin/")).text()
    assert 'id="quota-warning"' in page
    page = await (await bot.client.get("/admin/quota")).text()
    assert re.search(r'id="projected">(\d+)<', page)
    projected = int(re.search(r'id="projected">(\d+)<', page).group(1))  # type: ignore[union-attr]
    assert projected > 995, "the rest of the month's check-ins are counted"


async def test_admin_names_and_removes_managers_by_member_id(bot: Bot) -> None:
    minsei = await bot.follow("minsei-iin")
    await add_admin(bot)
    await login(bot.client)
    token = await csrf(bot.client, "/admin/teams")
    await bot.client.post(
        "/admin/teams",
        data={"csrf_token": token, "name": "民生委員 第3地区", "interval_days": "2", "hour": "10"},
    )
    await bot.client.post(
        "/admin/teams/1", data={"csrf_token": token, "action": "add_manager", "member_id": "1"}
    )
    await bot.settle()
    made = t("admin.made_manager_notice", team="民生委員 第3地区")
    assert bot.line.texts_to(minsei)[-1] == made
    async with bot.repos() as repos:
        assert await repos.teams.role_of(1, 1) is Role.MANAGER
        old = await repos.teams.active_invite(1, Role.USER)
    await bot.client.post("/admin/teams/1", data={"csrf_token": token, "action": "rotate_user"})
    await bot.client.post(
        "/admin/teams/1", data={"csrf_token": token, "action": "remove_manager", "member_id": "1"}
    )
    async with bot.repos() as repos:
        assert await repos.teams.role_of(1, 1) is None
        new = await repos.teams.active_invite(1, Role.USER)
    assert old is not None and new is not None and old.code != new.code
    actions = await audit_actions(bot)
    assert {"team_created", "team_add_manager", "team_rotate_user", "team_remove_manager"} <= set(
        actions
    )


async def test_the_audit_log_cannot_be_edited(bot: Bot) -> None:
    await add_admin(bot)
    await login(bot.client)
    for statement in ("UPDATE audit_log SET action = 'nothing'", "DELETE FROM audit_log"):
        # SQLite's RAISE(ABORT) is a constraint error; PostgreSQL's trigger raises its own.
        with pytest.raises(Exception, match="append-only"):
            async with bot.repos() as repos:
                await repos.conn.execute(statement)
    async with bot.repos() as repos:
        assert await repos.admin.audit_log(), "the log is as it was"


async def test_exported_names_never_run_as_spreadsheet_formulas(bot: Bot) -> None:
    await bot.follow('=HYPERLINK("http://evil.example","click")')
    await bot.follow("@SUM(1+1)")
    async with bot.repos() as repos:
        await repos.teams.create("+cmd|' /C calc'!A0", 1, 9, bot.clock.now(), kept=True)
    await add_admin(bot)
    await login(bot.client)
    members = (await (await exported(bot.client, "/admin/export/members.csv")).read()).decode(
        "utf-8-sig"
    )
    teams = (await (await exported(bot.client, "/admin/export/teams.csv")).read()).decode(
        "utf-8-sig"
    )
    for line in members.splitlines()[1:] + teams.splitlines()[1:]:
        for value in line.split(",")[1:2]:
            assert not value.lstrip('"').startswith(("=", "+", "-", "@")), line
    # Their LINE names are left out of members.csv (they show nothing to anyone): the cells
    # that are written, the teams', are escaped.
    assert "HYPERLINK" not in members and "'+cmd" in teams


async def test_sessions_and_lock_outs_hold_whichever_instance_answers(bot: Bot) -> None:
    """A second instance on the same database (the load balancer may send any request to
    either): failures from one address count on both, and a session made on one is good on
    the other, as is its logout."""
    other = TestClient(TestServer(create_app(bot.settings, clock=bot.clock, run_scheduler=False)))
    await other.start_server()
    try:
        await add_admin(bot)
        for n in range(5):
            client = bot.client if n % 2 else other
            assert await login(client, password=f"wrong-{n}") == 401
        for client in (bot.client, other):
            assert await login(client) == 429, "stopped on both instances"
        bot.clock.advance(timedelta(minutes=16))

        assert await login(other) == 200
        token = other.session.cookie_jar.filter_cookies(other.make_url("/admin/"))[COOKIE].value
        cookie = {"Cookie": f"{COOKIE}={token}"}
        page = await bot.client.get("/admin/", headers=cookie, allow_redirects=False)
        assert page.status == 200, "the session made on the other instance is good here"
    finally:
        await other.close()
