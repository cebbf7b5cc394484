"""Console accounts end when someone leaves: `mimamori admin` and 運用管理's page add, list,
disable, enable, remove, reset passwords and second factors, change roles and end sessions,
each audited; a refusal says why and changes nothing."""

from __future__ import annotations

import asyncio
import getpass
import io
import sys
from pathlib import Path

import pytest

from admin import accounts
from admin.access import roles_of
from mimamori.cli import CHANGE_OF_COMMAND, main
from storage.models import StaffRole
from tests.conftest import Bot
from tests.drivers import PASSWORD, add_admin, another_browser, csrf, login
from tests.wording import says, t

NEW_PASSWORD = "a new long passphrase"


class CommandLine:
    """`mimamori admin ...` on the bot's database, as the server's administrator runs it."""

    def __init__(
        self, bot: Bot, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        self.bot, self.monkeypatch, self.capsys = bot, monkeypatch, capsys
        monkeypatch.setenv("MIMAMORI_DATABASE", str(bot.settings.database))

    async def run(self, *args: str, stdin: str = "") -> tuple[int, str, str]:
        self.monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        self.capsys.readouterr()
        env_file = ["--env-file", str(Path(__file__).parent / "no-such.env")]
        code = await asyncio.to_thread(main, ["admin", *args, *env_file])
        out, err = self.capsys.readouterr()
        return code, out, err


@pytest.fixture
def cli(
    bot: Bot, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> CommandLine:
    return CommandLine(bot, monkeypatch, capsys)


async def audit_rows(bot: Bot) -> list[dict[str, str]]:
    async with bot.repos() as repos:
        return await repos.admin.audit_log()


async def signed_in(client: object) -> bool:
    response = await client.get("/admin/", allow_redirects=False)  # type: ignore[attr-defined]
    return response.status == 200


async def test_the_command_line_adds_and_lists_accounts(bot: Bot, cli: CommandLine) -> None:
    await add_admin(bot)
    code, out, err = await cli.run("add", "desk-a", "--role", "desk", stdin=f"{PASSWORD}\n")
    assert code == 0, err
    assert "desk-a" in out and "desk" in out
    code, out, _ = await cli.run("list")
    assert code == 0
    lines = {line.split("\t")[0]: line.split("\t") for line in out.splitlines()[1:]}
    assert lines["desk-a"][1:4] == ["desk", "none", "enabled"]
    assert lines["city-staff"][1:4] == ["operator", "enrolled", "enabled"]
    async with bot.repos() as repos:
        stored = await repos.admin.by_name("city-staff")
    assert stored is not None and stored.totp_secret and stored.totp_secret not in out
    assert stored.password_hash not in out, "no secret is listed"
    (added,) = [row for row in await audit_rows(bot) if row["action"] == "admin_added"]
    assert added["admin_name"] == f"cli:{getpass.getuser()}" and "desk" in added["detail"]
    # The new desk account enrols its second factor at its first sign-in.
    assert await login(bot.client, "desk-a") == 200
    code, out, _ = await cli.run("list")
    desk = next(line for line in out.splitlines() if line.startswith("desk-a"))
    assert desk.split("\t")[2] == "enrolled"


@pytest.mark.parametrize(
    ("command", "extra", "stdin"),
    [
        ("disable", [], ""),
        ("remove", [], ""),
        ("reset-password", [], f"{NEW_PASSWORD}\n"),
        ("reset-2fa", [], ""),
        ("set-role", ["viewer"], ""),
        ("end-sessions", [], ""),
    ],
)
async def test_each_command_line_change_ends_the_sessions(
    bot: Bot, cli: CommandLine, command: str, extra: list[str], stdin: str
) -> None:
    await add_admin(bot)
    await add_admin(bot, "desk-a", StaffRole.DESK)
    assert await login(bot.client, "desk-a") == 200
    code, out, err = await cli.run(command, "desk-a", *extra, stdin=stdin)
    assert code == 0, err
    assert "sessions ended: 1" in out
    assert not await signed_in(bot.client)
    last = (await audit_rows(bot))[0]
    assert last["admin_name"].startswith("cli:") and "desk-a" in last["detail"]
    assert last["action"] == f"admin_{CHANGE_OF_COMMAND[command]}"


async def test_a_disabled_account_cannot_sign_in_until_enabled(bot: Bot, cli: CommandLine) -> None:
    await add_admin(bot)
    assert (await cli.run("disable", "city-staff"))[0] == 2, "the last operator stays"
    await add_admin(bot, "second-operator")
    code, _, err = await cli.run("disable", "city-staff")
    assert code == 0, err
    assert await login(bot.client) == 401
    assert (await cli.run("enable", "city-staff"))[0] == 0
    assert await login(bot.client) == 200


async def test_the_command_line_refuses_clearly_and_changes_nothing(
    bot: Bot, cli: CommandLine
) -> None:
    await add_admin(bot)
    before = len(await audit_rows(bot))
    code, _, err = await cli.run("disable", "nobody")
    assert code == 2 and "no admin named nobody" in err
    code, _, err = await cli.run("set-role", "city-staff", "boss")
    assert code == 2 and "operator, desk, viewer, auditor" in err
    for command in (["disable"], ["remove"], ["set-role", "viewer"]):
        code, _, err = await cli.run(command[0], "city-staff", *command[1:])
        assert code == 2 and "last enabled" in err, command
    code, _, err = await cli.run("add", "x", "--role", "operator", stdin=f"{PASSWORD}\n")
    assert code == 2 and "3-64" in err
    code, _, err = await cli.run("add", "city-staff", "--role", "operator", stdin=f"{PASSWORD}\n")
    assert code == 2 and "exists already" in err
    code, _, err = await cli.run("reset-password", "city-staff", stdin="short\n")
    assert code == 2 and "at least" in err
    code, _, err = await cli.run("reset-2fa", "city-staff")
    assert code == 0
    code, _, err = await cli.run("reset-2fa", "city-staff")
    assert code == 2 and "nothing changed" in err
    assert len(await audit_rows(bot)) == before + 1, "only the one change was recorded"
    async with bot.repos() as repos:
        admin = await repos.admin.by_name("city-staff")
    assert admin is not None and admin.role is StaffRole.OPERATOR and admin.disabled_at is None


async def test_adding_an_account_needs_its_role(bot: Bot, cli: CommandLine) -> None:
    """Without --role an account could do everything: the command says which roles there are
    and adds nothing."""
    with pytest.raises(SystemExit) as refused:
        await cli.run("add", "desk-a", stdin=f"{PASSWORD}\n")
    assert refused.value.code == 2
    said = cli.capsys.readouterr().err
    assert "--role" in said and "{operator,desk,viewer,auditor}" in said
    async with bot.repos() as repos:
        assert await repos.admin.by_name("desk-a") is None
    assert await audit_rows(bot) == []


def test_every_accounts_view_is_for_operators_alone() -> None:
    for view in (accounts.accounts_page, accounts.add_account, accounts.change_account):
        assert roles_of(view) == {StaffRole.OPERATOR}


async def test_an_operator_adds_an_account_that_chooses_its_own_password(bot: Bot) -> None:
    await add_admin(bot)
    await login(bot.client)
    page = await (await bot.client.get("/admin/accounts")).text()
    assert t("admin.accounts.title") in page and "city-staff" in page
    token = await csrf(bot.client, "/admin/accounts")
    form = {"csrf_token": token, "name": "desk-b", "role": "desk"}
    short = await bot.client.post("/admin/accounts", data={**form, "password": "x", "again": "x"})
    assert short.status == 400
    assert says(await short.text(), "admin.accounts.refused.password_too_short", min=12)
    response = await bot.client.post(
        "/admin/accounts", data={**form, "password": PASSWORD, "again": PASSWORD}
    )
    assert response.status == 200 and "desk-b" in await response.text()
    taken = await bot.client.post(
        "/admin/accounts", data={**form, "password": PASSWORD, "again": PASSWORD}
    )
    assert taken.status == 409
    assert says(await taken.text(), "admin.accounts.refused.name_taken", name="desk-b")

    desk = another_browser(bot)
    try:
        assert await login(desk, "desk-b") == 200, "enrolled at the first sign-in"
        page = await (await desk.get("/admin/login/password")).text()
        assert t("admin.signin.password_title") in page, "then its own password"
        assert not await signed_in(desk)
    finally:
        await desk.session.close()
    added = [r for r in await audit_rows(bot) if r["action"] == "admin_added"]
    assert added[0]["admin_name"] == "city-staff"


async def test_an_operator_cannot_take_their_own_role_away(bot: Bot) -> None:
    await add_admin(bot)
    await add_admin(bot, "other-operator")
    await login(bot.client)
    before = len(await audit_rows(bot))
    for action, more in (("disable", {}), ("remove", {}), ("set_role", {"role": "desk"})):
        token = await csrf(bot.client, "/admin/accounts")
        response = await bot.client.post(
            "/admin/accounts/city-staff", data={"csrf_token": token, "action": action, **more}
        )
        assert response.status == 409, action
        assert says(await response.text(), "admin.accounts.refused.yourself")
    assert len(await audit_rows(bot)) == before
    assert await signed_in(bot.client)
    # Another operator may.
    token = await csrf(bot.client, "/admin/accounts")
    response = await bot.client.post(
        "/admin/accounts/other-operator",
        data={"csrf_token": token, "action": "set_role", "role": "auditor"},
    )
    assert response.status == 200
    assert says(
        await response.text(), "admin.accounts.done.set_role", name="other-operator", sessions=0
    )
    async with bot.repos() as repos:
        other = await repos.admin.by_name("other-operator")
    assert other is not None and other.role is StaffRole.AUDITOR


async def test_the_console_refuses_unknown_accounts_and_actions(bot: Bot) -> None:
    await add_admin(bot)
    await login(bot.client)
    token = await csrf(bot.client, "/admin/accounts")
    response = await bot.client.post(
        "/admin/accounts/nobody", data={"csrf_token": token, "action": "disable"}
    )
    assert response.status == 409
    assert says(await response.text(), "admin.accounts.refused.no_such_account", name="nobody")
    response = await bot.client.post(
        "/admin/accounts/city-staff", data={"csrf_token": token, "action": "promote"}
    )
    assert response.status == 400


async def test_an_operator_removes_an_account(bot: Bot) -> None:
    await add_admin(bot)
    await add_admin(bot, "left-staff", StaffRole.VIEWER)
    await login(bot.client)
    token = await csrf(bot.client, "/admin/accounts")
    response = await bot.client.post(
        "/admin/accounts/left-staff", data={"csrf_token": token, "action": "remove"}
    )
    assert response.status == 200
    async with bot.repos() as repos:
        assert await repos.admin.by_name("left-staff") is None
    removed = (await audit_rows(bot))[0]
    assert removed["action"] == "admin_remove" and removed["admin_name"] == "city-staff"
    assert "left-staff" in removed["detail"], "the log keeps the name"
