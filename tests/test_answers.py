"""More than OK: 少し体調が悪い and 助けてほしい, and who handles an alert
(対応します, 無事を確認しました, sent again when nobody took it)."""

from __future__ import annotations

from datetime import timedelta

from care.desk import report
from care.members.sharing import tel_uri
from tests import line_webhook as hook
from tests.conftest import Bot
from tests.drivers import (
    CHECKIN,
    Page,
    alerted,
    button,
    checkins_to,
    history_of_a_week,
    run_to,
    tokyo,
    watched_resident,
)
from tests.fake_line import message_text, postbacks_in
from tests.wording import JA, said, says, t, when


def card_uri(bot: Bot, member_id: int) -> str:
    """Her card on My page, as a message's button opens it."""
    return f"{bot.services.my_page_url}/card/{member_id}"


async def test_every_check_in_offers_three_answers(bot: Bot) -> None:
    resident, _ = await watched_resident(bot, "resident", ["son"])
    await run_to(bot, tokyo(11, 24, 9))
    (checkin,) = [m for m in bot.line.messages_to(resident) if message_text(m).startswith(CHECKIN)]
    labels = [a["label"] for a in postbacks_in(checkin)]
    assert labels == [t("checkin.ok_button"), t("checkin.unwell_button"), t("checkin.help_button")]


async def test_not_feeling_well_closes_the_round_and_tells_the_managers(bot: Bot) -> None:
    resident, (son, daughter) = await watched_resident(bot, "resident", ["son", "daughter"])
    await run_to(bot, tokyo(11, 24, 9))
    bot.clock.advance(timedelta(minutes=20))
    await bot.tap(resident, button(bot, resident, t("checkin.unwell_button")))
    assert says(bot.line.reply_texts()[-1], "checkin.unwell_thanks", next=when(tokyo(11, 25, 9)))
    for manager in (son, daughter):
        assert says(bot.line.texts_to(manager)[-1], "unwell.body", name="resident")
    await run_to(bot, tokyo(11, 25, 8))
    assert len(checkins_to(bot, resident)) == 1, "the round is closed: no re-send"
    async with bot.repos() as repos:
        (closed,) = await repos.rounds._many("SELECT * FROM checkin_rounds", ())
    assert (closed.state.value, closed.answer) == ("answered", "unwell")


async def test_asking_for_help_alerts_everyone_at_once_with_a_way_to_her_memo(bot: Bot) -> None:
    resident, (son, daughter) = await watched_resident(bot, "resident", ["son", "daughter"])
    async with bot.repos() as repos:
        member = await repos.members.by_line_id(resident)
        assert member is not None
        await repos.conn.execute(
            "UPDATE members SET emergency_memo = ?, phone = ? WHERE id = ?",
            ("合鍵は隣の家", "090-1234-5678", member.id),
        )
    # She agreed to show her details to her son only (the 「見せる」 asked when he joined).
    await bot.tap_action(resident, "share_personal", m=2)
    await run_to(bot, tokyo(11, 24, 9))
    await bot.tap(resident, button(bot, resident, t("checkin.help_button")))
    assert says(bot.line.reply_texts()[-1], "checkin.help_sent", names="son、daughter")
    for manager in (son, daughter):
        alert = bot.line.texts_to(manager)[-1]
        assert t("alert.help_title") in alert and says(alert, "alert.help_body", name="resident")
        # Her memo and number stay off the chat (issue 38): the alert says where they are and
        # carries the one button to her card, to every manager at once.
        assert "合鍵" not in alert and "090-1234-5678" not in alert
        assert says(alert, "card.where")
        links = [a for a in postbacks_in(bot.line.messages_to(manager)[-1]) if a["type"] == "uri"]
        assert links == [{"type": "uri", "label": t("card.button"), "uri": card_uri(bot, 1)}]
    # The card: the memo and one tap to call her for the son she shows them to, and for the
    # daughter only that she chose not to.
    _, his = await Page(bot, son).call("GET", "/liff/api/cards/1")
    details = {d["field"]: d["value"] for d in his["card"]["details"]}
    assert details["emergency_memo"] == "合鍵は隣の家"
    assert details["phone"] == "090-1234-5678" and his["card"]["tel"] == "tel:09012345678"
    _, hers = await Page(bot, daughter).call("GET", "/liff/api/cards/1")
    assert hers["card"]["shown"] is False and hers["card"]["details"] == []
    assert hers["card"]["tel"] is None


