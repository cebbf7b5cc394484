"""Every rung answers to the one protocol (issue 36), each defect as a resident, her family and
the desk met it: through the fake LINE, the stand-in Twilio and the fake clock."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from care.rounds.protocol import Stage
from tests.conftest import Bot
from tests.drivers import (
    ALERT,
    Page,
    act,
    alerted,
    button,
    case_ids,
    member_of,
    run_to,
    staff_signed_in,
    stage,
    tokyo,
    told_safe,
    watched_resident,
)
from tests.fake_twilio import FakeTwilio, calling_through
from tests.wording import JA, said, says, t

HOUR = timedelta(hours=1)
NUMBER = "+819012345678"


def help_alerts(bot: Bot, uid: str) -> list[str]:
    return [text for text in bot.line.texts_to(uid) if t("alert.help_title") in text]


def reassured(bot: Bot, uid: str) -> list[str]:
    """Every message that told this manager to stop worrying."""
    texts = bot.line.texts_to(uid)
    return told_safe(bot, uid) + said(texts, "desk.confirmed_notice")


def answer_button(bot: Bot, uid: str, value: str) -> str:
    """The newest check-in's button for an answer (ok, unwell, help)."""
    return button(bot, uid, t(f"checkin.{value}_button"))


async def asks_for_help(bot: Bot, resident: str) -> None:
    await bot.tap(resident, answer_button(bot, resident, "help"))


# -- help is sticky ------------------------------------------------------------------------


async def test_an_ok_after_help_asks_her_and_only_her_fresh_answer_closes_it(bot: Bot) -> None:
    resident, (son, daughter) = await watched_resident(bot, "resident", ["son", "daughter"])
    await run_to(bot, tokyo(11, 24, 9))
    await asks_for_help(bot, resident)
    assert help_alerts(bot, son) and help_alerts(bot, daughter)

    # The OK on the same card, and the menu's 元気です: no "safe", a plain question instead.
    for data in (
        answer_button(bot, resident, "ok"),
        bot.services.postbacks.encode("ok", t=0),
    ):
        await bot.tap(resident, data)
        assert bot.line.reply_texts()[-1].startswith(t("checkin.still_help_title"))
        assert reassured(bot, son) == [] and reassured(bot, daughter) == []
        assert await stage(bot, resident) is Stage.HELP

    # A question from before a second call for help is stale: it changes nothing.
    (stale,) = [
        a["data"]
        for a in bot.last_reply_postbacks(resident)
        if a["label"] == t("checkin.recovered_button")
    ]
    bot.clock.advance(timedelta(minutes=5))
    await bot.say(resident, "たすけて")
    await bot.tap(resident, stale)
    assert bot.line.reply_texts()[-1] == t("checkin.recovered_late")
    assert await stage(bot, resident) is Stage.HELP and reassured(bot, son) == []

    # Her fresh 「もう大丈夫」 closes it, worded as what it is.
    await bot.tap(resident, answer_button(bot, resident, "ok"))
    await bot.tap_reply_button(resident, t("checkin.recovered_button"))
    assert bot.line.reply_texts()[-1] == t("checkin.recovered_thanks")
    for manager in (son, daughter):
        assert says(bot.line.texts_to(manager)[-1], "alert.recovered_notice", name="resident")
        assert not said(bot.line.texts_to(manager), "safe.body")
    assert await stage(bot, resident) is Stage.SAFE


async def test_an_old_cards_ok_never_closes_a_call_for_help(bot: Bot) -> None:
    resident, (son,) = await watched_resident(bot, "resident", ["son"])
    await run_to(bot, tokyo(11, 24, 9))
    old_ok = answer_button(bot, resident, "ok")
    await bot.tap(resident, old_ok)
    await run_to(bot, tokyo(11, 25, 9))
    await asks_for_help(bot, resident)
    await bot.tap(resident, old_ok)
    assert bot.line.reply_texts()[-1].startswith(t("checkin.still_help_title"))
    assert reassured(bot, son) == [] and await stage(bot, resident) is Stage.HELP
    # まだ助けてほしい: the call for help is raised again, to every manager.
    before = len(help_alerts(bot, son))
    await bot.tap_reply_button(resident, t("checkin.still_help_button"))
    assert len(help_alerts(bot, son)) == before + 1


