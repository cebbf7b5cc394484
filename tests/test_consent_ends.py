"""Her 「見せる」 ends when the manager no longer watches her (issue 38's review): he is asked
for again when he comes back, it does not carry to another team he joins later, she sees every
one she has given and takes it back on My page without taking him off watching her; and an
area team's users do not see one another on My page."""

from __future__ import annotations

import json
from typing import Any

from storage.models import Role
from tests.conftest import Bot
from tests.drivers import (
    Page,
    add_admin,
    area_team,
    button,
    create_team,
    csrf,
    join,
    login,
    member_of,
    team_of,
)
from tests.fake_line import message_text
from tests.wording import t

PHONE = "090-1234-5678"
ADDRESS = "みどり町1-2-3"


async def card_of(bot: Bot, uid: str, member_id: int) -> tuple[int, Any]:
    return await Page(bot, uid).call("GET", f"/liff/api/cards/{member_id}")


def asked(bot: Bot, uid: str) -> int:
    """How many times she was asked (in the chat) to show her details to a new manager."""
    return len([m for m in bot.line.messages_to(uid) if t("sharing.title") in message_text(m)])


async def shares(bot: Bot) -> list[tuple[int, int]]:
    async with bot.repos() as repos:
        rows = await repos.conn.fetch_all("SELECT user_id, manager_id FROM personal_shares", ())
    return [(row[0], row[1]) for row in rows]


async def her_family_and_son(bot: Bot) -> tuple[str, str, dict[str, str], Page]:
    """A resident who made her family team, with her phone and address, who showed them
    to the manager who joined (a son)."""
    resident = await bot.follow("resident")
    codes = await create_team(bot, resident, "家族", as_user=True)
    son = await bot.follow("son")
    await join(bot, son, codes["manager"])
    mine = Page(bot, resident, "resident")
    await mine.accept_terms()
    await mine.call("PUT", "/liff/api/me/personal", {"phone": PHONE, "address": ADDRESS})
    his = await member_of(bot, son)
    await bot.tap_action(resident, "share_personal", m=his.id)
    her = await member_of(bot, resident)
    assert (await card_of(bot, son, her.id))[1]["card"]["shown"] is True
    return resident, son, codes, mine


async def console_team_action(bot: Bot, team_id: int, action: str, member_id: int) -> None:
    path = f"/admin/teams/{team_id}"
    token = await csrf(bot.client, path)
    form = {"csrf_token": token, "action": action, "member_id": str(member_id)}
    response = await bot.client.post(path, data=form, allow_redirects=False)
    assert response.status in (200, 303), await response.text()
    await bot.settle()


async def test_a_manager_who_left_and_comes_back_is_asked_for_again(bot: Bot) -> None:
    resident, son, codes, mine = await her_family_and_son(bot)
    her = await member_of(bot, resident)
    team_id = await team_of(bot, resident)
    page = Page(bot, son, "son")
    await page.accept_terms()
    assert (await page.call("POST", f"/liff/api/teams/{team_id}/leave", {}))[0] == 200
    assert await shares(bot) == [], "her 「見せる」 went with his watching her"
    _, record = await mine.call("GET", "/liff/api/me/records")
    assert record["record"]["sections"]["watchers"] == []

    before = asked(bot, resident)
    await join(bot, son, codes["manager"])
    assert asked(bot, resident) == before + 1, "she is asked again"
    status, body = await card_of(bot, son, her.id)
    assert status == 200 and body["card"]["shown"] is False
    assert PHONE not in json.dumps(body, ensure_ascii=False)
    # Her tap, and only it, shows him again.
    await bot.tap_action(resident, "share_personal", m=(await member_of(bot, son)).id)
    assert PHONE in json.dumps((await card_of(bot, son, her.id))[1], ensure_ascii=False)


async def test_removed_by_the_staff_and_made_manager_of_her_area_team_he_is_asked_again(
    bot: Bot,
) -> None:
    resident, son, _, _ = await her_family_and_son(bot)
    her, his = await member_of(bot, resident), await member_of(bot, son)
    family = await team_of(bot, resident)
    async with bot.repos() as repos:
        area = await repos.teams.create("みどり町会", 1, 9, bot.clock.now(), kept=True)
        await repos.teams.add_member(area.id, her.id, Role.USER, bot.clock.now())
    await add_admin(bot)
    assert await login(bot.client) == 200
    await console_team_action(bot, family, "remove_manager", his.id)
    assert await shares(bot) == []
    before = asked(bot, resident)
    await console_team_action(bot, area.id, "add_manager", his.id)
    # She is asked whether he may watch her (care.members.on_behalf); her yes adds him, and then
    # she is asked about her details, as when a manager joins with a code.
    await bot.tap(resident, button(bot, resident, t("on_behalf.yes_button")))
    async with bot.repos() as repos:
        assert await repos.teams.is_manager_of(his.id, her.id)
    assert asked(bot, resident) == before + 1, "the staff's adding asks her too"
    status, body = await card_of(bot, son, her.id)
    assert status == 200 and body["card"]["shown"] is False
    assert PHONE not in json.dumps(body, ensure_ascii=False)


