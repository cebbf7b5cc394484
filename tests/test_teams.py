"""Teams and invites from the chat alone: create, invite three ways, consent, rotate, leave."""

from __future__ import annotations

from urllib.parse import unquote

from storage.models import Role
from tests import line_webhook as hook
from tests.conftest import Bot
from tests.drivers import Page, area_team, create_team, invite_codes_in, invite_qr, join
from tests.fake_line import message_text
from tests.wording import JA, says, t


async def team_roles(bot: Bot, uid: str) -> list[tuple[str, str]]:
    async with bot.repos() as repos:
        member = await repos.members.by_line_id(uid)
        assert member is not None
        return [(t.name, r.value) for t, r in await repos.teams.teams_of(member.id)]


async def test_create_team_shows_invites_three_ways(bot: Bot) -> None:
    manager = await bot.follow("minsei")
    await bot.tap_action(manager, "team_new")
    await bot.say(manager, "  三丁目　見守り  ")
    await bot.tap_reply_button(manager, t("team.as_manager"))
    assert await team_roles(bot, manager) == [("三丁目 見守り", "manager")]
    # One invitation after 「チームを作る」: the one to forward (the user's, for a manager),
    # after one line that says what to do with it; the other role's and the QR on request.
    created = bot.line.replies[-1].body["messages"]
    assert len(created) == 2
    assert says(message_text(created[0]), "team.created.manager", team="三丁目 見守り")
    codes = invite_codes_in([message_text(created[1])])
    assert set(codes) == {"user"}
    await bot.tap_reply_button(manager, t("invite.show_other.manager"))
    codes.update(invite_codes_in(bot.line.reply_texts()[-1:]))
    assert set(codes) == {"user", "manager"} and codes["user"] != codes["manager"]

    texts = bot.line.reply_texts()
    share = next(t for t in texts if codes["user"] in t)
    link = next(word for word in share.split() if word.startswith("https://line.me/R/oaMessage/"))
    assert link.startswith("https://line.me/R/oaMessage/%40mimamori-test/?")
    assert unquote(link.split("?", 1)[1]) == t("invite.prefill", code=codes["user"])

    await bot.tap_reply_button(manager, t("invite.show_qr"))
    (image,) = bot.line.replies[-1].body["messages"]
    assert image["originalContentUrl"].startswith("https://mimamori.example.jp/invites/")
    path = image["originalContentUrl"].removeprefix("https://mimamori.example.jp")
    assert codes["manager"] in path
    response = await bot.client.get(path)
    assert response.status == 200
    assert response.headers["Content-Type"] == "image/png"
    assert (await response.read()).startswith(b"\x89PNG\r\n\x1a\n")


async def test_team_name_is_validated(bot: Bot) -> None:
    uid = await bot.follow("someone")
    await bot.tap_action(uid, "team_new")
    await bot.say(uid, "x" * 31)
    assert bot.line.reply_texts()[-1] == t("team.bad_name", max=30)
    await bot.tap_reply_button(uid, t("menu.cancel"))
    await bot.say(uid, "ふつうのメッセージ")
    assert bot.line.reply_texts()[-1] == t("menu.prompt")
    assert await team_roles(bot, uid) == []


async def test_joining_needs_consent_and_records_it(bot: Bot) -> None:
    manager = await bot.follow("daughter")
    codes = await create_team(bot, manager, "母の見守り", as_user=False)
    mother = await bot.follow("mother")
    await bot.say(mother, t("invite.prefill", code=codes["user"].lower()))
    card = bot.line.reply_texts()[-1]
    # The role and what it means: the user agrees that the managers are told.
    role, meaning = t("role_name.user"), t("role_meaning.user")
    assert says(card, "invite.confirm", team="母の見守り", role=role, meaning=meaning)
    assert await team_roles(bot, mother) == [], "nothing happens before the person agrees"

    await bot.tap_reply_button(mother, t("invite.accept"))
    joined = bot.line.reply_texts()[-1]
    assert says(joined, "invite.joined.user", team="母の見守り")
    assert says(joined, "invite.schedule_started", schedule=JA.schedule(1, 9))
    assert await team_roles(bot, mother) == [("母の見守り", "user")]
    notice = bot.line.texts_to(manager)[-1]
    assert says(notice, "invite.joined_notice", name="mother", team="母の見守り", role=role)
    async with bot.repos() as repos:
        (consented,) = await repos.conn.fetch_one(
            "SELECT consented_at FROM team_members WHERE role = 'user'"
        )
    assert consented == bot.clock.now().isoformat()


async def test_declining_changes_nothing(bot: Bot) -> None:
    manager = await bot.follow("daughter")
    codes = await create_team(bot, manager, "母の見守り", as_user=False)
    mother = await bot.follow("mother")
    await bot.say(mother, codes["user"])
    await bot.tap_reply_button(mother, t("invite.decline"))
    assert await team_roles(bot, mother) == []


