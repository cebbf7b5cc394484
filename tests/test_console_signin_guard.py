"""The console's sign-in holds where a reviewer attacked it (issue 37): wrong codes are not
forgiven by typing the password again and have a ceiling per account across addresses; a flood
of refused logins writes one audit row per address and window, the audit page filters and pages;
made-up names fill their own, larger bucket per address; an enrolment never replaces a factor
another finished first; the holder does not keep the password an operator set."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import timedelta
from ipaddress import ip_network

import pyotp
import pytest
from aiohttp.test_utils import TestClient

from admin.auth import (
    LOGIN_CSRF_COOKIE,
    MAX_FAILURES_PER_ADDRESS,
    MAX_UNKNOWN_NAMES_PER_ADDRESS,
    MAX_WRONG_CODES_PER_ACCOUNT,
    WRONG_CODES_WINDOW,
)
from storage.models import StaffRole
from tests.conftest import Bot
from tests.drivers import (
    CSRF,
    ENROL_SECRET,
    PASSWORD,
    TOTP_SECRET,
    add_admin,
    another_browser,
    csrf,
    login,
    post_code,
    totp_code,
)
from tests.wording import says, t

OFFICE = "198.51.100.7"


async def password_step(
    client: TestClient,
    name: str = "desk-a",
    password: str = PASSWORD,
    address: str | None = None,
) -> tuple[int, str, str]:
    """The login form alone, from `address` when the bot sits behind a proxy: (status, where
    it ended, the page)."""
    headers = {"X-Forwarded-For": address} if address else {}
    page = await (await client.get("/admin/login", headers=headers)).text()
    token = CSRF.search(page)
    assert token is not None
    form = {"name": name, "password": password, "csrf_token": token.group(1)}
    response = await client.post("/admin/login", data=form, headers=headers)
    return response.status, response.url.path, await response.text()


async def send_code(
    client: TestClient, page: str, code: str, address: str | None = None
) -> tuple[int, str]:
    headers = {"X-Forwarded-For": address} if address else {}
    token = CSRF.search(page)
    assert token is not None
    response = await client.post(
        "/admin/login/code", data={"code": code, "csrf_token": token.group(1)}, headers=headers
    )
    return response.status, await response.text()


async def actions(bot: Bot, action: str) -> list[dict[str, str]]:
    async with bot.repos() as repos:
        return [row for row in await repos.admin.audit_log(10_000) if row["action"] == action]


async def signed_in(client: TestClient) -> bool:
    return (await client.get("/admin/", allow_redirects=False)).status == 200


async def behind_proxy(start_bot: Callable[..., Awaitable[Bot]]) -> Bot:
    return await start_bot(trusted_proxies=(ip_network("127.0.0.1/32"),))


async def test_typing_the_password_again_does_not_forgive_wrong_codes(bot: Bot) -> None:
    """Someone with the password (phished, reused) guessed 4 codes, typed the password again
    and guessed 4 more, without end: now 5 wrong codes in the window stop the address."""
    await add_admin(bot, "desk-a", StaffRole.DESK)
    guessed = 0
    for _ in range(3):
        status, path, page = await password_step(bot.client)
        if status == 429:
            break
        assert path == "/admin/login/code"
        for _ in range(4 if guessed == 0 else 1):
            assert (await send_code(bot.client, page, "000000"))[0] == 401
            guessed += 1
    assert status == 429, "the password again found the address stopped"
    assert guessed == 5
    assert len(await actions(bot, "login_code_wrong")) == 5
    await bot.advance(timedelta(minutes=16))
    assert await login(bot.client, "desk-a") == 200


async def test_a_whole_sign_in_forgives_its_wrong_codes(bot: Bot) -> None:
    await add_admin(bot, "desk-a", StaffRole.DESK)
    _, _, page = await password_step(bot.client)
    for _ in range(4):
        assert (await send_code(bot.client, page, "000000"))[0] == 401
    assert await post_code(bot.client, page, await totp_code(bot.client, "desk-a")) == 200
    await bot.client.post("/admin/logout", data={"csrf_token": await csrf(bot.client)})
    _, _, page = await password_step(bot.client)
    for _ in range(4):
        assert (await send_code(bot.client, page, "000000"))[0] == 401
    status, path, _ = await password_step(bot.client)
    assert (status, path) == (200, "/admin/login/code"), "the first four were forgiven"


async def test_wrong_codes_from_every_address_meet_the_account_ceiling(
    start_bot: Callable[..., Awaitable[Bot]], caplog: pytest.LogCaptureFixture
) -> None:
    """A few wrong codes from each of many addresses: the account's ceiling counts them all,
    recovery codes as TOTP codes, and then its code step is refused to everyone, the right
    code too, until the hour has passed or an operator resets its password."""
    bot = await behind_proxy(start_bot)
    await add_admin(bot, "desk-a", StaffRole.DESK)
    guesses = ["000000", "ABCD-EFGH-JKMN"]  # a TOTP code and a recovery code, both wrong
    answers = []
    with caplog.at_level(logging.ERROR, logger="mimamori.console"):
        for n in range(MAX_WRONG_CODES_PER_ACCOUNT // 2 + 1):
            address = f"203.0.113.{n + 1}"
            status, path, page = await password_step(bot.client, address=address)
            assert (status, path) == (200, "/admin/login/code")
            for guess in guesses:
                answers.append(await send_code(bot.client, page, guess, address))
    statuses = [status for status, _ in answers]
    closed = MAX_WRONG_CODES_PER_ACCOUNT - 1
    assert statuses[:closed] == [401] * closed
    assert statuses[closed:] == [429] * (len(statuses) - closed)
    assert says(answers[closed][1], "admin.signin_guard.codes_refused")
    assert (
        len(await actions(bot, "login_code_wrong"))
        + len(await actions(bot, "login_recovery_code_wrong"))
        == MAX_WRONG_CODES_PER_ACCOUNT
    ), "refused codes are not even tried"
    (closed_row,) = await actions(bot, "second_factor_codes_closed")
    assert closed_row["admin_name"] == "desk-a"
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "desk-a" in errors[0] and "reset-password desk-a" in errors[0]

    # The holder, from the office, with the right code: refused too, and told why.
    status, _, page = await password_step(bot.client, address=OFFICE)
    assert status == 200
    status, said = await send_code(bot.client, page, await totp_code(bot.client, "desk-a"), OFFICE)
    assert status == 429 and says(said, "admin.signin_guard.codes_refused")
    assert not await signed_in(bot.client)
    assert len(await actions(bot, "login_refused_codes")) == 2, "once per address and window"

    await bot.advance(WRONG_CODES_WINDOW + timedelta(minutes=1))
    status, _, page = await password_step(bot.client, address=OFFICE)
    status, _ = await send_code(bot.client, page, await totp_code(bot.client, "desk-a"), OFFICE)
    assert status == 200 and await signed_in(bot.client), "open again after the hour"


async def test_an_operators_reset_opens_the_code_step_again(bot: Bot) -> None:
    await add_admin(bot)
    await add_admin(bot, "desk-a", StaffRole.DESK)
    intruder = another_browser(bot)
    try:
        for _ in range(MAX_WRONG_CODES_PER_ACCOUNT // 4 + 1):
            _, _, page = await password_step(intruder)
            for _ in range(4):
                await send_code(intruder, page, "000000")
            await bot.advance(timedelta(minutes=16))  # past the address's lock, not the hour
    finally:
        await intruder.session.close()
    status, _, page = await password_step(bot.client)
    code = await totp_code(bot.client, "desk-a")
    assert (await send_code(bot.client, page, code))[0] == 429
    await login(bot.client)
    temporary = "a temporary passphrase"
    form = {"action": "reset_password", "password": temporary}
    token = await csrf(bot.client, "/admin/accounts")
    await bot.client.post("/admin/accounts/desk-a", data={**form, "csrf_token": token})
    desk = another_browser(bot)
    try:
        assert await login(desk, "desk-a", temporary) == 200, "the code is taken again"
    finally:
        await desk.session.close()


async def test_a_login_flood_writes_one_audit_row_per_address_and_window(bot: Bot) -> None:
    """The login form's double-submit CSRF is written by the stranger; past the address's
    limit each refused request wrote a row, and buried the staff's actions."""
    flood = MAX_UNKNOWN_NAMES_PER_ADDRESS + 100
    for n in range(flood):
        response = await bot.client.post(
            "/admin/login",
            data={"name": f"n{n}", "password": "x", "csrf_token": "t"},
            cookies={LOGIN_CSRF_COOKIE: "t"},
        )
        assert response.status in (401, 429)
    assert len(await actions(bot, "login_refused_address")) == 1
    assert len(await actions(bot, "login_failed")) == MAX_UNKNOWN_NAMES_PER_ADDRESS
    await bot.advance(timedelta(minutes=16))
    for n in range(flood):
        await bot.client.post(
            "/admin/login",
            data={"name": f"m{n}", "password": "x", "csrf_token": "t"},
            cookies={LOGIN_CSRF_COOKIE: "t"},
        )
    assert len(await actions(bot, "login_refused_address")) == 2, "one more in the next window"


