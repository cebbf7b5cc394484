"""Consent, finished: the phone number and the 緊急時メモ reach only managers the person agreed
to show them to, in alerts and roll-call notices alike; the person can take a manager off
watching them from the chat and from My page."""

from __future__ import annotations

from tests.conftest import Bot
from tests.drivers import ALERT, Page, alerted, answer_button, button, watched_resident
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
    (to_son,) = said(bot.line.texts_to(son), "rollcall.help_notice", name="resident")
    (to_daughter,) = said(bot.line.texts_to(daughter), "rollcall.help_notice", name="resident")
    assert PHONE in to_daughter and PHONE not in to_son


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
