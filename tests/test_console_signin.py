"""Signing in to the console: the password, then a second factor (TOTP, enrolled by QR on the
first sign-in, with one-time recovery codes); sessions that end when idle and after 8 hours;
an optional allow-list of networks; disabled accounts and ended sessions."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from datetime import timedelta
from ipaddress import ip_network

import pyotp
import pytest
from aiohttp.test_utils import TestClient

from admin import second_factor
from admin.auth import COOKIE, SIGNIN_COOKIE
from ground.settings import Settings, SettingsError
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

STEP = timedelta(seconds=30)
RECOVERY = re.compile(r"<li><code>([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})</code></li>")


async def password_step(
    client: TestClient, name: str = "city-staff", password: str = PASSWORD
) -> tuple[int, str, str]:
    """The login form alone: (status, where it ended, the page)."""
    page = await (await client.get("/admin/login")).text()
    token = CSRF.search(page)
    assert token is not None
    response = await client.post(
        "/admin/login", data={"name": name, "password": password, "csrf_token": token.group(1)}
    )
    return response.status, response.url.path, await response.text()


async def signed_in(client: TestClient) -> bool:
    response = await client.get("/admin/", allow_redirects=False)
    return response.status == 200


async def audit_actions(bot: Bot) -> list[str]:
    async with bot.repos() as repos:
        return [entry["action"] for entry in await repos.admin.audit_log()]


async def sessions_of(bot: Bot, name: str) -> int:
    async with bot.repos() as repos:
        (account,) = [a for a in await repos.admin.accounts(bot.clock.now()) if a.name == name]
    return account.open_sessions


def code_at(bot: Bot, offset: int = 0, secret: str = TOTP_SECRET) -> str:
    totp = pyotp.TOTP(secret)
    return totp.generate_otp(totp.timecode(bot.clock.now()) + offset)


def without_tokens(page: str) -> str:
    return re.sub(r'value="[^"]*"', "", page)


async def test_the_password_alone_opens_no_session(bot: Bot) -> None:
    await add_admin(bot)
    status, path, page = await password_step(bot.client)
    assert (status, path) == (200, "/admin/login/code")
    assert t("admin.signin.code_title") in page
    assert not await signed_in(bot.client), "no session before the code"
    async with bot.repos() as repos:
        assert await repos.conn.fetch_all("SELECT * FROM admin_sessions") == []
        (pending,) = await repos.conn.fetch_all("SELECT * FROM admin_signins")
    cookie = next(c for c in bot.client.session.cookie_jar if c.key == SIGNIN_COOKIE)
    assert pending["token_hash"] != cookie.value, "only its hash is stored"
    assert cookie["httponly"] and cookie["samesite"] == "Strict"
    assert pending["expires_at"] <= (bot.clock.now() + timedelta(minutes=10)).isoformat()

    assert await post_code(bot.client, page, await totp_code(bot.client, "city-staff")) == 200
    assert await signed_in(bot.client)
    async with bot.repos() as repos:
        assert await repos.conn.fetch_all("SELECT * FROM admin_signins") == []
    assert (await audit_actions(bot))[:2] == ["login", "login_password"]


async def test_a_pending_sign_in_lasts_minutes(bot: Bot) -> None:
    await add_admin(bot)
    _, _, page = await password_step(bot.client)
    await bot.advance(timedelta(minutes=11))
    response = await bot.client.post(
        "/admin/login/code",
        data={"code": code_at(bot), "csrf_token": CSRF.search(page).group(1)},  # type: ignore[union-attr]
    )
    assert response.url.path == "/admin/login", "back to the password"
    assert not await signed_in(bot.client)


async def test_the_code_step_is_refused_without_its_token(bot: Bot) -> None:
    await add_admin(bot)
    _, _, page = await password_step(bot.client)
    response = await bot.client.post(
        "/admin/login/code", data={"code": code_at(bot), "csrf_token": "forged"}
    )
    assert response.status == 403
    assert not await signed_in(bot.client)


async def test_a_code_one_step_off_is_taken_two_steps_off_is_not(bot: Bot) -> None:
    await add_admin(bot)
    _, _, page = await password_step(bot.client)
    assert await post_code(bot.client, page, code_at(bot, -2)) == 401
    assert await post_code(bot.client, page, code_at(bot, 2)) == 401
    assert await post_code(bot.client, page, code_at(bot, -1)) == 200
    assert await signed_in(bot.client)


async def test_a_code_already_used_is_refused(bot: Bot) -> None:
    await add_admin(bot)
    code = code_at(bot)
    _, _, page = await password_step(bot.client)
    assert await post_code(bot.client, page, code) == 200
    token = await csrf(bot.client)
    await bot.client.post("/admin/logout", data={"csrf_token": token})
    await bot.advance(STEP)  # a moment later the same code is still within the window
    _, _, page = await password_step(bot.client)
    response = await bot.client.post(
        "/admin/login/code",
        data={"code": code, "csrf_token": CSRF.search(page).group(1)},  # type: ignore[union-attr]
    )
    assert response.status == 401
    assert says(await response.text(), "admin.signin.wrong_code")
    assert not await signed_in(bot.client)
    assert "login_code_replayed" in await audit_actions(bot)
    assert await post_code(bot.client, page, code_at(bot)) == 200, "the app's next code is"


async def test_wrong_codes_count_as_wrong_passwords(bot: Bot) -> None:
    await add_admin(bot)
    _, _, page = await password_step(bot.client)
    for _ in range(4):
        assert await post_code(bot.client, page, "000000") == 401
    response = await bot.client.post(
        "/admin/login/code",
        data={"code": "000000", "csrf_token": CSRF.search(page).group(1)},  # type: ignore[union-attr]
    )
    assert response.url.path == "/admin/login", "five wrong codes: the password again"
    status, _, page = await password_step(bot.client)
    assert status == 429, "the limit counts code failures with password failures"
    assert await audit_actions(bot) and (await audit_actions(bot)).count("login_code_wrong") == 5
    await bot.advance(timedelta(minutes=16))
    assert await login(bot.client) == 200


async def test_the_first_sign_in_enrols_the_second_factor(bot: Bot) -> None:
    await add_admin(bot, "desk-a", StaffRole.DESK, second_factor=False)
    status, path, page = await password_step(bot.client, "desk-a")
    assert (status, path) == (200, "/admin/login/enrol")
    assert t("admin.signin.enrol_title") in page
    assert re.search(r'<img id="enrol-qr" src="data:image/png;base64,[A-Za-z0-9+/=]+"', page)
    found = ENROL_SECRET.search(page)
    assert found is not None
    secret = found.group(1).replace(" ", "")
    assert not await signed_in(bot.client)
    # The page reloaded shows the same secret (kept, sealed, with the pending sign-in).
    again = await (await bot.client.get("/admin/login/enrol")).text()
    assert ENROL_SECRET.search(again).group(1).replace(" ", "") == secret  # type: ignore[union-attr]

    assert await post_code(bot.client, page, "123456", "/admin/login/enrol") == 401
    async with bot.repos() as repos:
        admin = await repos.admin.by_name("desk-a")
    assert admin is not None and admin.totp_secret is None, "nothing kept before a right code"

    response = await bot.client.post(
        "/admin/login/enrol",
        data={"code": code_at(bot, secret=secret), "csrf_token": CSRF.search(page).group(1)},  # type: ignore[union-attr]
    )
    assert response.status == 200
    shown = await response.text()
    codes = RECOVERY.findall(shown)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert t("admin.signin.recovery_title") in shown
    assert await signed_in(bot.client)
    # Shown once: the enrolment is over, its page leads back to the login.
    later = await bot.client.get("/admin/login/enrol", allow_redirects=False)
    assert later.status == 303 and later.headers["Location"] == "/admin/login"

    async with bot.repos() as repos:
        admin = await repos.admin.by_name("desk-a")
        stored = await repos.conn.fetch_all("SELECT code_hash FROM admin_recovery_codes")
    assert admin is not None and admin.totp_secret is not None
    assert secret not in admin.totp_secret, "the secret is sealed, not stored as it is"
    assert second_factor.unseal(bot.settings.channel_secret, admin.id, admin.totp_secret) == secret
    with pytest.raises(second_factor.SealBroken):
        second_factor.unseal("another deployment", admin.id, admin.totp_secret)
    with pytest.raises(second_factor.SealBroken):
        second_factor.unseal(bot.settings.channel_secret, admin.id + 1, admin.totp_secret)
    assert not {row["code_hash"] for row in stored} & set(codes), "the codes are hashed"
    assert "second_factor_enrolled" in await audit_actions(bot)


async def test_each_recovery_code_works_once(bot: Bot) -> None:
    await add_admin(bot, "desk-a", StaffRole.DESK, second_factor=False)
    _, _, page = await password_step(bot.client, "desk-a")
    secret = ENROL_SECRET.search(page).group(1).replace(" ", "")  # type: ignore[union-attr]
    response = await bot.client.post(
        "/admin/login/enrol",
        data={"code": code_at(bot, secret=secret), "csrf_token": CSRF.search(page).group(1)},  # type: ignore[union-attr]
    )
    first, second = RECOVERY.findall(await response.text())[:2]
    await bot.client.post("/admin/logout", data={"csrf_token": await csrf(bot.client)})

    _, _, page = await password_step(bot.client, "desk-a")
    response = await bot.client.post(
        "/admin/login/code",
        data={"code": first.lower(), "csrf_token": CSRF.search(page).group(1)},  # type: ignore[union-attr]
    )
    assert response.status == 200
    assert says(await response.text(), "admin.signin.recovery_used", left=9)
    assert await signed_in(bot.client)
    await bot.client.post("/admin/logout", data={"csrf_token": await csrf(bot.client)})

    _, _, page = await password_step(bot.client, "desk-a")
    assert await post_code(bot.client, page, first) == 401, "used already"
    response = await bot.client.post(
        "/admin/login/code",
        data={"code": second, "csrf_token": CSRF.search(page).group(1)},  # type: ignore[union-attr]
    )
    assert says(await response.text(), "admin.signin.recovery_used", left=8)
    actions = await audit_actions(bot)
    assert actions.count("recovery_code_used") == 2 and "login_recovery_code_wrong" in actions


async def test_roles_without_personal_data_may_have_a_second_factor(bot: Bot) -> None:
    await add_admin(bot, "viewer-a", StaffRole.VIEWER, second_factor=False)
    await add_admin(bot, "viewer-b", StaffRole.VIEWER)
    status, path, _ = await password_step(bot.client, "viewer-a")
    assert (status, path) == (200, "/admin/"), "not enrolled: the password suffices"
    other = another_browser(bot)
    try:
        status, path, _ = await password_step(other, "viewer-b")
        assert path == "/admin/login/code", "enrolled: its code is asked"
    finally:
        await other.session.close()


IDLE = timedelta(minutes=30)


def test_the_idle_end_is_half_an_hour_unless_set() -> None:
    required = {"LINE_CHANNEL_SECRET": "s", "LINE_CHANNEL_ACCESS_TOKEN": "t"}
    assert Settings.from_env(required).console_idle == IDLE
    changed = Settings.from_env({**required, "MIMAMORI_CONSOLE_IDLE": "10m"})
    assert changed.console_idle == timedelta(minutes=10)
    networks = Settings.from_env({**required, "MIMAMORI_CONSOLE_NETWORKS": "10.0.0.0/8, ::1/128"})
    assert networks.console_networks == (ip_network("10.0.0.0/8"), ip_network("::1/128"))
    assert Settings.from_env(required).console_networks == ()
    with pytest.raises(SettingsError, match="MIMAMORI_CONSOLE_NETWORKS"):
        Settings.from_env({**required, "MIMAMORI_CONSOLE_NETWORKS": "the city hall"})


async def test_a_session_ends_when_idle(start_bot: Callable[..., Awaitable[Bot]]) -> None:
    bot = await start_bot(console_idle=IDLE)
    await add_admin(bot)
    assert await login(bot.client) == 200
    for _ in range(3):
        await bot.advance(timedelta(minutes=29))
        assert await signed_in(bot.client), "each request moves the idle end"
    await bot.advance(timedelta(minutes=31))
    response = await bot.client.get("/admin/", allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/admin/login"


async def test_the_idle_end_is_written_at_most_once_a_minute(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    bot = await start_bot(console_idle=IDLE)
    await add_admin(bot)
    await login(bot.client)

    async def idle_until() -> str:
        async with bot.repos() as repos:
            (row,) = await repos.conn.fetch_all("SELECT idle_until FROM admin_sessions")
        return str(row["idle_until"])

    first = await idle_until()
    await bot.advance(timedelta(seconds=30))
    await bot.client.get("/admin/")
    assert await idle_until() == first, "no write for a request within the minute"
    await bot.advance(timedelta(seconds=40))
    await bot.client.get("/admin/")
    assert await idle_until() > first


async def test_the_idle_time_is_a_setting(start_bot: Callable[..., Awaitable[Bot]]) -> None:
    bot = await start_bot(console_idle=timedelta(minutes=5))
    await add_admin(bot)
    await login(bot.client)
    await bot.advance(timedelta(minutes=6))
    assert not await signed_in(bot.client)


async def test_a_session_ends_after_eight_hours_however_busy(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    bot = await start_bot(console_idle=IDLE)
    await add_admin(bot)
    await login(bot.client)
    for _ in range(23):
        await bot.advance(timedelta(minutes=20))
        assert await signed_in(bot.client)
    await bot.advance(timedelta(minutes=20))  # 8 h after the sign-in
    assert not await signed_in(bot.client)


async def test_only_the_allowed_networks_reach_the_console(
    start_bot: Callable[..., Awaitable[Bot]], caplog: pytest.LogCaptureFixture
) -> None:
    bot = await start_bot(
        console_networks=(ip_network("10.20.0.0/16"),),
        trusted_proxies=(ip_network("127.0.0.1/32"),),
    )
    await add_admin(bot)
    with caplog.at_level(logging.WARNING, logger="mimamori.console"):
        outside = {"X-Forwarded-For": "203.0.113.5"}
        for path in ("/admin/login", "/admin/", "/admin/static/admin.css"):
            response = await bot.client.get(path, headers=outside, allow_redirects=False)
            assert response.status == 403, path
        response = await bot.client.post("/admin/login", headers=outside, data={"name": "x"})
        assert response.status == 403
    refused = [
        r.getMessage() for r in caplog.records if "MIMAMORI_CONSOLE_NETWORKS" in r.getMessage()
    ]
    assert len(refused) == 4 and "203.0.113.5" in refused[0]
    inside = {"X-Forwarded-For": "10.20.3.4"}
    assert (await bot.client.get("/admin/login", headers=inside)).status == 200
    # The rest of the service does not look at the list.
    assert (await bot.client.get("/healthz", headers=outside)).status == 200


async def test_without_a_trusted_proxy_the_allow_list_sees_the_peer(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    bot = await start_bot(console_networks=(ip_network("10.20.0.0/16"),))
    forged = {"X-Forwarded-For": "10.20.3.4"}
    assert (await bot.client.get("/admin/login", headers=forged)).status == 403
    loopback = await start_bot(console_networks=(ip_network("127.0.0.0/8"),))
    assert (await loopback.client.get("/admin/login")).status == 200


async def test_a_disabled_account_answers_as_a_wrong_password(bot: Bot) -> None:
    await add_admin(bot)
    await add_admin(bot, "left-staff")
    async with bot.repos() as repos:
        admin = await repos.admin.by_name("left-staff")
        assert admin is not None
        await repos.admin.set_disabled(admin.id, bot.clock.now())
    disabled = await password_step(bot.client, "left-staff")
    wrong = await password_step(bot.client, "city-staff", "wrong password")
    assert disabled[0] == wrong[0] == 401
    assert without_tokens(disabled[2]) == without_tokens(wrong[2])
    assert says(disabled[2], "admin.login.wrong")
    assert "login_refused_disabled" in await audit_actions(bot)
    assert not await signed_in(bot.client)


@pytest.mark.parametrize(
    ("action", "form"),
    [
        ("disable", {}),
        ("set_role", {"role": "viewer"}),
        ("reset_password", {"password": "another long passphrase"}),
        ("reset_second_factor", {}),
        ("end_sessions", {}),
    ],
)
async def test_a_change_to_an_account_ends_its_sessions(
    bot: Bot, action: str, form: dict[str, str]
) -> None:
    await add_admin(bot)
    await add_admin(bot, "desk-a", StaffRole.DESK)
    assert await login(bot.client) == 200
    desk = another_browser(bot)
    try:
        assert await login(desk, "desk-a") == 200
        assert await signed_in(desk) and await sessions_of(bot, "desk-a") == 1
        token = await csrf(bot.client, "/admin/accounts")
        response = await bot.client.post(
            "/admin/accounts/desk-a", data={"csrf_token": token, "action": action, **form}
        )
        assert response.status == 200, await response.text()
        assert not await signed_in(desk), f"{action} ends the session"
        assert await sessions_of(bot, "desk-a") == 0
        assert await signed_in(bot.client), "the operator's own session goes on"
    finally:
        await desk.session.close()
    assert f"admin_{action}" in await audit_actions(bot)


async def test_a_new_password_set_by_an_operator_is_changed_at_the_next_sign_in(
    bot: Bot,
) -> None:
    await add_admin(bot)
    await add_admin(bot, "desk-a", StaffRole.DESK)
    await login(bot.client)
    token = await csrf(bot.client, "/admin/accounts")
    temporary = "a temporary passphrase"
    await bot.client.post(
        "/admin/accounts/desk-a",
        data={"csrf_token": token, "action": "reset_password", "password": temporary},
    )
    desk = another_browser(bot)
    try:
        assert await login(desk, "desk-a", temporary) == 200, "password and code accepted"
        response = await desk.get("/admin/login/password")
        page = await response.text()
        assert t("admin.signin.password_title") in page
        assert not await signed_in(desk), "no session before the new password"
        form = {"csrf_token": CSRF.search(page).group(1)}  # type: ignore[union-attr]
        short = await desk.post(
            "/admin/login/password", data={**form, "password": "short", "again": "short"}
        )
        assert short.status == 400
        assert says(await short.text(), "admin.signin.password_refused.too_short", min=12)
        mine = "only the holder knows this one"
        differ = await desk.post(
            "/admin/login/password", data={**form, "password": mine, "again": "x"}
        )
        assert says(await differ.text(), "admin.signin.password_refused.differ")
        done = await desk.post(
            "/admin/login/password", data={**form, "password": mine, "again": mine}
        )
        assert done.status == 200 and done.url.path == "/admin/"
        assert await signed_in(desk)
        await desk.post("/admin/logout", data={"csrf_token": await csrf(desk)})
        await bot.advance(STEP)
        assert await login(desk, "desk-a", temporary) == 401
        assert await login(desk, "desk-a", mine) == 200
        assert await signed_in(desk), "asked once: the password is the holder's now"
    finally:
        await desk.session.close()
    assert "password_changed" in await audit_actions(bot)


async def test_a_reset_second_factor_is_enrolled_again(bot: Bot) -> None:
    await add_admin(bot)
    async with bot.repos() as repos:
        admin = await repos.admin.by_name("city-staff")
        assert admin is not None
        await repos.admin.clear_second_factor(admin.id)
    status, path, _ = await password_step(bot.client)
    assert path == "/admin/login/enrol"
    cookies = {c.key for c in bot.client.session.cookie_jar}
    assert COOKIE not in cookies


async def test_a_viewer_may_set_up_a_second_factor(bot: Bot) -> None:
    await add_admin(bot, "viewer-a", StaffRole.VIEWER, second_factor=False)
    assert await login(bot.client, "viewer-a") == 200
    page = await (await bot.client.get("/admin/second-factor")).text()
    assert t("admin.signin.own_not_enrolled") in page
    response = await bot.client.post(
        "/admin/second-factor", data={"csrf_token": await csrf(bot.client)}
    )
    assert response.url.path == "/admin/login/enrol"
    assert not await signed_in(bot.client), "the session ends while the factor is set up"
    enrol = await response.text()
    secret = ENROL_SECRET.search(enrol).group(1).replace(" ", "")  # type: ignore[union-attr]
    assert (
        await post_code(bot.client, enrol, code_at(bot, secret=secret), "/admin/login/enrol")
        == 200
    )
    assert await signed_in(bot.client)
    page = await (await bot.client.get("/admin/second-factor")).text()
    assert t("admin.signin.own_enrolled") in page
    await bot.client.post("/admin/logout", data={"csrf_token": await csrf(bot.client)})
    _, path, _ = await password_step(bot.client, "viewer-a")
    assert path == "/admin/login/code", "from now on its code is asked"


async def test_a_second_factor_sealed_under_another_secret_is_refused_and_said(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    await add_admin(bot)
    async with bot.repos() as repos:
        admin = await repos.admin.by_name("city-staff")
        assert admin is not None
        sealed = second_factor.seal("the secret before", admin.id, TOTP_SECRET)
        await repos.admin.set_second_factor(admin.id, sealed)
    _, _, page = await password_step(bot.client)
    with caplog.at_level(logging.ERROR, logger="mimamori.console"):
        assert await post_code(bot.client, page, code_at(bot)) == 401
    assert any("reset-2fa city-staff" in r.getMessage() for r in caplog.records)
    assert not await signed_in(bot.client)