def test_a_phone_number_as_written_becomes_a_link_to_dial() -> None:
    assert tel_uri("090-1234-5678") == "tel:09012345678"
    assert tel_uri("＋８１ ９０ １２３４ ５６７８") == "tel:+819012345678"
    assert tel_uri("（03）1234-5678 自宅") == "tel:0312345678"
    assert tel_uri("なし") is None and tel_uri("") is None


async def test_the_first_to_take_an_alert_has_it_and_the_others_hear_who(bot: Bot) -> None:
    _, (son, daughter) = await alerted(bot, ["son", "daughter"])
    son_take = button(bot, son, t("alert.take_button"))
    daughter_take = button(bot, daughter, t("alert.take_button"))
    # Both tap at once: the two events come in one webhook, one batch.
    await bot.post(
        hook.postback(son, son_take, bot.clock.now()),
        hook.postback(daughter, daughter_take, bot.clock.now()),
    )
    replies = bot.line.reply_texts()[-2:]
    assert says(replies[0], "alert.taken_you", name="resident")
    assert says(replies[1], "alert.taken_already", name="resident", taker="son")
    assert says(
        bot.line.texts_to(daughter)[-1], "alert.taken_notice", name="resident", taker="son"
    )

    await bot.tap(son, button(bot, son, t("alert.safe_button")))
    assert says(bot.line.reply_texts()[-1], "alert.confirmed_you", name="resident")
    assert says(
        bot.line.texts_to(daughter)[-1], "alert.confirmed_notice", name="resident", taker="son"
    )
    await bot.tap(daughter, daughter_take)
    assert bot.line.reply_texts()[-1] == t("alert.closed", name="resident")
    async with bot.repos() as repos:
        (closed,) = await repos.rounds._many("SELECT * FROM checkin_rounds", ())
    assert (closed.state.value, closed.close_reason, closed.confirmed_by) == (
        "answered",
        "confirmed",
        2,
    )


async def test_an_alert_nobody_takes_is_sent_again_once(bot: Bot) -> None:
    _, (son, daughter) = await alerted(bot, ["son", "daughter"])
    await run_to(bot, tokyo(11, 25, 13) - timedelta(minutes=1))
    assert len(said(bot.line.texts_to(son), "alert.again")) == 0
    await run_to(bot, tokyo(11, 25, 13))
    for manager in (son, daughter):
        assert len(said(bot.line.texts_to(manager), "alert.again")) == 1
    await run_to(bot, tokyo(11, 25, 18))
    assert len(said(bot.line.texts_to(son), "alert.again")) == 1, "once"


async def test_a_taken_alert_is_not_sent_again(bot: Bot) -> None:
    _, (son, daughter) = await alerted(bot, ["son", "daughter"])
    await bot.tap(daughter, button(bot, daughter, t("alert.take_button")))
    await run_to(bot, tokyo(11, 25, 15))
    assert said(bot.line.texts_to(son), "alert.again") == []


async def test_only_the_persons_managers_can_take_or_close_an_alert(bot: Bot) -> None:
    _, (son,) = await alerted(bot, ["son"])
    stranger = await bot.follow("stranger")
    for label in ("alert.take_button", "alert.safe_button"):
        await bot.tap(stranger, button(bot, son, t(label)))
        assert bot.line.reply_texts()[-1] == JA.t("member.not_allowed")
    async with bot.repos() as repos:
        (still,) = await repos.rounds._many("SELECT * FROM checkin_rounds", ())
    assert still.state.value == "alerted" and still.taken_by is None