async def test_she_takes_it_back_on_my_page_and_he_keeps_watching_her(bot: Bot) -> None:
    resident, son, _, mine = await her_family_and_son(bot)
    her, his = await member_of(bot, resident), await member_of(bot, son)
    # He watches her through an area team too: taking him off the family team keeps her
    # 「見せる」 (he still watches her), and My page shows it there, hers to take back.
    family = await team_of(bot, resident)
    async with bot.repos() as repos:
        area = await repos.teams.create("みどり町会", 1, 9, bot.clock.now(), kept=True)
        await repos.teams.add_member(area.id, her.id, Role.USER, bot.clock.now())
        await repos.teams.add_member(area.id, his.id, Role.MANAGER, bot.clock.now())
        await repos.teams.remove_member(family, his.id, bot.clock.now())
    assert await shares(bot) == [(her.id, his.id)]
    _, listed = await mine.call("GET", "/liff/api/teams")
    (him,) = [m for team in listed["teams"] for m in team["members"] if m["id"] == his.id]
    assert him["watches_me"] is True and him["shown"] is True

    status, body = await mine.call("PUT", f"/liff/api/managers/{his.id}/shown", {"shown": False})
    assert (status, body["shown"]) == (200, False)
    status, card = await card_of(bot, son, her.id)
    assert status == 200 and card["card"]["shown"] is False, "he still watches, sees nothing"
    assert PHONE not in json.dumps(card, ensure_ascii=False)
    _, listed = await mine.call("GET", "/liff/api/teams")
    (him,) = [m for team in listed["teams"] for m in team["members"] if m["id"] == his.id]
    assert him["watches_me"] is True and him["shown"] is False
    async with bot.repos() as repos:
        actions = [row["action"] for row in await repos.admin.audit_log()]
        assert await repos.teams.is_manager_of(his.id, her.id)
    assert "details_unshown" in actions

    # And back: 「見せる」 again, audited too.
    status, _ = await mine.call("PUT", f"/liff/api/managers/{his.id}/shown", {"shown": True})
    assert status == 200
    assert PHONE in json.dumps((await card_of(bot, son, her.id))[1], ensure_ascii=False)
    async with bot.repos() as repos:
        assert "details_shown" in [row["action"] for row in await repos.admin.audit_log()]

    # Nobody else can be given her details from here, nor a malformed answer taken.
    stranger = await bot.follow("stranger")
    other = await member_of(bot, stranger)
    status, _ = await mine.call("PUT", f"/liff/api/managers/{other.id}/shown", {"shown": True})
    assert status == 403
    assert (her.id, other.id) not in await shares(bot)
    status, _ = await mine.call("PUT", f"/liff/api/managers/{his.id}/shown", {"shown": "no"})
    assert status == 400


async def test_she_leaving_the_team_ends_her_shares_with_its_managers(bot: Bot) -> None:
    resident, son, codes, mine = await her_family_and_son(bot)
    team_id = await team_of(bot, resident)
    # Another user keeps the team alive; she leaves it.
    other = await bot.follow("other user")
    await join(bot, other, codes["user"])
    assert (await mine.call("POST", f"/liff/api/teams/{team_id}/leave", {}))[0] == 200
    her = await member_of(bot, resident)
    assert [share for share in await shares(bot) if share[0] == her.id] == []


async def test_her_records_list_every_share_she_has_given(bot: Bot) -> None:
    resident, son, _, mine = await her_family_and_son(bot)
    his = await member_of(bot, son)
    # He blocked the bot: he is in her team still but watches nobody now; her share is kept
    # for when he is back, and her record says so.
    async with bot.repos() as repos:
        await repos.members.block(his.id)
    _, record = await mine.call("GET", "/liff/api/me/records")
    (row,) = record["record"]["sections"]["watchers"]
    assert row["name"] == "son" and row["shown_since"], "named, with when she showed him"


async def test_an_area_team_user_sees_only_the_managers_and_herself(bot: Bot) -> None:
    team_id, uids = await area_team(bot, "みどり町会", 3)
    volunteer = await bot.follow("volunteer")
    volunteer_id = (await member_of(bot, volunteer)).id
    async with bot.repos() as repos:
        await repos.teams.add_member(team_id, volunteer_id, Role.MANAGER, bot.clock.now())
    page = Page(bot, uids[0], "みどり町会 0")
    await page.accept_terms()
    _, body = await page.call("GET", "/liff/api/teams")
    names = [m["name"] for team in body["teams"] for m in team["members"]]
    assert sorted(names) == sorted(["みどり町会 0", "volunteer"])
    # The manager still sees every user he watches.
    his = Page(bot, volunteer, "volunteer")
    await his.accept_terms()
    _, body = await his.call("GET", "/liff/api/teams")
    names = [m["name"] for team in body["teams"] for m in team["members"]]
    assert {"みどり町会 0", "みどり町会 1", "みどり町会 2"} <= set(names)


async def test_a_family_team_user_still_sees_the_other_users(bot: Bot) -> None:
    resident = await bot.follow("resident")
    codes = await create_team(bot, resident, "家族", as_user=True)
    spouse = await bot.follow("spouse")
    await join(bot, spouse, codes["user"])
    page = Page(bot, resident, "resident")
    await page.accept_terms()
    _, body = await page.call("GET", "/liff/api/teams")
    assert {"resident", "spouse"} <= {m["name"] for m in body["teams"][0]["members"]}
