"""Console roles (運用管理, 窓口, 閲覧, 監査): every route of the console, read from its router,
declares who opens it; each role gets through where it is allowed and a 403 (a page, or a line
of text for a form) where it is not, audited. And the findings of the city's review: a 窓口
account downloaded members.csv, changed the card of a resident the desk had no case for, and
added a stranger as a manager; 閲覧 must see no names; an export states its purpose and leaves
out what a person shows to nobody."""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from admin import access, auth
from admin.render import NAV_LINKS
from care.services import SERVICES
from storage.models import PERSONAL_FIELDS, StaffRole
from tests.conftest import Bot
from tests.drivers import (
    Page,
    add_admin,
    button,
    csrf,
    exported,
    login,
    member_of,
    run_to,
    team_of,
    tokyo,
    watched_resident,
)
from tests.wording import JA, t

HOUR = timedelta(hours=1)
ROLES = list(StaffRole)
PARAM = re.compile(r"\{(\w+)(?::[^}]*)?\}")


def console_of(bot: Bot) -> web.Application:
    for resource in bot.app.router.resources():
        info = resource.get_info()
        if info.get("prefix") == "/admin":
            return info["app"]
    raise AssertionError("no console under /admin")


def console_routes(bot: Bot) -> list[tuple[str, str, web.AbstractRoute]]:
    """(method, route pattern under /admin, route) of every console view a signed-in account
    opens: all but the login's own (before_login) and the static files."""
    found = []
    for route in console_of(bot).router.routes():
        resource = route.resource
        if resource is None or isinstance(resource, web.StaticResource):
            continue
        if getattr(route.handler, "before_login", False):
            continue
        found.append((route.method, resource.canonical, route))  # prefixed as mounted
    return found


def url_of(pattern: str, values: dict[str, str]) -> str:
    return PARAM.sub(lambda m: values.get(m.group(1), "1"), pattern)


async def refusals(bot: Bot) -> int:
    async with bot.repos() as repos:
        row = await repos.conn.fetch_one(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'access_refused'", ()
        )
    assert row is not None
    return int(row[0])


async def signed_in_as(bot: Bot, role: StaffRole) -> str:
    """A console account of this role, signed in on the bot's client; -> its CSRF token."""
    name = f"staff-{role.value}"
    async with bot.repos() as repos:
        known = await repos.admin.by_name(name)
    if known is None:
        await add_admin(bot, name, role)
    assert await login(bot.client, name) == 200
    return await csrf(bot.client)


def nav_of(page: str) -> list[str]:
    nav = re.search(r"<nav [^>]*>(.*?)</nav>", page, re.S)
    assert nav is not None
    return re.findall(r'href="([^"]+)"', nav.group(1))


async def test_every_console_route_declares_the_roles_that_open_it(bot: Bot) -> None:
    undeclared = [
        f"{method} {pattern} ({route.handler.__qualname__})"
        for method, pattern, route in console_routes(bot)
        if access.roles_of(route.handler) is None
    ]
    assert undeclared == [], "declare them with admin.access.allow"