async def test_the_console_shows_who_took_an_alert_and_who_closed_it(bot: Bot) -> None:
    from tests.drivers import add_admin, login

    _, (son, daughter) = await alerted(bot, ["son", "daughter"])
    await add_admin(bot)
    assert await login(bot.client) == 200
    await run_to(bot, tokyo(11, 25, 13))  # nobody took it: sent again
    page = await (await bot.client.get("/admin/alerts")).text()
    assert JA.t("admin.alerts.realerted") in page
    assert page.count("son (") == 1, "each manager once, however often told"
    await bot.tap(daughter, button(bot, daughter, t("alert.take_button")))
    page = await (await bot.client.get("/admin/alerts")).text()
    assert f"daughter ({when(tokyo(11, 25, 13))})" in page
    await bot.tap(daughter, button(bot, daughter, t("alert.safe_button")))
    page = await (await bot.client.get("/admin/alerts")).text()
    assert JA.t("admin.alerts.confirmed_by", name="daughter") in page
    async with bot.repos() as repos:
        rounds = await repos.stats.rounds_between(tokyo(11, 20, 0), tokyo(12, 1, 0))
    rate = report.answer_rate(rounds["checkins"], rounds["answered"], rounds["waiting"])
    assert rate == 0, "a manager's confirmation is not the person's answer"


async def test_the_memo_reaches_managers_only_inside_an_alert(bot: Bot) -> None:
    resident, (son,) = await watched_resident(bot, "resident", ["son"])
    outsider = await bot.follow("outsider")
    mine, his, theirs = Page(bot, resident), Page(bot, son), Page(bot, outsider)
    for page in (mine, his, theirs):
        await page.accept_terms()
    status, _ = await mine.call("PUT", "/liff/api/me/memo", {"memo": "合鍵は隣の家\n猫が一匹"})
    assert status == 200
    status, body = await mine.call("PUT", "/liff/api/me/memo", {"memo": "x" * 1001})
    assert (status, body["error"]) == (400, "invalid_memo")
    _, me = await mine.call("GET", "/liff/api/me")
    assert me["member"]["memo"] == "合鍵は隣の家\n猫が一匹"
    _, card = await his.call("GET", "/liff/api/members/1")
    assert card["member"]["memo"] is None, "no alert open: the manager does not see it"
    _, card = await his.call("GET", "/liff/api/cards/1")
    assert card["card"]["details"] == [], "nor on her card, before she shows it to him"
    await bot.tap_action(resident, "share_personal", m=2)  # she shows her son her details
    assert (await theirs.call("GET", "/liff/api/members/1"))[0] == 403

    await run_to(bot, tokyo(11, 24, 9))
    await run_to(bot, tokyo(11, 25, 9))
    await run_to(bot, tokyo(11, 25, 12))
    # The alert itself carries no memo (issue 38): it is on her card while the alert is open.
    alert = bot.line.texts_to(son)[-1]
    assert "合鍵" not in alert and says(alert, "card.where")
    his.renew()
    _, card = await his.call("GET", "/liff/api/members/1")
    assert card["member"]["memo"] == "合鍵は隣の家\n猫が一匹" and card["member"]["alert_open"]
    _, card = await his.call("GET", "/liff/api/cards/1")
    assert {"field": "emergency_memo", "value": "合鍵は隣の家\n猫が一匹", "sensitive": True} in (
        card["card"]["details"]
    )

    mine.renew()
    # 退会 waits while the alert is open: leaving would take away everyone who can close it.
    status, body = await mine.call("POST", "/liff/api/me/withdraw", {"confirm": True})
    assert (status, body["error"]) == (409, "alert_open")
    await bot.tap(son, button(bot, son, t("alert.safe_button")))
    assert (await mine.call("POST", "/liff/api/me/withdraw", {"confirm": True}))[0] == 200
    async with bot.repos() as repos:
        member = await repos.members.get(1)
    assert member is not None and member.emergency_memo == "", "deleted on 退会"