async def test_bad_codes_get_a_clear_answer_and_change_nothing(bot: Bot) -> None:
    manager = await bot.follow("daughter")
    codes = await create_team(bot, manager, "家族", as_user=False)
    other = await bot.follow("other")

    await bot.say(other, "ABCD-EFGH-JKMN-PQRS")
    assert bot.line.reply_texts()[-1] == t("invite.unknown")

    # Joining twice.
    await bot.say(manager, codes["user"])
    already = t("invite.already", team="家族", role=t("role_name.manager"))
    assert bot.line.reply_texts()[-1] == already

    # A rotated code stops working, also on a confirmation card shown before the rotation.
    await bot.say(other, codes["user"])
    await bot.tap_action(manager, "team_rotate", t=1, r="user")
    assert bot.line.reply_texts()[-5] == t("invite.rotated", role=t("role_name.user"))
    new_codes = invite_codes_in(bot.line.reply_texts()[-4:])
    assert new_codes["user"] != codes["user"] and new_codes["manager"] == codes["manager"]
    await bot.tap_action(other, "join", c=codes["user"])
    assert bot.line.reply_texts()[-1] == t("invite.unknown")
    response = await invite_qr(bot, codes["user"])
    assert response.status == 404
    assert await team_roles(bot, other) == []

    # A code sent inside a group.
    await bot.post(
        hook.text(
            other,
            new_codes["user"],
            bot.clock.now(),
            source=hook.in_group(hook.group_id("town"), other),
        )
    )
    assert bot.line.reply_texts()[-1] == t("invite.not_in_group")
    assert await team_roles(bot, other) == []

    # Someone not in the team cannot rotate or see its invites.
    await bot.tap_action(other, "team_rotate", t=1, r="manager")
    await bot.tap_action(other, "team_invite", t=1)
    assert bot.line.reply_texts()[-2:] == [t("team.not_member")] * 2


async def test_list_members_and_leave(bot: Bot) -> None:
    resident = await bot.follow("resident")
    codes = await create_team(bot, resident, "わが家", as_user=True)
    son = await bot.follow("son")
    await join(bot, son, codes["manager"])

    await bot.tap_action(resident, "teams")
    user, manager = t("role_name.user"), t("role_name.manager")
    assert t("team.list_line", team="わが家", role=user) in bot.line.reply_texts()[-1]
    await bot.tap_action(resident, "team_members", t=1)
    watchers = t("team.manager_line", name="son")
    assert bot.line.reply_texts()[-1] == t("team.members.user", team="わが家", lines=watchers)
    await bot.tap_action(son, "team_members", t=1)
    listing = bot.line.reply_texts()[-1]
    assert says(listing, "team.members.manager", team="わが家")
    never, waiting = t("time.never"), t("status.round.none")
    assert says(listing, "team.user_line", name="resident", last_ok=never, state=waiting)

    await bot.tap_action(son, "team_leave", t=1)
    assert says(bot.line.reply_texts()[-1], "team.leave_confirm.manager", team="わが家")
    await bot.tap_reply_button(son, t("team.leave_yes"))
    assert await team_roles(bot, son) == []
    left = t("team.left_notice", name="son", role=manager, team="わが家")
    assert left in bot.line.texts_to(resident)[-2:]
    # He was the last who watched her: she is told plainly that nobody does now.
    assert says(bot.line.texts_to(resident)[-1], "unwatch.alone_lead", name="son")
    await bot.tap_action(resident, "status")
    assert t("status.nobody_alerted") in bot.line.reply_texts()[-1]

    # The last one out deletes the team; its codes stop working.
    await bot.tap_action(resident, "team_leave_yes", t=1)
    await bot.say(await bot.follow("late"), codes["manager"])
    assert bot.line.reply_texts()[-1] == t("invite.unknown")


async def test_invite_codes_are_unguessable(bot: Bot) -> None:
    uid = await bot.follow("someone")
    await create_team(bot, uid, "チーム", as_user=False)
    async with bot.repos() as repos:
        invite = await repos.teams.active_invite(1, Role.USER)
    assert invite is not None
    # 16 characters of a 32-letter alphabet: 80 bits.
    assert len(invite.code.replace("-", "")) == 16


async def test_an_area_teams_users_get_none_of_its_codes(bot: Bot) -> None:
    """In a staff's area team a user holding the manager code could make anyone a watcher of
    every neighbour, and a new user code would kill the flyer's: its codes are the staff's and
    its managers' only, on My page and in the chat."""
    team_id, (neighbour, *_) = await area_team(bot, "みどり町会", 2)
    page = Page(bot, neighbour, "neighbour")
    await page.accept_terms()
    _, listed = await page.call("GET", "/liff/api/teams")
    assert listed["teams"][0]["invites"] == {}
    status, _ = await page.call("POST", f"/liff/api/teams/{team_id}/rotate", {"role": "user"})
    assert status == 403
    await bot.tap_action(neighbour, "invite_menu")
    assert bot.line.reply_texts()[-1] == t("area_codes.staff_only", team="みどり町会")
    for action in ("team_invite", "team_invite_one", "team_rotate"):
        await bot.tap_action(neighbour, action, t=team_id, r="manager")
        assert bot.line.reply_texts()[-1] == t("member.not_allowed"), action
    async with bot.repos() as repos:
        assert await repos.teams.active_invite(team_id, Role.MANAGER) is None, "none made"
