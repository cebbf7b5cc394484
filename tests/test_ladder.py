"""The 安否通知 ladder end to end: check-in, re-send at 24 h, alert at +3 h, OK, safe notice."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from tests.conftest import Bot
from tests.drivers import (
    ALERT,
    CHECKIN,
    MINUTE,
    RESEND,
    checkins_to,
    create_team,
    join,
    member_of,
    ok_data,
    run_to,
    tokyo,
    watched_resident,
)
from tests.wording import EN, JA, says, t, when

TOKYO = ZoneInfo("Asia/Tokyo")


async def two_teams(bot: Bot) -> tuple[str, str, str]:
    """A resident who is a user in two teams, each with its own manager."""
    resident, (first,) = await watched_resident(bot, "resident", ["daughter"])
    second = await bot.follow("minsei-iin")
    codes = await create_team(bot, second, "民生委員 3地区", as_user=False)
    await join(bot, resident, codes["user"])
    return resident, first, second


async def test_whole_ladder_with_two_managers_in_two_teams(bot: Bot) -> None:
    resident, first, second = await two_teams(bot)
    bot.line.clear()

    await run_to(bot, tokyo(11, 24, 9))
    assert checkins_to(bot, resident) == [bot.line.texts_to(resident)[0]]
    assert bot.line.texts_to(resident)[0].startswith(CHECKIN)

    await run_to(bot, tokyo(11, 25, 9) - MINUTE)
    assert len(checkins_to(bot, resident)) == 1, "no re-send before 24 h"
    await run_to(bot, tokyo(11, 25, 9))
    assert checkins_to(bot, resident)[1].startswith(RESEND)

    await run_to(bot, tokyo(11, 25, 12) - MINUTE)
    assert bot.line.texts_to(first) == [] and bot.line.texts_to(second) == []
    await run_to(bot, tokyo(11, 25, 12))
    for manager in (first, second):
        (alert,) = bot.line.texts_to(manager)
        assert ALERT in alert
        # Who, the check-in that went unanswered, and that no OK ever came.
        slot, never = when(tokyo(11, 24, 9)), JA.t("time.never")
        assert says(alert, "alert.body", name="resident", slot=slot, last_ok=never)
        message = bot.line.messages_to(manager)[0]
        uris = [b["action"].get("uri") for b in message["contents"]["footer"]["contents"]]
        # One way to the person's details: her card on My page (the chat's card button is
        # left out where My page exists).
        resident_id = (await member_of(bot, resident)).id
        assert uris[-1] == f"https://liff.line.me/1650000000-testliff/card/{resident_id}"
        labels = [b["action"]["label"] for b in message["contents"]["footer"]["contents"]]
        assert t("alert.details_button") not in labels

    bot.clock.advance(timedelta(hours=2))
    await bot.tap(resident, ok_data(bot, resident, 0))
    assert says(bot.line.reply_texts()[-2], "checkin.thanks")
    assert bot.line.reply_texts()[-1] == t("checkin.managers_told")
    for manager in (first, second):
        alert, safe = bot.line.texts_to(manager)
        assert says(safe, "safe.body", name="resident", at=when(tokyo(11, 25, 14)))

    # The slot of 11/25 fell while the round was open: the cadence resumes on 11/26 9:00.
    await run_to(bot, tokyo(11, 26, 9) - MINUTE)
    assert len(checkins_to(bot, resident)) == 2
    await run_to(bot, tokyo(11, 26, 9))
    assert checkins_to(bot, resident)[2].startswith(CHECKIN)
    assert len(bot.line.texts_to(first)) == 2, "no alert or notice without cause"


async def test_ok_before_resend_closes_round_and_nobody_is_alerted(bot: Bot) -> None:
    resident, (manager,) = await watched_resident(bot, "resident", ["son"])
    await run_to(bot, tokyo(11, 24, 9))
    bot.clock.advance(timedelta(hours=5))
    await bot.tap(resident, ok_data(bot, resident))
    assert says(bot.line.reply_texts()[-1], "checkin.thanks", next=when(tokyo(11, 25, 9)))
    await run_to(bot, tokyo(11, 25, 12, 30))
    assert len(checkins_to(bot, resident)) == 2  # 11/24 and the next day's, no re-send
    assert all(not t.startswith(RESEND) for t in checkins_to(bot, resident))
    assert [t for t in bot.line.texts_to(manager) if ALERT in t] == []


async def test_a_message_or_sticker_is_a_sign_of_life_not_an_ok(bot: Bot) -> None:
    from tests import line_webhook as hook

    resident, (manager,) = await watched_resident(bot, "resident", ["son"])
    await run_to(bot, tokyo(11, 24, 9))
    await bot.post(hook.sticker(resident, bot.clock.now()))
    # The check-in still waits: the answer buttons come again, and the ladder runs on.
    assert bot.line.reply_texts()[-2] == t("words.ask_again")
    assert bot.last_reply_postbacks()[0]["label"] == t("checkin.ok_button")
    await run_to(bot, tokyo(11, 25, 9))
    assert [t[:6] for t in checkins_to(bot, resident)] == [CHECKIN[:6], RESEND[:6]]
    assert bot.line.texts_to(manager) == []

    # A text while no round is open is just a message: the menu answers.
    await bot.tap(resident, ok_data(bot, resident))
    await bot.say(resident, "こんにちは")
    assert bot.line.reply_texts()[-1] == t("menu.prompt")


async def test_double_tap_and_old_round(bot: Bot) -> None:
    resident, (manager,) = await watched_resident(bot, "resident", ["son"])
    await run_to(bot, tokyo(11, 24, 9))
    first_ok = ok_data(bot, resident)
    await bot.tap(resident, first_ok)
    await bot.tap(resident, first_ok)
    assert says(bot.line.reply_texts()[-1], "checkin.already", slot=when(tokyo(11, 24, 9)))

    # Yesterday's button tapped while today's round is open: the person is there now.
    await run_to(bot, tokyo(11, 25, 9))
    await bot.tap(resident, first_ok)
    assert says(bot.line.reply_texts()[-1], "checkin.thanks")
    await run_to(bot, tokyo(11, 26, 12, 5))
    assert all(not t.startswith(RESEND) for t in checkins_to(bot, resident))
    assert bot.line.texts_to(manager) == []


async def test_ok_from_someone_without_that_round_changes_nothing(bot: Bot) -> None:
    resident, (manager,) = await watched_resident(bot, "resident", ["son"])
    await run_to(bot, tokyo(11, 24, 9))
    data = ok_data(bot, resident)
    # The manager taps a forwarded OK: it is not their round, the resident's stays open.
    await bot.tap(manager, data)
    assert says(bot.line.reply_texts()[-1], "checkin.already")
    await run_to(bot, tokyo(11, 25, 9))
    await run_to(bot, tokyo(11, 25, 12))
    assert any(ALERT in t for t in bot.line.texts_to(manager))


async def test_tampered_postback_changes_nothing(bot: Bot) -> None:
    resident, (manager,) = await watched_resident(bot, "resident", ["son"])
    await run_to(bot, tokyo(11, 24, 9))
    data = ok_data(bot, resident)
    forged = data.replace("t=", "t=1")
    for bad in (forged, "a=ok&t=1764000000", "", "a=ok&t=1&s=AAAAAAAAAAAAAAAA", "x" * 300):
        await bot.tap(resident, bad)
        assert bot.line.reply_texts()[-1] == t("postback.invalid")
    await run_to(bot, tokyo(11, 25, 9))
    await run_to(bot, tokyo(11, 25, 12))
    assert any(ALERT in t for t in bot.line.texts_to(manager)), "the round stayed open"


async def test_schedule_changed_mid_round(bot: Bot) -> None:
    resident, (manager,) = await watched_resident(bot, "resident", ["son"])
    await run_to(bot, tokyo(11, 24, 9))
    bot.clock.advance(timedelta(hours=1))
    await bot.tap_action(resident, "sched")
    await bot.tap_reply_button(resident, t("schedule.more"))
    await bot.tap_reply_button(resident, t("schedule.interval_choice", days=3))
    await bot.tap_reply_button(resident, t("schedule.pm"))
    await bot.tap_reply_button(resident, t("schedule.hour_choice", hour=17))
    saved = bot.line.reply_texts()[-1]
    schedule, first = JA.schedule(3, 17), when(tokyo(11, 24, 17))
    assert says(saved, "schedule.saved", schedule=schedule, next=first)
    assert t("schedule.open_round_continues") in saved

    # The open round keeps its ladder; the new schedule's slot while it is open is skipped.
    await run_to(bot, tokyo(11, 24, 17))
    assert len(checkins_to(bot, resident)) == 1
    await run_to(bot, tokyo(11, 25, 9))
    assert checkins_to(bot, resident)[-1].startswith(RESEND)
    await bot.tap(resident, ok_data(bot, resident))
    await run_to(bot, tokyo(11, 27, 17) - MINUTE)
    assert len(checkins_to(bot, resident)) == 2
    await run_to(bot, tokyo(11, 27, 17))
    assert checkins_to(bot, resident)[-1].startswith(CHECKIN)
    await run_to(bot, tokyo(11, 28, 17))
    await run_to(bot, tokyo(11, 30, 17))
    sent = checkins_to(bot, resident)
    assert len(sent) == 4 and sent[-1].startswith(RESEND), "11/30 is skipped: 11/27 is open"


async def test_user_in_no_team_gets_checkins_and_is_told_nobody_is_alerted(bot: Bot) -> None:
    resident = await bot.follow("alone")
    await bot.tap_action(resident, "sched_set", i=2, h=7)
    assert says(bot.line.reply_texts()[-1], "schedule.saved", schedule=JA.schedule(2, 7))
    await bot.tap_action(resident, "status")
    assert t("status.nobody_alerted") in bot.line.reply_texts()[-1]
    await run_to(bot, tokyo(11, 24, 7))
    assert checkins_to(bot, resident)[0].startswith(CHECKIN)
    await run_to(bot, tokyo(11, 25, 7))
    assert checkins_to(bot, resident)[1].startswith(RESEND)
    await run_to(bot, tokyo(11, 25, 10))
    await bot.tap_action(resident, "status")
    assert t("status.round.alerted") in bot.line.reply_texts()[-1]
    assert bot.line.pushes[-1].body["to"] == resident  # nobody else got anything


async def test_manager_sees_last_ok_and_details(bot: Bot) -> None:
    resident, (manager,) = await watched_resident(bot, "resident", ["son"])
    await run_to(bot, tokyo(11, 24, 9))
    await bot.tap(resident, ok_data(bot, resident))
    await bot.tap_action(manager, "teams")
    await bot.tap_reply_button(manager, "residentの家族")
    await bot.tap_reply_button(manager, t("team.members_button"))
    listing = bot.line.reply_texts()[-1]
    assert says(listing, "team.user_line", name="resident", last_ok=when(tokyo(11, 24, 9)))

    await bot.tap_action(manager, "member", m=1)
    assert says(bot.line.reply_texts()[-1], "status.other", name="resident")
    stranger = await bot.follow("stranger")
    await bot.tap_action(stranger, "member", m=1)
    assert bot.line.reply_texts()[-1] == t("member.not_allowed")


async def test_unfollow_stops_checkins_and_tells_managers(bot: Bot) -> None:
    from tests import line_webhook as hook

    resident, (manager,) = await watched_resident(bot, "resident", ["son"])
    await run_to(bot, tokyo(11, 24, 9))
    await bot.post(hook.unfollow(resident, bot.clock.now()))
    (notice,) = bot.line.texts_to(manager)
    assert says(notice, "stopped.unfollow", name="resident")
    await run_to(bot, tokyo(11, 28, 9))
    assert len(checkins_to(bot, resident)) == 1
    assert len(bot.line.texts_to(manager)) == 1, "no alert for a cancelled round"

    await bot.post(hook.follow(resident, bot.clock.now(), unblocked=True))
    assert says(bot.line.reply_texts()[-2], "follow.welcome_back")
    await run_to(bot, tokyo(11, 29, 9))
    assert len(checkins_to(bot, resident)) == 2, "check-ins resume at the next hour"


async def test_stopping_checkins_tells_managers(bot: Bot) -> None:
    resident, (manager,) = await watched_resident(bot, "resident", ["son"])
    await bot.tap_action(resident, "sched_stop")
    assert bot.line.reply_texts()[-1] == t("schedule.stopped")
    assert says(bot.line.texts_to(manager)[-1], "stopped.stopped", name="resident")
    await run_to(bot, tokyo(11, 30, 9))
    assert checkins_to(bot, resident) == []


async def test_english_speaker_gets_english(bot: Bot) -> None:
    resident = await bot.follow("visitor", language="en")
    (greeting,) = bot.line.replies[-1].body["messages"]  # one card: the start button in view
    assert says(bot.line.reply_texts()[-1], "follow.greeting", EN) and greeting["type"] == "flex"
    await bot.tap_action(resident, "sched_set", i=1, h=10)
    await run_to(bot, tokyo(11, 24, 10))
    assert checkins_to(bot, resident) == []
    assert bot.line.texts_to(resident)[0].startswith(EN.t("checkin.title"))


async def test_year_end_checkins_every_three_days_at_midnight(bot: Bot) -> None:
    bot.clock.set(tokyo(12, 29, 12))
    resident = await bot.follow("resident")
    await bot.tap_action(resident, "sched_set", i=3, h=0)
    assert says(bot.line.reply_texts()[-1], "schedule.saved", next=when(tokyo(12, 30, 0)))
    for day in ((12, 30), (1, 2), (1, 5)):
        year = 2027 if day[0] == 1 else 2026
        await run_to(bot, tokyo(*day, 0, year=year) - MINUTE)
        count = len(checkins_to(bot, resident))
        await run_to(bot, tokyo(*day, 0, year=year))
        assert len(checkins_to(bot, resident)) == count + 1, day
        await bot.tap(resident, ok_data(bot, resident))


async def test_a_manager_who_blocked_the_bot_is_not_alerted(bot: Bot) -> None:
    from tests import line_webhook as hook

    resident, (son, daughter) = await watched_resident(bot, "resident", ["son", "daughter"])
    await bot.post(hook.unfollow(son, bot.clock.now()))
    await run_to(bot, tokyo(11, 24, 9))
    await run_to(bot, tokyo(11, 25, 9))
    await run_to(bot, tokyo(11, 25, 12))
    assert not any(ALERT in t for t in bot.line.texts_to(son))
    assert any(ALERT in t for t in bot.line.texts_to(daughter))