async def test_every_route_opens_for_its_roles_and_refuses_the_others(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    bot = await start_bot(desk_after=HOUR)
    resident, _ = await watched_resident(bot, "ハナコ見守", ["タロウ見守"])
    values = {
        "team_id": str(await team_of(bot, resident)),
        "member_id": str((await member_of(bot, resident)).id),
        "role": "resident",
        "what": "members",
    }
    routes = console_routes(bot)
    # Signing out is walked last: it ends the session the others ride on.
    routes.sort(key=lambda r: r[1] == "/admin/logout")
    assert len(routes) > 30, "the walk reads the console's router"
    for role in ROLES:
        token = await signed_in_as(bot, role)
        dashboard = await (await bot.client.get("/admin/")).text()
        shown = nav_of(dashboard)
        opens = [
            href for href, _ in NAV_LINKS if role in (access.roles_of(handler_of(bot, href)) or ())
        ]
        assert shown == opens, (role, shown)
        for method, pattern, route in routes:
            allowed = role in (access.roles_of(route.handler) or ())
            before = await refusals(bot)
            url = url_of(pattern, values)
            if method == "POST":
                response = await bot.client.post(
                    url, data={"csrf_token": token}, allow_redirects=False
                )
            else:
                response = await bot.client.request(method, url, allow_redirects=False)
            what = f"{role.value} {method} {url}: {response.status}"
            if allowed:
                assert response.status != 403, what
                assert await refusals(bot) == before, what
                if pattern != "/admin/logout":
                    assert response.headers.get("Location") != "/admin/login", what
                continue
            assert response.status == 403, what
            assert await refusals(bot) == before + 1, what
            body = await response.text()
            if method == "GET":
                assert t("admin.access.forbidden_title") in body, what
                assert nav_of(body) == opens, "the 403 page's navigation is the role's too"
            elif method == "POST":
                assert body == t("admin.access.refused_text"), what


def handler_of(bot: Bot, href: str) -> Callable[..., object]:
    for method, pattern, route in console_routes(bot):
        if method == "GET" and pattern == href:
            return route.handler
    raise AssertionError(f"no page at {href}")


async def test_a_view_that_declares_no_roles_opens_for_nobody(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    ran = []

    async def forgotten(request: web.Request) -> web.Response:
        ran.append(request.path)
        return web.Response(text="personal data")

    # A console like the real one, with one view whose author forgot `allow`.
    console = web.Application(middlewares=[auth.guard])
    console.router.add_get("/forgotten", forgotten)
    console[access.PAGE_ROLES] = {}
    outer = web.Application()
    outer[SERVICES] = bot.app[SERVICES]
    outer.add_subapp("/admin", console)
    await add_admin(bot)
    assert await login(bot.client) == 200
    (cookie,) = [c for c in bot.client.session.cookie_jar if c.key == auth.COOKIE]
    with caplog.at_level(logging.ERROR, "mimamori.console"):
        async with TestClient(TestServer(outer)) as client:
            response = await client.get(
                "/admin/forgotten", headers={"Cookie": f"{auth.COOKIE}={cookie.value}"}
            )
            body = await response.text()
    assert response.status == 403 and ran == [] and "personal data" not in body
    assert "declares no roles" in caplog.text and "forgotten" in caplog.text
    assert await refusals(bot) == 1


async def resident_with_details(bot: Bot, name: str, manager: str, shows: bool) -> str:
    """A resident watched by one manager, with 氏名, 電話 and 住所 on My page; `shows`: she
    taps 「見せる」 for her manager."""
    resident, _ = await watched_resident(bot, name, [manager])
    page = Page(bot, resident, name)
    await page.accept_terms()
    details = DETAILS[name]
    status, _ = await page.call("PUT", "/liff/api/me/personal", details)
    assert status == 200
    if shows:
        await bot.tap(resident, button(bot, resident, t("sharing.allow")))
    return resident


DETAILS = {
    "ハナコ見守": {"full_name": "見守 花子", "phone": "0311112222", "address": "東町1-2-3"},
    "ウメ見守": {"full_name": "見守 梅", "phone": "0333334444", "address": "西町4-5-6"},
}


async def test_a_desk_account_cannot_take_members_csv_nor_anyone_s_card_nor_add_a_manager(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    bot = await start_bot(desk_after=HOUR)
    resident = await resident_with_details(bot, "ハナコ見守", "タロウ見守", shows=True)
    her = await member_of(bot, resident)
    team_id = await team_of(bot, resident)
    stranger = await member_of(bot, await bot.follow("知らない人"))
    token = await signed_in_as(bot, StaffRole.DESK)

    # members.csv: neither its form nor the file, with a purpose or without.
    assert (await bot.client.get("/admin/export/members.csv")).status == 403
    response = await bot.client.post(
        "/admin/export/members.csv",
        data={"csrf_token": token, "purpose": "visits", "purpose_text": "訪問の計画のため"},
    )
    assert response.status == 403 and "見守 花子" not in await response.text()

    # Her card, her call number, a device for her: she has no case and the desk does not
    # watch her team, so for the desk she is nobody it knows.
    assert (await bot.client.get(f"/admin/people/{her.id}")).status == 404
    for form in (
        {"action": "calls", "call_number": "09099998888", "call_before_alert": "on"},
        {
            "action": "link_device",
            "label": "人感センサー",
            "counts_as_ok": "on",
            "consented": "on",
        },
    ):
        response = await bot.client.post(
            f"/admin/people/{her.id}", data={"csrf_token": token, **form}
        )
        assert response.status == 400
        assert await response.text() == JA.t("admin.refused.no_such_person")
    assert (await member_of(bot, resident)).call_number in (None, "")
    async with bot.repos() as repos:
        assert await repos.devices.of_member(her.id) == []
    # ... nor can it make the desk watch her team to open the card that way.
    response = await bot.client.post(
        f"/admin/teams/{team_id}", data={"csrf_token": token, "action": "desk_watch_on"}
    )
    assert response.status == 403

    # A stranger as a manager of her team, whose 無事を確認しました would close her alert.
    response = await bot.client.post(
        f"/admin/teams/{team_id}",
        data={"csrf_token": token, "action": "add_manager", "member_id": str(stranger.id)},
    )
    assert response.status == 403
    async with bot.repos() as repos:
        assert await repos.teams.role_of(team_id, stranger.id) is None
        log = await repos.admin.audit_log()
    refused = [e["detail"] for e in log if e["action"] == "access_refused"]
    assert len(refused) == 4, refused
    assert len([e for e in log if e["action"] == "person_refused"]) == 3
    assert not [e for e in log if e["action"] in ("export", "team_add_manager", "desk_calls_set")]

    # Once 運用管理 has the desk watch her team, the desk reads her card.
    await signed_in_as(bot, StaffRole.OPERATOR)
    token = await csrf(bot.client)
    response = await bot.client.post(
        f"/admin/teams/{team_id}",
        data={"csrf_token": token, "action": "desk_watch_on"},
        allow_redirects=False,
    )
    assert response.status == 303
    await signed_in_as(bot, StaffRole.DESK)
    card = await bot.client.get(f"/admin/people/{her.id}")
    assert card.status == 200 and "見守 花子" in await card.text()


async def test_the_desk_sees_the_open_alerts_of_its_own_people_only(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    bot = await start_bot(desk_after=HOUR)
    watched, _ = await watched_resident(bot, "ハナコ見守", ["タロウ見守"])
    await watched_resident(bot, "ウメ見守", ["ジロウ見守"])
    await signed_in_as(bot, StaffRole.OPERATOR)
    token = await csrf(bot.client)
    team_id = await team_of(bot, watched)
    await bot.client.post(
        f"/admin/teams/{team_id}", data={"csrf_token": token, "action": "desk_watch_on"}
    )
    await run_to(bot, tokyo(11, 24, 9))
    await run_to(bot, tokyo(11, 25, 9))
    await run_to(bot, tokyo(11, 25, 12))

    await signed_in_as(bot, StaffRole.OPERATOR)  # a day later: signed in again
    page = await (await bot.client.get("/admin/alerts")).text()
    assert "ハナコ見守" in page and "ウメ見守" in page, "運用管理 sees every open alert"
    await signed_in_as(bot, StaffRole.DESK)
    page = await (await bot.client.get("/admin/alerts")).text()
    assert "ハナコ見守" in page and "ウメ見守" not in page and "ジロウ見守" not in page
    assert t("admin.access.desk_alerts") in page
    assert t("admin.alerts.group_reports") not in page, "chat groups are 運用管理's"


async def test_viewer_and_auditor_pages_show_no_name_id_phone_or_address(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    bot = await start_bot(desk_after=HOUR)
    await resident_with_details(bot, "ハナコ見守", "タロウ見守", shows=True)
    await run_to(bot, tokyo(11, 24, 9))
    await run_to(bot, tokyo(11, 25, 9))
    await run_to(bot, tokyo(11, 25, 12))
    await run_to(bot, tokyo(11, 25, 13))
    await run_to(bot, tokyo(11, 25, 14, 1))  # alerted, sent again, at the desk
    personal = ["ハナコ見守", "タロウ見守", *DETAILS["ハナコ見守"].values()]
    for role in (StaffRole.VIEWER, StaffRole.AUDITOR):
        await signed_in_as(bot, role)
        for method, pattern, route in console_routes(bot):
            if method != "GET" or "{" in pattern or pattern == "/admin/audit":
                continue  # the audit log is 監査's to read: who did what, to whom
            if role not in (access.roles_of(route.handler) or ()):
                continue
            response = await bot.client.get(pattern)
            body = (await response.read()).decode("utf-8-sig")
            assert response.status == 200, (role, pattern)
            for value in personal:
                assert value not in body, (role, pattern, value)
            assert t("admin.member_id") not in body, (role, pattern)
            assert "/admin/export/members.csv" not in body, (role, pattern)
    for guide in ("resident", "watcher", "group", "staff"):
        body = await (await bot.client.get(f"/admin/guides/{guide}")).text()
        assert not [value for value in personal if value in body], guide


def rows_of(body: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body)))


async def test_an_export_states_its_purpose_and_leaves_out_what_she_shows_nobody(bot: Bot) -> None:
    await resident_with_details(bot, "ハナコ見守", "タロウ見守", shows=True)
    await resident_with_details(bot, "ウメ見守", "ジロウ見守", shows=False)
    await add_admin(bot)
    await login(bot.client)

    form = await (await bot.client.get("/admin/export/members.csv")).text()
    assert t("admin.access.export.purpose") in form
    # ウメ's three fields and the LINE names of all who show nothing (her own, and the two
    # managers', who entered nothing to show).
    assert t("admin.access.export.summary", rows=4, withheld=6) in form
    token = await csrf(bot.client, "/admin/export/members.csv")
    for missing in (
        {},
        {"purpose": "visits"},
        {"purpose_text": "訪問の計画のため"},
        {"purpose": "curiosity", "purpose_text": "訪問の計画のため"},
        {"purpose": "visits", "purpose_text": "  a "},
    ):
        response = await bot.client.post(
            "/admin/export/members.csv", data={"csrf_token": token, **missing}
        )
        body = await response.text()
        assert response.status == 400 and "見守 花子" not in body, missing
        assert t("admin.access.export.problem", min=4, limit=200) in body

    response = await exported(
        bot.client, "/admin/export/members.csv", "visits", "東町の訪問の計画のため"
    )
    assert response.status == 200 and response.headers["X-Withheld-Fields"] == "6"
    found = rows_of((await response.read()).decode("utf-8-sig"))
    rows = {row["nickname"]: row for row in found}
    assert rows["ハナコ見守"]["full_name"] == "見守 花子"
    assert rows["ハナコ見守"]["address"] == "東町1-2-3" and rows["ハナコ見守"]["withheld"] == ""
    (hers,) = [row for row in found if row["withheld"] == "nickname full_name phone address"]
    assert all(hers[field] == "" for field in ["nickname", *PERSONAL_FIELDS])
    hidden = ("ウメ見守", "タロウ見守", "ジロウ見守")
    assert not [row for row in found if row["nickname"] in hidden]
    async with bot.repos() as repos:
        (entry,) = [e for e in await repos.admin.audit_log() if e["action"] == "export"]
    assert entry["detail"] == (
        "members.csv: 4 rows, 6 fields withheld; purpose visits: 東町の訪問の計画のため"
    )


async def test_a_roll_calls_list_leaves_out_what_she_shows_nobody(bot: Bot) -> None:
    from tests.drivers import start_roll_call

    await resident_with_details(bot, "ハナコ見守", "タロウ見守", shows=True)
    await resident_with_details(bot, "ウメ見守", "ジロウ見守", shows=False)
    await add_admin(bot)
    await login(bot.client)
    call = await start_roll_call(bot, audience="everyone")
    path = f"/admin/rollcalls/{call}/export.csv"
    assert 'id="export-form"' in await (await bot.client.get(path)).text()
    response = await exported(bot.client, path, "disaster", "台風の避難支援のため")
    rows = {row["nickname"]: row for row in rows_of(await response.text())}
    assert rows["ハナコ見守"]["phone"] == "0311112222"
    assert rows["ウメ見守"]["phone"] == "" and rows["ウメ見守"]["withheld"] == "full_name phone"
    async with bot.repos() as repos:
        (entry,) = [e for e in await repos.admin.audit_log() if e["action"] == "rollcall_export"]
    assert (
        "2 fields withheld" in entry["detail"]
        and "disaster: 台風の避難支援のため" in entry["detail"]
    )


async def test_the_role_is_shown_beside_the_name(bot: Bot) -> None:
    await signed_in_as(bot, StaffRole.AUDITOR)
    page = await (await bot.client.get("/admin/audit")).text()
    role = t("admin.access.role.auditor")
    assert t("admin.access.as_role", role=role) in page
    assert nav_of(page) == ["/admin/", "/admin/audit", "/admin/second-factor"]
