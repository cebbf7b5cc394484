"""Her OK from My page (issue 40) is the chat's OK: the same answer through the same protocol,
so the round closes as it does and her watchers hear the same words."""

from __future__ import annotations

from care.rounds.protocol import Stage
from tests.conftest import Bot
from tests.drivers import (
    Page,
    button,
    member_of,
    ok_data,
    run_to,
    stage,
    tokyo,
    told_safe,
    watched_resident,
)
from tests.fake_line import message_text
from tests.wording import said, says, t

OK = "/liff/api/me/ok"


async def _two_alerted(bot: Bot) -> tuple[tuple[str, str], tuple[str, str]]:
    """Two residents, each watched by one relative, neither of whom answered: both alerted."""
    chat, (chat_son,) = await watched_resident(bot, "resident-a", ["son-a"])
    page, (page_son,) = await watched_resident(bot, "resident-b", ["son-b"])
    for moment in (tokyo(11, 24, 9), tokyo(11, 25, 9), tokyo(11, 25, 12)):
        await run_to(bot, moment)
    return (chat, chat_son), (page, page_son)


async def test_an_ok_on_my_page_closes_the_alert_as_the_chats_ok_and_they_hear_the_same(
    bot: Bot,
) -> None:
    (chat, chat_son), (resident, son) = await _two_alerted(bot)
    assert await stage(bot, chat) is Stage.ALERTED and await stage(bot, resident) is Stage.ALERTED
    before = {uid: len(bot.line.messages_to(uid)) for uid in (chat_son, son)}

    await bot.tap(chat, ok_data(bot, chat))
    reply = bot.reply_to(chat)
    assert reply is not None
    chat_said = [message_text(m) for m in reply.body["messages"]]
    page = Page(bot, resident, "resident-b")
    await page.accept_terms()
    status, body = await page.call("POST", OK, {})
    assert status == 200 and body["closed"] is True

    # The same end of the round: her own OK, her last OK now.
    assert await stage(bot, chat) is Stage.SAFE and await stage(bot, resident) is Stage.SAFE
    assert (await member_of(bot, resident)).last_ok_at == bot.clock.now()
    assert (await member_of(bot, chat)).last_ok_at == bot.clock.now()
    # Her watchers hear the same message, in the same form, each about their own resident.
    heard = {
        uid: bot.line.messages_to(uid)[before[uid] :]
        for uid, name in ((chat_son, "resident-a"), (son, "resident-b"))
    }
    assert len(told_safe(bot, son)) == len(told_safe(bot, chat_son)) == 1
    by_chat = str(heard[chat_son]).replace("resident-a", "NAME")
    by_page = str(heard[son]).replace("resident-b", "NAME")
    ids = ((await member_of(bot, chat)).id, (await member_of(bot, resident)).id)
    assert by_chat.replace(f"ID {ids[0]}", "ID N") == by_page.replace(f"ID {ids[1]}", "ID N")
    # She reads on the page what the chat replied: thanks, and that they were told.
    assert said(chat_said, "checkin.thanks") and said(chat_said, "checkin.managers_told")
    assert says(body["said"][0], "checkin.thanks") and body["said"][1] == t(
        "checkin.managers_told"
    )
    # Pressed again (a second tap, a stale page): thanks, and nobody is told twice.
    status, body = await page.call("POST", OK, {})
    assert status == 200 and says(body["said"][0], "checkin.menu_ok")
    assert len(told_safe(bot, son)) == 1


async def test_an_ok_while_the_check_in_waits_closes_it_and_tells_nobody(bot: Bot) -> None:
    resident, (son,) = await watched_resident(bot, "resident", ["son"])
    await run_to(bot, tokyo(11, 24, 9))
    page = Page(bot, resident, "resident")
    await page.accept_terms()
    _, me = await page.call("GET", "/liff/api/me")
    assert me["member"]["waiting"]["kind"] == "asked"
    heard = len(bot.line.messages_to(son))
    status, body = await page.call("POST", OK, {})
    assert status == 200 and says(body["said"][0], "checkin.thanks") and len(body["said"]) == 1
    assert await stage(bot, resident) is Stage.SAFE
    assert len(bot.line.messages_to(son)) == heard, "an OK before any alert tells nobody"
    _, me = await page.call("GET", "/liff/api/me")
    assert me["member"]["waiting"] is None


async def test_an_ok_during_her_call_for_help_asks_her_in_line_as_the_chat_does(
    bot: Bot,
) -> None:
    resident, (son,) = await watched_resident(bot, "resident", ["son"])
    await run_to(bot, tokyo(11, 24, 9))
    await bot.tap(resident, button(bot, resident, t("checkin.help_button")))
    page = Page(bot, resident, "resident")
    await page.accept_terms()
    _, me = await page.call("GET", "/liff/api/me")
    assert me["member"]["waiting"]["kind"] == "help"
    status, body = await page.call("POST", OK, {})
    assert status == 200 and body["said"] == [t("mypage40.still_help_in_chat")]
    assert await stage(bot, resident) is Stage.HELP, "an OK does not close a call for help"
    # The question comes in LINE, with its 「もう大丈夫」.
    button(bot, resident, t("checkin.recovered_button"))
    assert told_safe(bot, son) == []


async def test_the_ok_takes_only_json_with_her_token_and_after_the_terms(bot: Bot) -> None:
    resident, _ = await watched_resident(bot, "resident", ["son"])
    await run_to(bot, tokyo(11, 24, 9))
    page = Page(bot, resident, "resident")
    assert (await page.call("POST", OK, {}))[1]["error"] == "terms_not_accepted"
    await page.accept_terms()
    response = await bot.client.post(OK)
    assert response.status == 401, "no token, no answer"
    response = await bot.client.post(
        OK,
        data="ok=1",
        headers={
            "Authorization": f"Bearer {page.token}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    assert response.status == 415, "a cross-site form cannot post"
    assert await stage(bot, resident) is Stage.ASKED, "nothing changed"