async def test_phone_key_3_counts_whenever_it_is_pressed(
    start_bot: Callable[..., Awaitable[Bot]], twilio: FakeTwilio
) -> None:
    """The call before the alert rings; her door sensor (or her LINE OK) answers the round as
    she walks to the phone; her key 3 is still a call for help, and key 1 on an old call is
    not an OK."""
    bot = await start_bot(**calling_through(twilio, call_budget=5))
    resident, (son,) = await watched_resident(bot, "resident", ["son"])
    member = await member_of(bot, resident)
    async with bot.repos() as repos:
        await repos.calls.set_consent(member.id, NUMBER, True, "self")
        # Hers: the code of its verification call typed (care.rounds.verify).
        await repos.calls.set_verified(member.id, NUMBER, "call", bot.clock.now())
    await run_to(bot, tokyo(11, 24, 9))
    await run_to(bot, tokyo(11, 25, 9))
    await run_to(bot, tokyo(11, 25, 12))
    (call,) = twilio.calls
    await bot.tap(resident, answer_button(bot, resident, "ok"))  # the round is over
    assert await stage(bot, resident) is Stage.SAFE
    response = await twilio.press(bot.client, call, "3")
    assert JA.t("call.help_sent") in await response.text()
    await bot.settle()
    assert len(help_alerts(bot, son)) == 1
    # A second key on that call is not taken again: the call for help stays open.
    await twilio.press(bot.client, call, "1")
    await bot.settle()
    assert reassured(bot, son) == [] and await stage(bot, resident) is Stage.HELP


# -- help always reaches someone -----------------------------------------------------------