async def test_a_test_goes_the_whole_way_and_leaves_no_record(bot: Bot) -> None:
    resident, (son,) = await watched_resident(bot, "resident", ["son"])
    await bot.tap_action(resident, "sched")
    await bot.tap_reply_button(resident, t("test.button"))
    assert says(bot.line.reply_texts()[-1], "test.sent", name="resident", count=1)
    assert bot.line.texts_to(resident)[-1].startswith(t("test.checkin_title"))
    assert says(bot.line.texts_to(son)[-1], "test.alert_body", name="resident")
    await bot.tap(resident, button(bot, resident, t("checkin.ok_button")))
    assert bot.line.reply_texts()[-1] == t("test.ok")

    # A manager can send one for the person too, from the person's details.
    await bot.tap_action(son, "member", m=1)
    await bot.tap_reply_button(son, t("test.button"))
    assert says(bot.line.reply_texts()[-1], "test.sent", name="resident", count=1)
    stranger = await bot.follow("stranger")
    await bot.tap_action(stranger, "test_send", m=1)
    assert bot.line.reply_texts()[-1] == t("member.not_allowed")

    async with bot.repos() as repos:
        rounds = await repos.rounds._many("SELECT * FROM checkin_rounds", ())
        counts = await repos.stats.counts()
        member = await repos.members.get(1)
    assert rounds == [] and counts["open_alerts"] == 0, "no round, no statistic"
    assert member is not None and member.last_ok_at is None, "a test OK is no real OK"


async def test_a_manager_who_asks_gets_one_daily_note_for_everyone_they_watch(bot: Bot) -> None:
    from tests.drivers import add_admin, create_team, join, login

    first, (son,) = await watched_resident(bot, "mother", ["son"])
    second = await bot.follow("father")
    codes = await create_team(bot, second, "father's", as_user=True)
    await join(bot, son, codes["manager"])
    await bot.tap_action(son, "teams")
    await bot.tap_reply_button(son, t("note.menu"))
    await bot.tap_reply_button(son, t("note.every_day"))
    assert bot.line.reply_texts()[-1] == t("note.saved_on")

    await run_to(bot, tokyo(11, 24, 9))
    await bot.tap(first, button(bot, first, t("checkin.ok_button")))
    pushes_before = len([c for c in bot.line.pushes if c.body["to"] == son])
    await run_to(bot, tokyo(11, 24, 19, 59))
    await run_to(bot, tokyo(11, 24, 20))
    await run_to(bot, tokyo(11, 24, 22))
    notes = [c for c in bot.line.pushes if c.body["to"] == son][pushes_before:]
    assert len(notes) == 1, "one push a day for everyone watched"
    (note,) = [m["text"] for m in notes[0].body["messages"]]
    assert says(note, "note.answered", name="mother", at=when(tokyo(11, 24, 9)))
    assert says(note, "note.waiting", name="father")

    await add_admin(bot)
    await login(bot.client)
    page = await (await bot.client.get("/admin/quota")).text()
    assert 'id="notes">6<' in page, "11/25 to 11/30: six more notes for the one who asked"

    await bot.tap_action(son, "note", v=0)
    await run_to(bot, tokyo(11, 25, 21))
    assert len([c for c in bot.line.pushes if c.body["to"] == son][pushes_before:]) == 1


async def test_the_daily_note_is_chosen_on_my_page_too(bot: Bot) -> None:
    from tests.drivers import Page

    _, (son,) = await watched_resident(bot, "resident", ["son"])
    page = Page(bot, son)
    await page.accept_terms()
    _, teams = await page.call("GET", "/liff/api/teams")
    assert teams["daily_note"] is False
    assert (await page.call("PUT", "/liff/api/me/daily_note", {"every_day": "yes"}))[0] == 400
    assert (await page.call("PUT", "/liff/api/me/daily_note", {"every_day": True}))[0] == 200
    _, teams = await page.call("GET", "/liff/api/teams")
    assert teams["daily_note"] is True


async def test_the_history_shows_each_answer_and_how_long_it_took(bot: Bot) -> None:
    from tests.drivers import Page

    resident, son = await history_of_a_week(bot)
    mine, his = Page(bot, resident), Page(bot, son)
    for page in (mine, his):
        await page.accept_terms()
    status, body = await mine.call("GET", "/liff/api/members/1/history")
    assert status == 200
    got = [(day["date"][-2:], day["answer"], day["minutes"]) for day in body["days"]]
    assert got == [
        ("24", "ok", 5),
        ("25", "ok", 360),
        ("26", "unwell", 30),
        ("27", "none", None),
    ]
    assert (await his.call("GET", "/liff/api/members/1/history"))[1] == body, "read-only view"
    stranger = Page(bot, await bot.follow("stranger"))
    await stranger.accept_terms()
    assert (await stranger.call("GET", "/liff/api/members/1/history"))[0] == 403
