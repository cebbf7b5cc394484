"""Consent, finished: the phone number and the 緊急時メモ reach only managers the person agreed
to show them to, from alerts and roll-call notices alike (on her card, issue 38); the person
can take a manager off watching them from the chat and from My page. And no watch stops in
silence: when the last manager watching her leaves, blocks the bot, withdraws, is removed by
the staff or is taken off by her, she is told once that nobody watches her check-ins now (with
the invitation for a new one at hand), and the desk, where there is one, gets a non-urgent
case about her."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from tests import line_webhook as hook
from tests.conftest import Bot
from tests.drivers import (
    ALERT,
    Page,
    add_admin,
    alerted,
    answer_button,
    button,
    csrf,
    invite_codes_in,
    login,
    member_of,
    team_of,
    watched_resident,
)
from tests.wording import said, says, t

PHONE = "090-1234-5678"


async def with_phone(bot: Bot, uid: str) -> None:
    async with bot.repos() as repos:
        member = await repos.members.by_line_id(uid)
        assert member is not None
        await repos.conn.execute("UPDATE members SET phone = ? WHERE id = ?", (PHONE, member.id))


async def test_a_roll_call_help_notice_shows_the_phone_only_to_those_she_showed_it(
    bot: Bot,
) -> None:
    resident, (son, daughter) = await watched_resident(bot, "resident", ["son", "daughter"])
    await with_phone(bot, resident)
    await bot.tap_action(resident, "share_personal", m=3)  # her daughter only
    await bot.tap_action(son, "rc_start", t=1)
    await bot.tap(resident, answer_button(bot, resident, "help"))
    (to_son,) = said(bot.line.texts_to(son), "card.rollcall_help", name="resident")
    (to_daughter,) = said(bot.line.texts_to(daughter), "card.rollcall_help", name="resident")
    # Her number is in neither notice (issue 38): it is on her card, for her daughter alone.
    assert PHONE not in to_daughter and PHONE not in to_son
    member = await member_of(bot, resident)
    _, hers = await Page(bot, daughter).call("GET", f"/liff/api/cards/{member.id}")
    assert {"field": "phone", "value": PHONE, "sensitive": False} in hers["card"]["details"]
    _, his = await Page(bot, son).call("GET", f"/liff/api/cards/{member.id}")
    assert his["card"]["shown"] is False and his["card"]["details"] == []


async def test_she_takes_a_manager_off_from_the_chat(bot: Bot) -> None:
    resident, (son, daughter) = await watched_resident(bot, "resident", ["son", "daughter"])
    await bot.tap_action(resident, "team_members", t=1)
    await bot.tap_reply_button(resident, t("unwatch.button", name="son"))
    assert says(bot.line.reply_texts()[-1], "unwatch.confirm", name="son")
    await bot.tap_reply_button(resident, t("unwatch.yes"))
    assert bot.line.reply_texts()[-1] == t("unwatch.done", name="son")
    assert says(bot.line.texts_to(son)[-1], "unwatch.notice", name="resident")
    # The ladder runs on: only her daughter is alerted; her son cannot see her card.
    bot.line.clear()
    from tests.drivers import run_to, tokyo

    for moment in (tokyo(11, 24, 9), tokyo(11, 25, 9), tokyo(11, 25, 12)):
        await run_to(bot, moment)
    assert any(ALERT in text for text in bot.line.texts_to(daughter))
    assert not any(ALERT in text for text in bot.line.texts_to(son))
    await bot.tap_action(son, "member", m=1)
    assert bot.line.reply_texts()[-1] == t("member.not_allowed")
    # Someone else's manager cannot be taken off by a stranger's postback.
    stranger = await bot.follow("stranger")
    await bot.tap_action(stranger, "unwatch_yes", m=3)
    assert bot.line.reply_texts()[-1] == t("member.not_allowed")


async def test_she_takes_a_manager_off_from_my_page(bot: Bot) -> None:
    resident, (son, daughter) = await watched_resident(bot, "resident", ["son", "daughter"])
    page = Page(bot, resident, "resident")
    await page.accept_terms()
    _, teams = await page.call("GET", "/liff/api/teams")
    managers = [m for m in teams["teams"][0]["members"] if m["role"] == "manager"]
    assert [m["watches_me"] for m in managers] == [True, True]
    assert (await page.call("POST", "/liff/api/managers/2/stop", {}))[0] == 400, "confirm"
    assert (await page.call("POST", "/liff/api/managers/2/stop", {"confirm": True}))[0] == 200
    _, teams = await page.call("GET", "/liff/api/teams")
    managers = [m for m in teams["teams"][0]["members"] if m["role"] == "manager"]
    assert [m["watches_me"] for m in managers] == [False, True]
    his = Page(bot, son, "son")
    await his.accept_terms()
    _, his_teams = await his.call("GET", "/liff/api/teams")
    (her,) = [m for m in his_teams["teams"][0]["members"] if m["id"] == 1]
    assert "last_ok" not in her, "he no longer sees how she answers"
    assert (await his.call("GET", "/liff/api/members/1"))[0] == 403


async def test_an_alert_open_when_she_takes_one_off_still_reaches_the_other(bot: Bot) -> None:
    resident, (son, daughter) = await alerted(bot, ["son", "daughter"])
    page = Page(bot, resident, "resident")
    await page.accept_terms()
    assert (await page.call("POST", "/liff/api/managers/2/stop", {"confirm": True}))[0] == 200
    await bot.tap(resident, button(bot, resident, t("checkin.ok_button")))
    assert said(bot.line.texts_to(daughter), "safe.body", name="resident")
    assert not said(bot.line.texts_to(son), "safe.body", name="resident")


def alone_notices(bot: Bot, uid: str, gone: str) -> list[str]:
    return said(bot.line.texts_to(uid), "unwatch.alone_lead", name=gone)


async def unwatched_cases(bot: Bot, uid: str) -> list[tuple[str, bool]]:
    member = await member_of(bot, uid)
    async with bot.repos() as repos:
        rows = await repos.conn.fetch_all(
            "SELECT reason, urgent FROM desk_cases WHERE member_id = ? AND closed_at IS NULL",
            (member.id,),
        )
    return [(row[0], bool(row[1])) for row in rows]


async def test_the_last_manager_leaving_the_team_tells_her_and_shows_how_to_invite(
    bot: Bot,
) -> None:
    resident, (son, daughter) = await watched_resident(bot, "resident", ["son", "daughter"])
    team = await team_of(bot, resident)
    await bot.tap_action(son, "team_leave_yes", t=team)
    assert alone_notices(bot, resident, "son") == [], "her daughter still watches her"
    await bot.tap_action(daughter, "team_leave_yes", t=team)
    (notice,) = alone_notices(bot, resident, "daughter")
    assert t("unwatch.alone") in notice and t("unwatch.alone_desk") not in notice
    assert await unwatched_cases(bot, resident) == [], "this deployment has no desk"
    # Its button shows her the invitation for a new manager.
    await bot.tap(resident, button(bot, resident, t("unwatch.invite_button")))
    assert set(invite_codes_in(bot.line.reply_texts()[-1:])) == {"manager"}
    # Nothing more is said as time goes on: she was told once.
    await bot.advance(timedelta(days=2))
    assert len(alone_notices(bot, resident, "daughter")) == 1


async def test_the_last_manager_blocking_the_bot_tells_her_and_the_desk(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    bot = await start_bot(desk_after=timedelta(hours=1))
    resident, (son,) = await watched_resident(bot, "resident", ["son"])
    await bot.post(hook.unfollow(son, bot.clock.now()))
    (notice,) = alone_notices(bot, resident, "son")
    assert t("unwatch.alone_desk") in notice
    assert await unwatched_cases(bot, resident) == [("unwatched", False)], "not urgent"
    # He comes back, and blocks again: she is told again, the desk's case stays one.
    await bot.post(hook.follow(son, bot.clock.now(), unblocked=True))
    await bot.post(hook.unfollow(son, bot.clock.now()))
    assert len(alone_notices(bot, resident, "son")) == 2
    assert await unwatched_cases(bot, resident) == [("unwatched", False)]
    await add_admin(bot)
    await login(bot.client)
    queue = await (await bot.client.get("/admin/desk")).text()
    assert t("admin.desk.reason.unwatched") in queue


async def test_the_last_manager_withdrawing_tells_her(bot: Bot) -> None:
    resident, (son,) = await watched_resident(bot, "resident", ["son"])
    page = Page(bot, son, "son")
    await page.accept_terms()
    assert (await page.call("POST", "/liff/api/me/withdraw", {"confirm": True}))[0] == 200
    assert len(alone_notices(bot, resident, "son")) == 1


async def test_the_last_manager_removed_by_the_staff_tells_her(bot: Bot) -> None:
    resident, (son,) = await watched_resident(bot, "resident", ["son"])
    team = await team_of(bot, resident)
    await add_admin(bot)
    await login(bot.client)
    token = await csrf(bot.client, f"/admin/teams/{team}")
    son_id = (await member_of(bot, son)).id
    form = {"csrf_token": token, "action": "remove_manager", "member_id": str(son_id)}
    response = await bot.client.post(f"/admin/teams/{team}", data=form, allow_redirects=False)
    assert response.status == 303
    await bot.settle()
    assert len(alone_notices(bot, resident, "son")) == 1


async def test_she_takes_her_last_manager_off_and_hears_nobody_watches_now(bot: Bot) -> None:
    resident, (son,) = await watched_resident(bot, "resident", ["son"])
    page = Page(bot, resident, "resident")
    await page.accept_terms()
    son_id = (await member_of(bot, son)).id
    assert (await page.call("POST", f"/liff/api/managers/{son_id}/stop", {"confirm": True}))[
        0
    ] == 200
    assert len(alone_notices(bot, resident, "son")) == 1
    # A user who leaves, or a manager of nobody who blocks, leaves nobody alone.
    stranger = await bot.follow("stranger")
    await bot.post(hook.unfollow(stranger, bot.clock.now()))
    assert len(alone_notices(bot, resident, "son")) == 1