async def test_help_from_someone_nobody_watches_is_an_urgent_case_at_once(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    bot = await start_bot(desk_after=HOUR)
    resident = await bot.follow("resident")
    await bot.tap(resident, bot.services.postbacks.encode("sched_set", i=1, h=9))
    await run_to(bot, tokyo(11, 24, 9))
    await asks_for_help(bot, resident)
    async with bot.repos() as repos:
        (case,) = await repos.desk.queue()
    assert case["urgent"] and case["reason"] == "help"
    assert says(bot.line.reply_texts()[-1], "checkin.help_nobody_desk", desk=t("desk.name"))
    # Her next check-in does not come as if she had not answered: the call for help is open.
    await run_to(bot, tokyo(11, 25, 9, 1))
    assert await stage(bot, resident) is Stage.HELP_AT_DESK


async def test_without_a_desk_she_is_told_plainly_that_nobody_will_hear(bot: Bot) -> None:
    resident = await bot.follow("resident")
    await bot.tap(resident, bot.services.postbacks.encode("sched_set", i=1, h=9))
    assert said(bot.line.reply_texts(), "checkin.nobody_hears")
    await run_to(bot, tokyo(11, 24, 9))
    await asks_for_help(bot, resident)
    assert bot.line.reply_texts()[-1] == t("checkin.help_nobody")


# -- the desk acts on her state, not on a stale round -------------------------------------


async def test_the_desk_closing_an_older_case_acts_on_her_open_call_for_help(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    bot = await start_bot(desk_after=HOUR, desk_unwell=True)
    resident, (son,) = await watched_resident(bot, "resident", ["son"])
    await run_to(bot, tokyo(11, 24, 9))
    await bot.tap(resident, answer_button(bot, resident, "unwell"))
    (unwell_case,) = await case_ids(bot)
    await run_to(bot, tokyo(11, 25, 9))
    await asks_for_help(bot, resident)
    await staff_signed_in(bot)
    page = await (await bot.client.get(f"/admin/desk/{unwell_case}")).text()
    assert JA.t("admin.desk.open_help_alert") in page, "the case page shows her call for help"
    queue = await (await bot.client.get("/admin/desk")).text()
    assert JA.t("admin.desk.open_help_alert") in queue
    assert (await act(bot, unwell_case, action="close", outcome="out"))[0] == 303
    # What the desk found closes her open alert and its case: never "safe" beside an open one.
    assert await stage(bot, resident) is Stage.CONFIRMED_SAFE
    assert await case_ids(bot) == []
    assert len(said(bot.line.texts_to(son), "desk.confirmed_notice", name="resident")) == 1


# -- pause, stop, block and 退会 during an open alert ---------------------------------------


async def test_a_pause_during_a_call_for_help_keeps_it_open_and_says_so(bot: Bot) -> None:
    resident, (son,) = await watched_resident(bot, "resident", ["son"])
    await run_to(bot, tokyo(11, 24, 9))
    await asks_for_help(bot, resident)
    told = len(bot.line.texts_to(son))
    await bot.tap(resident, bot.services.postbacks.encode("pause", d=3))
    # She is asked first: the alert stays open whatever she chooses.
    assert bot.line.reply_texts()[-1].startswith(t("pause.alert_open_title"))
    assert len(bot.line.texts_to(son)) == told
    await bot.tap_reply_button(resident, t("pause.alert_open_pause"))
    assert said(bot.line.texts_to(son), "stopped_open.paused", name="resident")
    assert not said(bot.line.texts_to(son), "stopped.paused", name="resident")
    assert await stage(bot, resident) is Stage.HELP
    await bot.tap(resident, bot.services.postbacks.encode("sched_stop"))
    await bot.tap_reply_button(resident, t("pause.alert_open_stop"))
    assert said(bot.line.texts_to(son), "stopped_open.stopped", name="resident")
    assert await stage(bot, resident) is Stage.HELP
    # Her son can still close it.
    await bot.tap(son, button(bot, son, t("alert.safe_button")))
    assert await stage(bot, resident) is Stage.CONFIRMED_SAFE


# -- no stage without a way out ------------------------------------------------------------


async def test_a_taken_alert_asks_its_taker_then_tells_everyone_again(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    bot = await start_bot(desk_after=HOUR)
    resident, (son, daughter) = await alerted(bot, ["son", "daughter"])
    await bot.tap(son, button(bot, son, t("alert.take_button")))
    assert await stage(bot, resident) is Stage.TAKEN
    await run_to(bot, tokyo(11, 25, 13, 59))
    assert not said(bot.line.texts_to(son), "alert.found_her", name="resident")
    await run_to(bot, tokyo(11, 25, 14, 1))
    assert said(bot.line.texts_to(son), "alert.found_her", name="resident")
    assert await stage(bot, resident) is Stage.TAKEN_ASKED
    # No answer within the hour: every manager is alerted again, and later the desk.
    await run_to(bot, tokyo(11, 25, 15, 2))
    for manager in (son, daughter):
        assert JA.t("alert.not_found_lead") in bot.line.texts_to(manager)[-1]
    assert await stage(bot, resident) is Stage.REALERTED
    await run_to(bot, tokyo(11, 25, 16, 3))
    assert await stage(bot, resident) is Stage.AT_DESK and len(await case_ids(bot)) == 1


async def test_not_found_and_a_taker_who_leaves_give_the_alert_back_at_once(bot: Bot) -> None:
    resident, (son, daughter) = await alerted(bot, ["son", "daughter"])
    await bot.tap(son, button(bot, son, t("alert.take_button")))
    await run_to(bot, tokyo(11, 25, 14, 1))
    await bot.tap(son, button(bot, son, t("alert.not_found_button")))
    assert says(bot.line.reply_texts()[-1], "alert.not_found_you", name="resident")
    assert JA.t("alert.not_found_lead") in bot.line.texts_to(daughter)[-1]
    assert await stage(bot, resident) is Stage.REALERTED

    await bot.tap(daughter, button(bot, daughter, t("alert.take_button")))
    her = await member_of(bot, daughter)
    async with bot.repos() as repos:
        (team, _), *_ = await repos.teams.teams_of(her.id)
    await bot.tap(daughter, bot.services.postbacks.encode("team_leave_yes", t=team.id))
    assert JA.t("alert.not_found_lead") in bot.line.texts_to(son)[-1]
    assert await stage(bot, resident) is Stage.REALERTED


async def test_an_alert_still_open_is_said_again_each_day_whatever_her_schedule(
    bot: Bot,
) -> None:
    resident, (son,) = await alerted(bot, ["son"])  # 11/25 12:00
    await bot.tap(son, button(bot, son, t("alert.take_button")))
    await bot.tap(son, button(bot, son, t("alert.safe_button")))  # closed: no reminder later
    await run_to(bot, tokyo(11, 26, 9))
    await run_to(bot, tokyo(11, 26, 12, 1))
    assert not said(bot.line.texts_to(son), "alert.still_open", name="resident")
    # The next one stays open, and she stops her check-ins meanwhile (she says yes).
    await run_to(bot, tokyo(11, 27, 9))
    await run_to(bot, tokyo(11, 27, 12))
    assert ALERT in bot.line.texts_to(son)[-1]
    await bot.tap(resident, bot.services.postbacks.encode("sched_stop", c=1))
    asked = len(bot.line.texts_to(resident))
    await run_to(bot, tokyo(11, 28, 11, 59))
    assert not said(bot.line.texts_to(son), "alert.still_open", name="resident")
    await run_to(bot, tokyo(11, 28, 12, 1))
    assert len(said(bot.line.texts_to(son), "alert.still_open", name="resident")) == 1
    await run_to(bot, tokyo(11, 29, 12, 2))
    assert len(said(bot.line.texts_to(son), "alert.still_open", name="resident")) == 2
    assert len(bot.line.texts_to(resident)) == asked, "no check-in while it is open"


async def test_my_page_asks_first_too_and_refuses_to_withdraw_during_an_alert(bot: Bot) -> None:
    resident, (son,) = await alerted(bot, ["son"])
    page = Page(bot, resident, "resident")
    await page.accept_terms()
    status, body = await page.call("POST", "/liff/api/me/pause", {"open_ended": True})
    assert (status, body["error"]) == (409, "alert_open_confirm")
    assert not said(bot.line.texts_to(son), "stopped_open.paused_open", name="resident")
    body = {"open_ended": True, "alert_ok": True}
    assert (await page.call("POST", "/liff/api/me/pause", body))[0] == 200
    assert said(bot.line.texts_to(son), "stopped_open.paused_open", name="resident")
    assert await stage(bot, resident) is Stage.ALERTED
    status, body = await page.call("POST", "/liff/api/me/withdraw", {"confirm": True})
    assert (status, body["error"]) == (409, "alert_open")


async def test_help_again_on_an_alert_the_desk_holds_stays_the_desks_and_is_urgent(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    bot = await start_bot(desk_after=HOUR)
    resident, (son,) = await alerted(bot, ["son"])
    await run_to(bot, tokyo(11, 25, 13))
    await run_to(bot, tokyo(11, 25, 14, 1))
    (case_id,) = await case_ids(bot)
    assert await stage(bot, resident) is Stage.AT_DESK
    await bot.say(resident, "たすけて")
    assert await stage(bot, resident) is Stage.HELP_AT_DESK
    assert await case_ids(bot) == [case_id]
    async with bot.repos() as repos:
        case = await repos.desk.get(case_id)
        kinds = [step.kind for step in await repos.desk.steps(case_id)]
    assert case is not None and case.urgent and "help" in kinds
    assert help_alerts(bot, son)


async def test_withdrawing_shows_on_every_case_the_desk_still_holds(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    bot = await start_bot(desk_after=HOUR, desk_unwell=True)
    resident, _ = await watched_resident(bot, "resident", ["son"])
    await run_to(bot, tokyo(11, 24, 9))
    await bot.tap(resident, answer_button(bot, resident, "unwell"))
    (case_id,) = await case_ids(bot)
    page = Page(bot, resident, "resident")
    await page.accept_terms()
    assert (await page.call("POST", "/liff/api/me/withdraw", {"confirm": True}))[0] == 200
    async with bot.repos() as repos:
        steps = await repos.desk.steps(case_id)
    assert [(s.kind, s.result) for s in steps][-1] == ("stopped", "withdrawn")
    assert await case_ids(bot) == [case_id], "the desk decides what it means"