async def test_made_up_names_do_not_lock_out_the_staff_behind_the_address_as_soon(
    bot: Bot,
) -> None:
    await add_admin(bot, "city-staff")
    for n in range(MAX_FAILURES_PER_ADDRESS):
        status, _, page = await password_step(bot.client, f"guess-{n}", "wrong")
        assert status == 401
    assert await login(bot.client, "city-staff") == 200, "made-up names count apart"
    await bot.client.post("/admin/logout", data={"csrf_token": await csrf(bot.client)})
    for n in range(MAX_FAILURES_PER_ADDRESS, MAX_UNKNOWN_NAMES_PER_ADDRESS):
        await password_step(bot.client, f"guess-{n}", "wrong")
    status, _, page = await password_step(bot.client, "city-staff")
    assert status == 429 and says(page, "admin.login.locked"), "their own bucket fills too"


async def test_wrong_passwords_for_real_names_stop_the_address_as_before(bot: Bot) -> None:
    names = [f"staff-{n}" for n in range(MAX_FAILURES_PER_ADDRESS // 5)]
    for name in ["city-staff", *names]:
        await add_admin(bot, name, StaffRole.VIEWER, second_factor=False)
    for name in names:
        for _ in range(5):
            assert (await password_step(bot.client, name, "wrong"))[0] == 401
    assert (await password_step(bot.client, "city-staff"))[0] == 429
    assert len(await actions(bot, "login_refused_address")) == 1


# (account, raw code, detail): the code is kept in its own column beside the words.
AUDIT_ROW = re.compile(
    r'<tr data-action="[^"]*"><td>[^<]*</td><td>([^<]*)</td><td>[^<]*</td>'
    r"<td[^>]*>([^<]*)</td><td><code>([^<]*)</code></td></tr>"
)


async def test_the_audit_page_filters_and_pages(bot: Bot) -> None:
    await add_admin(bot, "auditor-a", StaffRole.AUDITOR)
    async with bot.repos() as repos:
        await repos.admin.audit("desk-b", "desk_calls_set", "会員ID 7", bot.clock.now())
        for n in range(250):
            await repos.admin.audit(f"n{n}", "login_failed", "203.0.113.5", bot.clock.now())
    await bot.advance(timedelta(days=2))
    assert await login(bot.client, "auditor-a") == 200
    first = await (await bot.client.get("/admin/audit")).text()
    rows = [(name, code, detail) for name, detail, code in AUDIT_ROW.findall(first)]
    assert len(rows) == 100 and rows[0][1] == "login" and "desk_calls_set" not in first
    older = re.search(r'id="audit-older" href="([^"]+)"', first)
    assert older is not None and 'id="audit-newer"' not in first
    pages, link = [first], older.group(1)
    while True:
        page = await (await bot.client.get(link.replace("&amp;", "&"))).text()
        pages.append(page)
        found = re.search(r'id="audit-older" href="([^"]+)"', page)
        if found is None:
            break
        link = found.group(1)
    assert len(pages) == 3 and "desk_calls_set" in pages[-1], "reached by paging"
    newer = re.search(r'id="audit-newer" href="([^"]+)"', pages[-1])
    assert newer is not None
    back = await (await bot.client.get(newer.group(1).replace("&amp;", "&"))).text()
    assert AUDIT_ROW.findall(back) == AUDIT_ROW.findall(pages[1]), "newer: the page before"

    by_action = await (await bot.client.get("/admin/audit?action=desk_calls_set")).text()
    assert AUDIT_ROW.findall(by_action) == [("desk-b", "会員ID 7", "desk_calls_set")]
    by_account = await (await bot.client.get("/admin/audit?account=desk-b")).text()
    assert AUDIT_ROW.findall(by_account) == [("desk-b", "会員ID 7", "desk_calls_set")]
    today = bot.clock.now().astimezone(bot.settings.timezone).date()
    earlier = (today - timedelta(days=2)).isoformat()
    by_days = await (await bot.client.get(f"/admin/audit?from={earlier}&to={earlier}")).text()
    found = AUDIT_ROW.findall(by_days)
    assert len(found) == 100 and all(row[0] != "auditor-a" for row in found)
    none = await (await bot.client.get("/admin/audit?account=nobody")).text()
    assert AUDIT_ROW.findall(none) == [] and t("admin.signin_guard.audit_none") in none

    refused = await bot.client.get("/admin/audit?from=yesterday")
    assert refused.status == 400
    assert says(await refused.text(), "admin.signin_guard.audit_bad_filter")
    assert (await bot.client.get("/admin/audit?before=x")).status == 400


async def test_a_second_enrolment_does_not_replace_the_first(bot: Bot) -> None:
    """Someone with the password started an enrolment a moment before the holder finished
    theirs: the holder's enrolment ends theirs, and it gets neither a factor nor a session."""
    await add_admin(bot, "desk-a", StaffRole.DESK, second_factor=False)
    intruder = another_browser(bot)
    try:
        _, path, theirs = await password_step(intruder)
        assert path == "/admin/login/enrol"
        _, _, mine = await password_step(bot.client)
        secret = ENROL_SECRET.search(mine).group(1).replace(" ", "")  # type: ignore[union-attr]
        their_secret = ENROL_SECRET.search(theirs).group(1).replace(" ", "")  # type: ignore[union-attr]
        now = bot.clock.now()
        assert (
            await post_code(bot.client, mine, pyotp.TOTP(secret).at(now), "/admin/login/enrol")
            == 200
        )
        response = await intruder.post(
            "/admin/login/enrol",
            data={
                "code": pyotp.TOTP(their_secret).at(now),
                "csrf_token": CSRF.search(theirs).group(1),
            },  # type: ignore[union-attr]
        )
        assert response.url.path == "/admin/login", "their sign-in was ended"
        assert not await signed_in(intruder)
    finally:
        await intruder.session.close()
    await bot.client.post("/admin/logout", data={"csrf_token": await csrf(bot.client)})
    await bot.advance(timedelta(seconds=30))
    _, path, page = await password_step(bot.client)
    assert path == "/admin/login/code"
    code = await totp_code(bot.client, "desk-a", secret)
    assert (await send_code(bot.client, page, code))[0] == 200, "the holder's factor was kept"


async def test_two_enrolments_at_once_keep_one_factor(bot: Bot) -> None:
    await add_admin(bot, "desk-a", StaffRole.DESK, second_factor=False)
    other = another_browser(bot)
    try:
        pages = [(await password_step(client))[2] for client in (bot.client, other)]
        now = bot.clock.now()

        async def enrol(client: TestClient, page: str) -> int:
            secret = ENROL_SECRET.search(page).group(1).replace(" ", "")  # type: ignore[union-attr]
            token = CSRF.search(page).group(1)  # type: ignore[union-attr]
            form = {"code": pyotp.TOTP(secret).at(now), "csrf_token": token}
            response = await client.post("/admin/login/enrol", data=form, allow_redirects=False)
            return response.status

        statuses = await asyncio.gather(
            *(enrol(c, p) for c, p in zip((bot.client, other), pages, strict=True))
        )
        assert sorted(statuses) in ([200, 303], [200, 409]), statuses
        signed = [await signed_in(client) for client in (bot.client, other)]
        assert signed.count(True) == 1
        if 409 in statuses:
            assert len(await actions(bot, "second_factor_enrol_refused")) == 1
    finally:
        await other.session.close()
    assert len(await actions(bot, "second_factor_enrolled")) == 1


async def test_an_enrolment_never_replaces_a_factor(bot: Bot) -> None:
    await add_admin(bot, "desk-a", StaffRole.DESK)
    async with bot.repos() as repos:
        admin = await repos.admin.by_name("desk-a")
        assert admin is not None
        assert not await repos.admin.enrol_second_factor(admin.id, "s1$another", 1)
        kept = await repos.admin.by_name("desk-a")
    assert kept is not None and kept.totp_secret == admin.totp_secret
    assert TOTP_SECRET not in (kept.totp_secret or "")


async def test_the_holder_does_not_keep_the_password_an_operator_set(bot: Bot) -> None:
    await add_admin(bot)
    await add_admin(bot, "desk-a", StaffRole.DESK)
    await login(bot.client)
    temporary = "a temporary passphrase"
    token = await csrf(bot.client, "/admin/accounts")
    form = {"csrf_token": token, "action": "reset_password", "password": temporary}
    await bot.client.post("/admin/accounts/desk-a", data=form)
    desk = another_browser(bot)
    try:
        assert await login(desk, "desk-a", temporary) == 200
        page = await (await desk.get("/admin/login/password")).text()
        token = CSRF.search(page).group(1)  # type: ignore[union-attr]
        kept = await desk.post(
            "/admin/login/password",
            data={"csrf_token": token, "password": temporary, "again": temporary},
        )
        assert kept.status == 400
        assert says(await kept.text(), "admin.signin_guard.same_password")
        assert not await signed_in(desk)
        async with bot.repos() as repos:
            admin = await repos.admin.by_name("desk-a")
        assert admin is not None and admin.must_change_password, "nothing changed"
        mine = "only the holder knows this one"
        done = await desk.post(
            "/admin/login/password", data={"csrf_token": token, "password": mine, "again": mine}
        )
        assert done.status == 200 and await signed_in(desk)
    finally:
        await desk.session.close()
