"""Made for a resident of 80: her LINE text size on every card, answer buttons a shaking hand
can hit, 助けてほしい apart from the rest (and taken back with one tap), and a relative's next
step on the reply they were given."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from care.members.schedules import PAUSE_MAX_DAYS
from care.rounds.protocol import Stage, stage_of
from ground.messages import HELP_COLOUR, OK_COLOUR
from tests.conftest import Bot
from tests.drivers import (
    CHECKIN,
    TOKYO,
    Page,
    alerted,
    button,
    checkins_to,
    create_team,
    join,
    member_of,
    run_to,
    tokyo,
    watched_resident,
)
from tests.fake_line import message_text, postbacks_in
from tests.wording import EASY, EN, JA, says, t


def _reply_button(bot: Bot, label: str) -> str:
    for action in bot.last_reply_postbacks():
        if action["label"] == label:
            return str(action["data"])
    raise AssertionError(f"no {label!r} in the last reply")


def _components(node: Any) -> list[dict[str, Any]]:
    """Every Flex component in a message, depth first."""
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if node.get("type") in ("text", "button", "separator", "box", "image", "icon"):
            found.append(node)
        for value in node.values():
            found += _components(value)
    elif isinstance(node, list):
        for value in node:
            found += _components(value)
    return found


def _every_flex_scales(messages: list[dict[str, Any]]) -> int:
    flex = [m for m in messages if m.get("type") == "flex"]
    for message in flex:
        for part in _components(message["contents"]):
            if part["type"] in ("text", "button"):
                assert part.get("scaling") is True, part
    return len(flex)


async def test_every_card_follows_her_text_size_and_help_stands_apart(bot: Bot) -> None:
    resident, (son,) = await alerted(bot, ["son"])
    checkin = next(
        m for m in bot.line.messages_to(resident) if message_text(m).startswith(CHECKIN)
    )
    buttons = [p for p in _components(checkin["contents"]["footer"]) if p["type"] == "button"]
    assert [b["action"]["label"] for b in buttons] == [
        t("checkin.ok_button"),
        t("checkin.unwell_button"),
        t("checkin.help_button"),
    ]
    assert all(b["height"] == "md" for b in buttons), "full height, every answer"
    ok, unwell, help_ = buttons
    assert (ok["color"], help_["color"]) == (OK_COLOUR, HELP_COLOUR)
    assert "color" not in unwell and unwell["style"] == "secondary"
    footer = checkin["contents"]["footer"]["contents"]
    # 助けてほしい is last, under a separator, well apart from the others.
    assert footer[-2]["type"] == "separator" and footer[-1] is help_ and help_["margin"] == "xxl"

    await bot.tap(son, button(bot, son, t("alert.take_button")))
    sent = [
        m
        for call in bot.line.calls
        if call.status == 200 and isinstance(call.body, dict)
        for m in call.body.get("messages", [])
    ]
    assert _every_flex_scales(sent) >= 3, "check-ins, the alert and the reply card"
    assert bot.line.schema_errors == []


async def test_help_pressed_by_mistake_tells_the_managers_and_the_alert_stays(bot: Bot) -> None:
    resident, (son, daughter) = await watched_resident(bot, "resident", ["son", "daughter"])
    await run_to(bot, tokyo(11, 24, 9))
    await bot.tap(resident, button(bot, resident, t("checkin.help_button")))
    assert says(bot.line.reply_texts()[-1], "checkin.help_sent", names="son、daughter")
    mistake = _reply_button(bot, t("checkin.mistake_button"))
    await bot.tap(resident, mistake)
    assert says(bot.line.reply_texts()[-1], "checkin.mistake_told")
    for manager in (son, daughter):
        assert says(bot.line.texts_to(manager)[-1], "alert.mistake_notice", name="resident")
    member = await member_of(bot, resident)
    async with bot.repos() as repos:
        checkin = await repos.rounds.open_round(member.id)
    assert stage_of(checkin) is Stage.HELP, "still theirs to close"

    # A second tap tells nobody twice.
    told_before = len(bot.line.texts_to(son))
    await bot.tap(resident, mistake)
    assert says(bot.line.reply_texts()[-1], "checkin.mistake_late")
    assert len(bot.line.texts_to(son)) == told_before

    # The son calls, and closes it himself from the reply to 対応します.
    await bot.tap(son, button(bot, son, t("alert.take_button")))
    await bot.tap_reply_button(son, t("alert.safe_button"))
    assert says(bot.line.reply_texts()[-1], "alert.confirmed_you", name="resident")
    assert says(bot.line.texts_to(daughter)[-1], "alert.confirmed_notice", taker="son")
    async with bot.repos() as repos:
        assert await repos.rounds.open_round(member.id) is None


async def test_a_mistake_button_from_another_round_or_person_tells_nobody(bot: Bot) -> None:
    resident, (son,) = await watched_resident(bot, "resident", ["son"])
    await run_to(bot, tokyo(11, 24, 9))
    await bot.tap(resident, button(bot, resident, t("checkin.help_button")))
    mistake = _reply_button(bot, t("checkin.mistake_button"))
    await bot.tap(resident, button(bot, resident, t("checkin.ok_button")))
    await bot.tap_reply_button(resident, t("checkin.recovered_button"))
    told_before = len(bot.line.texts_to(son))
    await bot.tap(resident, mistake)  # the alert closed with her 「もう大丈夫」
    assert says(bot.line.reply_texts()[-1], "checkin.mistake_late")
    await bot.tap(son, mistake)  # not his call for help
    assert says(bot.line.reply_texts()[-1], "checkin.mistake_late")
    assert len(bot.line.texts_to(son)) == told_before


# -- the first minutes ---------------------------------------------------------------------


async def test_the_greeting_starts_every_day_at_nine_with_one_tap(bot: Bot) -> None:
    resident = await bot.follow("resident")
    await bot.tap_reply_button(resident, t("follow.start_button"))
    assert says(bot.line.reply_texts()[-1], "schedule.saved", schedule=JA.schedule(1, 9))
    member = await member_of(bot, resident)
    assert (member.interval_days, member.checkin_hour) == (1, 9)


async def test_the_family_sets_the_time_and_she_is_told_and_can_change_it(bot: Bot) -> None:
    resident = await bot.follow("resident")
    await bot.tap_reply_button(resident, t("follow.family_button"))
    assert says(bot.line.reply_texts()[-1], "schedule.family_waiting")
    codes = await create_team(bot, resident, "母の見守り", as_user=True)
    daughter = await bot.follow("daughter")
    await join(bot, daughter, codes["manager"])
    # The daughter is asked as she joins, with the usual times as buttons.
    asked = bot.line.messages_to(daughter)[-1]
    assert says(message_text(asked), "schedule.asked_of_manager", name="resident")
    seven = next(a for a in postbacks_in(asked) if a["label"] == JA.schedule(1, 7))
    await bot.tap(daughter, seven["data"])
    assert says(bot.line.reply_texts()[-1], "schedule.set_for", name="resident")
    told = bot.line.messages_to(resident)[-1]
    assert says(
        message_text(told),
        "schedule.set_by_manager",
        manager="daughter",
        schedule=JA.schedule(1, 7),
    )
    member = await member_of(bot, resident)
    assert (member.interval_days, member.checkin_hour) == (1, 7)
    # She can change it herself: the button opens her settings card.
    change = next(a for a in postbacks_in(told) if a["label"] == t("schedule.change_button"))
    await bot.tap(resident, change["data"])
    assert t("schedule.card_title") in bot.line.reply_texts()[-1]
    # Answered once: the daughter cannot change it again on the same request.
    six = next(a for a in postbacks_in(asked) if a["label"] == JA.schedule(1, 18))
    await bot.tap(daughter, six["data"])
    assert bot.line.reply_texts()[-1] == t("member.not_allowed")
    assert ((await member_of(bot, resident)).checkin_hour) == 7


async def test_a_request_to_choose_her_time_lasts_a_week(bot: Bot) -> None:
    """家族に設定してもらう is no standing leave: a manager who joins weeks later is not asked,
    and cannot change her schedule on the old request."""
    resident = await bot.follow("resident")
    await bot.tap_reply_button(resident, t("follow.family_button"))
    bot.clock.advance(timedelta(days=8))
    codes = await create_team(bot, resident, "母の見守り", as_user=True)
    son = await bot.follow("son")
    await join(bot, son, codes["manager"])
    assert not any(
        says(message_text(m), "schedule.asked_of_manager", name="resident")
        for m in bot.line.messages_to(son)
    )
    member = await member_of(bot, resident)
    await bot.tap_action(son, "sched_set", i=1, h=6, m=member.id)
    assert bot.line.reply_texts()[-1] == t("member.not_allowed")


async def test_a_manager_cannot_set_the_time_of_someone_who_did_not_ask(bot: Bot) -> None:
    resident, (son,) = await watched_resident(bot, "resident", ["son"])
    member = await member_of(bot, resident)
    before = (member.interval_days, member.checkin_hour)
    await bot.tap_action(son, "sched_set", i=1, h=6, m=member.id)
    assert bot.line.reply_texts()[-1] == t("member.not_allowed")
    member = await member_of(bot, resident)
    assert (member.interval_days, member.checkin_hour) == before


async def test_schedule_and_pause_are_one_card_of_big_buttons(bot: Bot) -> None:
    resident, _ = await watched_resident(bot, "resident", ["son"])
    await bot.tap_action(resident, "sched")
    (card,) = bot.line.replies[-1].body["messages"]
    assert card["type"] == "flex"
    labels = [a["label"] for a in postbacks_in(card)]
    assert labels[:2] == [JA.schedule(1, 9), JA.schedule(1, 7)]
    assert t("pause.button") in labels and t("schedule.more") in labels
    await bot.tap_reply_button(resident, JA.schedule(2, 9))
    member = await member_of(bot, resident)
    assert (member.interval_days, member.checkin_hour) == (2, 9)


async def test_a_pause_until_she_is_home_reminds_her_weekly_and_ends_with_one_tap(
    bot: Bot,
) -> None:
    resident, (son,) = await watched_resident(bot, "resident", ["son"])
    await bot.tap_action(resident, "pause_menu")  # the rich menu's お休み・再開
    await bot.tap_reply_button(resident, t("pause.until_home"))
    assert says(bot.line.reply_texts()[-1], "pause.saved_open")
    assert says(bot.line.texts_to(son)[-1], "stopped.paused_open", name="resident")
    member = await member_of(bot, resident)
    today = bot.clock.now().astimezone(TOKYO).date()
    assert member.paused_until == today + timedelta(days=PAUSE_MAX_DAYS), "the same maximum"

    start = bot.clock.now()
    await run_to(bot, start + timedelta(days=6, hours=23))
    assert checkins_to(bot, resident) == []
    assert not any(says(x, "pause.reminder") for x in bot.line.texts_to(resident))
    await run_to(bot, start + timedelta(days=7))
    assert [x for x in bot.line.texts_to(resident) if says(x, "pause.reminder")] != []
    await run_to(bot, start + timedelta(days=15))
    reminders = [
        m for m in bot.line.messages_to(resident) if says(message_text(m), "pause.reminder")
    ]
    assert len(reminders) == 2, "once a week, no more"
    assert checkins_to(bot, resident) == []

    # The menu shows where things stand and the way back.
    await bot.tap_action(resident, "pause_menu")
    assert says(bot.line.reply_texts()[-1], "pause.now", state=t("checkins.paused_open"))
    resume = next(a for a in postbacks_in(reminders[-1]) if a["label"] == t("pause.resume_button"))
    await bot.tap(resident, resume["data"])
    assert says(bot.line.reply_texts()[-1], "pause.resumed")
    await run_to(bot, start + timedelta(days=30))
    assert checkins_to(bot, resident) != []
    assert (
        len([m for m in bot.line.messages_to(resident) if says(message_text(m), "pause.reminder")])
        == 2
    )


async def test_my_page_pauses_until_she_is_home(bot: Bot) -> None:
    resident, (son,) = await watched_resident(bot, "resident", ["son"])
    page = Page(bot, resident, "resident")
    await page.accept_terms()
    status, body = await page.call("POST", "/liff/api/me/pause", {"open_ended": True})
    assert status == 200, body
    assert says(bot.line.texts_to(son)[-1], "stopped.paused_open", name="resident")
    _, me = await page.call("GET", "/liff/api/me")
    assert me["member"]["checkins"] == "paused_open"
    assert me["member"]["paused_label"] == t("checkins.paused_open")
    status, _ = await page.call("POST", "/liff/api/me/resume", {})
    assert status == 200


# -- やさしい日本語 --------------------------------------------------------------------------


async def test_easy_japanese_is_chosen_in_the_chat_and_the_check_in_speaks_it(bot: Bot) -> None:
    resident, (son,) = await watched_resident(bot, "resident", ["son"])
    await bot.tap_action(resident, "lang_ask")
    names = [a["label"] for a in bot.last_reply_postbacks()]
    assert names == [JA.t("language.name"), EASY.t("language.name"), EN.t("language.name")]
    await bot.tap_reply_button(resident, EASY.t("language.name"))
    assert says(bot.line.reply_texts()[-1], "language.saved", EASY, name=EASY.t("language.name"))
    await run_to(bot, tokyo(11, 24, 9))
    checkin = next(
        m
        for m in bot.line.messages_to(resident)
        if any(a["label"] == "OK" for a in postbacks_in(m))
    )
    labels = [a["label"] for a in postbacks_in(checkin)]
    assert labels == [EASY.t(f"checkin.{k}_button") for k in ("ok", "unwell", "help")]
    # Her son still reads his own language.
    await run_to(bot, tokyo(11, 25, 9))
    await run_to(bot, tokyo(11, 25, 12))
    assert says(bot.line.texts_to(son)[-1], "alert.body", JA, name="resident")


async def test_a_relative_who_reads_easy_japanese_gets_the_alert_and_its_steps_in_it(
    bot: Bot,
) -> None:
    resident, (son,) = await watched_resident(bot, "resident", ["son"])
    await bot.tap_action(son, "lang_ask")
    await bot.tap_reply_button(son, EASY.t("language.name"))
    await run_to(bot, tokyo(11, 24, 9))
    await run_to(bot, tokyo(11, 25, 9))
    await run_to(bot, tokyo(11, 25, 12))
    alert = next(
        m
        for m in reversed(bot.line.messages_to(son))
        if any(a["label"] == EASY.t("alert.take_button") for a in postbacks_in(m))
    )
    assert says(message_text(alert), "alert.body", EASY, name="resident")
    take = next(a for a in postbacks_in(alert) if a["label"] == EASY.t("alert.take_button"))
    await bot.tap(son, take["data"])
    assert says(bot.line.reply_texts()[-1], "alert.taken_you", EASY, name="resident")
    await bot.tap_reply_button(son, EASY.t("alert.safe_button"))
    assert says(bot.line.reply_texts()[-1], "alert.confirmed_you", EASY, name="resident")


async def test_easy_japanese_is_chosen_on_my_page(bot: Bot) -> None:
    resident, _ = await watched_resident(bot, "resident", ["son"])
    page = Page(bot, resident, "resident")
    await page.accept_terms()
    _, me = await page.call("GET", "/liff/api/me")
    assert me["languages"]["ja-x-easy"] == EASY.t("language.name")
    assert (await page.call("PUT", "/liff/api/me/language", {"language": "klingon"}))[0] == 400
    status, _ = await page.call("PUT", "/liff/api/me/language", {"language": "ja-x-easy"})
    assert status == 200
    _, me = await page.call("GET", "/liff/api/me")
    assert me["language"] == "ja-x-easy"
    assert (await member_of(bot, resident)).language == "ja-x-easy"
