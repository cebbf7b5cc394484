"""つながり: check-ins inside LINE groups, with the 23-hour non-responder report."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from tests.conftest import Bot
from tests.drivers import ALERT, MINUTE, Group, ok_data, run_to, tokyo, watched_resident
from tests.wording import JA, says, t, when


async def neighbourhood(bot: Bot) -> tuple[Group, dict[str, str]]:
    """A 町会 group set up for 毎日9時, with five members learnt in the ways LINE allows."""
    town = Group(bot, "三丁目町会")
    people = {name: town.person(name) for name in ("leader", "aoki", "baba", "chiba", "doi")}
    await town.join()
    intro = bot.line.reply_texts()[-2]
    assert intro == t("group.intro")
    assert t("group.menu.schedule") in str(bot.last_reply_postbacks())
    await town.set_daily(people["leader"])
    saved = bot.line.reply_texts()[-1]
    assert says(saved, "group.saved", schedule=JA.schedule(1, 9), next=when(tokyo(11, 24, 9)))
    await town.members_join(people["aoki"], people["baba"])  # joined after the bot
    await town.say(people["chiba"], "よろしくお願いします")  # learnt from a message
    await town.members_join(people["doi"])
    return town, people


async def test_post_oks_report_and_next_round(bot: Bot) -> None:
    town, people = await neighbourhood(bot)
    pushes_before = len(bot.line.pushes)
    await run_to(bot, tokyo(11, 24, 9))
    (post,) = town.checkin_posts()
    assert t("checkin.quote_label") in post

    for name in ("leader", "aoki", "chiba"):
        await town.tap(people[name], town.ok_data())
        assert bot.line.reply_texts()[-1] == t(
            "group.ok", name=name, date=JA.day(tokyo(11, 24, 9).date())
        )
    await town.tap(people["aoki"], town.ok_data())
    assert says(bot.line.reply_texts()[-1], "group.ok_again", name="aoki")

    await run_to(bot, tokyo(11, 25, 8) - MINUTE)
    assert town.reports() == []
    await run_to(bot, tokyo(11, 25, 8))
    (report,) = town.reports()
    assert says(report, "group.report_head", count=2, answered=3)
    # Named as never having answered at all, not only counted.
    assert t("group.report_line_never", name="baba") in report
    assert t("group.report_line_never", name="doi") in report
    for name in ("leader", "aoki", "chiba"):
        assert name not in report
    assert says(report, "group.report_tail", never=2)

    await run_to(bot, tokyo(11, 25, 9))
    assert len(town.checkin_posts()) == 2
    # Quota: one push for the post and one for the report per round; everything else replies.
    group_pushes = [c for c in bot.line.pushes[pushes_before:] if c.body["to"] == town.chat_id]
    assert len(group_pushes) == 3
    await town.tap(people["baba"], town.ok_data())
    await run_to(bot, tokyo(11, 26, 8))
    assert says(town.reports()[-1], "group.report_tail", never=1)  # doi; baba answered today


async def test_everyone_ok_is_said_or_kept_quiet(bot: Bot) -> None:
    town = Group(bot, "仲よし")
    a, b = town.person("a"), town.person("b")
    await town.join()
    await town.set_daily(a)
    await town.say(b, "hi")
    await run_to(bot, tokyo(11, 24, 9))
    for uid in (a, b):
        await town.tap(uid, town.ok_data())
    await run_to(bot, tokyo(11, 25, 8))
    assert town.reports() == [t("group.report_all_ok", slot=when(tokyo(11, 24, 9)), answered=2)]

    await town.tap(a, bot.codec.encode("g_quiet"))
    assert bot.line.reply_texts()[-1] == t("group.quiet_when_all_ok.on")
    await run_to(bot, tokyo(11, 25, 9))
    for uid in (a, b):
        await town.tap(uid, town.ok_data())
    await run_to(bot, tokyo(11, 26, 8))
    assert len(town.reports()) == 1


async def test_restart_between_post_and_report(start_bot: Callable[..., Awaitable[Bot]]) -> None:
    bot = await start_bot()
    town, people = await neighbourhood(bot)
    await run_to(bot, tokyo(11, 24, 9))
    bot = await start_bot()
    town.bot = bot
    await town.tap(people["aoki"], town.ok_data())
    bot = await start_bot()
    town.bot = bot
    await run_to(bot, tokyo(11, 25, 8))
    (report,) = town.reports()
    assert "aoki" not in report and t("group.report_line", name="leader") in report
    assert says(report, "group.report_head", count=4)
    assert len(town.checkin_posts()) == 1


async def test_a_500_member_group_gets_one_report_split_only_by_limits(bot: Bot) -> None:
    town = Group(bot, "大きな団地")
    names = [f"団地の住民{n:03d}番さんの長めのお名前" for n in range(500)]
    uids = [town.person(name) for name in names]
    await town.join()
    await town.set_daily(uids[0])
    for start in range(0, 500, 100):
        await town.members_join(*uids[start : start + 100])
    await run_to(bot, tokyo(11, 24, 9))
    await town.tap(uids[0], town.ok_data())
    await run_to(bot, tokyo(11, 25, 8))
    reports = [
        c
        for c in bot.line.pushes
        if c.body["to"] == town.chat_id and c.body["messages"][0]["type"] == "text"
    ]
    assert len(reports) == 1, "one push"
    texts = [m["text"] for m in reports[0].body["messages"]]
    assert 1 < len(texts) <= 5 and all(len(t) <= 5000 for t in texts)
    joined = "\n".join(texts)
    assert says(joined, "group.report_head", count=499)
    assert all(t("group.report_line", name=name) in joined for name in names[1:])
    assert t("group.report_line", name=names[0]) not in joined


async def test_removed_and_added_again_and_retention(bot: Bot) -> None:
    town, people = await neighbourhood(bot)
    await run_to(bot, tokyo(11, 24, 9))
    await town.leave()
    await run_to(bot, tokyo(11, 26, 9))
    assert len(town.checkin_posts()) == 1 and town.reports() == []

    await town.join()
    assert says(bot.line.reply_texts()[-2], "group.welcome_back", schedule=JA.schedule(1, 9))
    await run_to(bot, tokyo(11, 27, 9))
    assert len(town.checkin_posts()) == 2

    await town.leave()
    await run_to(bot, tokyo(11, 27, 9) + timedelta(days=31))
    async with bot.repos() as repos:
        assert await repos.groups.by_chat_id(town.chat_id) is None, "deleted after retention"
    await town.join()
    assert bot.line.reply_texts()[-2] == t("group.intro")


async def test_member_leaving_mid_round_is_not_reported(bot: Bot) -> None:
    town, people = await neighbourhood(bot)
    await run_to(bot, tokyo(11, 24, 9))
    await town.members_leave(people["doi"])
    await run_to(bot, tokyo(11, 25, 8))
    (report,) = town.reports()
    assert "doi" not in report and t("group.report_line", name="baba") in report


async def test_ok_on_yesterdays_post(bot: Bot) -> None:
    town, people = await neighbourhood(bot)
    await run_to(bot, tokyo(11, 24, 9))
    yesterday = town.ok_data()
    await run_to(bot, tokyo(11, 25, 8, 30))  # reported, the next post not yet out
    await town.tap(people["aoki"], yesterday)
    closed = bot.line.reply_texts()[-1]
    assert says(closed, "group.ok_closed", name="aoki", next=when(tokyo(11, 25, 9)))
    await run_to(bot, tokyo(11, 25, 9))
    await town.tap(people["aoki"], yesterday)  # counts for today's open round
    assert bot.line.reply_texts()[-1] == t(
        "group.ok", name="aoki", date=JA.day(tokyo(11, 25, 9).date())
    )
    await run_to(bot, tokyo(11, 26, 8))
    assert "aoki" not in town.reports()[-1]


async def test_schedule_changed_mid_round(bot: Bot) -> None:
    town, people = await neighbourhood(bot)
    await run_to(bot, tokyo(11, 24, 9))
    bot.clock.advance(timedelta(hours=1))
    await town.tap(people["aoki"], bot.codec.encode("g_sched"))
    await town.tap_button(people["aoki"], t("schedule.interval_choice", days=3))
    await town.tap_button(people["aoki"], t("schedule.pm"))
    await town.tap_button(people["aoki"], t("schedule.hour_choice", hour=18))
    assert says(bot.line.reply_texts()[-1], "group.saved", schedule=JA.schedule(3, 18))
    assert t("group.open_round_continues") in bot.line.reply_texts()[-1]
    await run_to(bot, tokyo(11, 24, 18))
    assert len(town.checkin_posts()) == 1, "the open round is not yet reported"
    await run_to(bot, tokyo(11, 25, 8))
    assert len(town.reports()) == 1
    await run_to(bot, tokyo(11, 27, 18) - MINUTE)
    assert len(town.checkin_posts()) == 1
    await run_to(bot, tokyo(11, 27, 18))
    assert len(town.checkin_posts()) == 2


async def test_two_groups_sharing_members(bot: Bot) -> None:
    first, second = Group(bot, "町会"), Group(bot, "老人会")
    both = first.person("both")
    second.person("both")
    only = second.person("only")
    for group in (first, second):
        await group.join()
        await group.set_daily(both)
    await second.say(only, "こんにちは")
    await run_to(bot, tokyo(11, 24, 9))
    await first.tap(both, first.ok_data())
    await run_to(bot, tokyo(11, 25, 8))
    assert says(first.reports()[-1], "group.report_all_ok", slot=when(tokyo(11, 24, 9)))
    assert t("group.report_line", name="both") in second.reports()[-1]
    assert t("group.report_line", name="only") in second.reports()[-1]


async def test_a_room_works_like_a_group(bot: Bot) -> None:
    room = Group(bot, "友だち", room=True)
    a, b = room.person("a"), room.person("b")
    await room.join()
    await room.set_daily(a)
    await room.say(b, "hello")
    await run_to(bot, tokyo(11, 24, 9))
    await room.tap(b, room.ok_data())
    assert bot.line.reply_texts()[-1] == t(
        "group.ok", name="b", date=JA.day(tokyo(11, 24, 9).date())
    )
    await run_to(bot, tokyo(11, 25, 8))
    assert t("group.report_line", name="a") in room.reports()[-1]
    assert not any("/summary" in c.path for c in bot.line.calls)


async def test_a_group_message_is_no_ok_for_either_protocol(bot: Bot) -> None:
    resident, (manager,) = await watched_resident(bot, "resident", ["son"])
    town = Group(bot, "町会")
    town.person("resident")
    leader = town.person("leader")
    await town.join()
    await town.set_daily(leader)
    await run_to(bot, tokyo(11, 24, 9))
    await town.say(resident, "元気です")  # in the group, not to the bot
    await bot.tap(resident, ok_data(bot, resident))  # the 安否通知 OK, in the 1:1 chat
    await run_to(bot, tokyo(11, 25, 8))
    silent = t("group.report_line", name="resident")
    assert silent in town.reports()[-1], "neither counts as the group's OK"

    await run_to(bot, tokyo(11, 25, 9))
    await town.tap(resident, town.ok_data())  # the group's OK
    await run_to(bot, tokyo(11, 26, 9))
    await run_to(bot, tokyo(11, 26, 12))
    assert any(ALERT in t for t in bot.line.texts_to(manager)), "nor the group OK for 安否通知"


async def test_postback_without_user_id_asks_for_a_message(bot: Bot) -> None:
    town, people = await neighbourhood(bot)
    await run_to(bot, tokyo(11, 24, 9))
    await town.tap(None, town.ok_data())
    assert bot.line.reply_texts()[-1] == t("group.needs_message")
    await town.tap(None, bot.codec.encode("g_sched"))
    assert bot.line.reply_texts()[-1] == t("group.needs_message")
    await run_to(bot, tokyo(11, 25, 8))
    assert says(town.reports()[-1], "group.report_head", answered=0)


async def test_restricted_settings_pause_resume_and_bad_postbacks(bot: Bot) -> None:
    town, people = await neighbourhood(bot)
    await town.tap(people["aoki"], bot.codec.encode("g_restrict"))
    assert bot.line.reply_texts()[-1] == t("group.only_starter")
    await town.tap(people["leader"], bot.codec.encode("g_restrict"))
    assert bot.line.reply_texts()[-1] == t("group.restricted.on")
    await town.tap(people["aoki"], bot.codec.encode("g_pause"))
    assert bot.line.reply_texts()[-1] == t("group.only_starter")

    await town.tap(people["leader"], bot.codec.encode("g_pause"))
    assert bot.line.reply_texts()[-1] == t("group.paused")
    await run_to(bot, tokyo(11, 26, 9))
    assert town.checkin_posts() == []
    await town.say(people["leader"], t("group.menu_words").split(",")[0])
    assert t("group.menu.resume") in str(bot.last_reply_postbacks())
    await town.tap_button(people["leader"], t("group.menu.resume"))
    assert bot.line.reply_texts()[-1] == t("group.resumed", next=when(tokyo(11, 27, 9)))
    await town.tap(people["leader"], bot.codec.encode("g_status"))
    status = bot.line.reply_texts()[-1]
    who = t("group.who_changes.starter")
    assert says(status, "group.status", schedule=JA.schedule(1, 9), members=5, who=who)

    await town.tap(people["aoki"], "a=gok&t=1&s=forgedsignature0")
    assert bot.line.reply_texts()[-1] == t("postback.invalid")
    await run_to(bot, tokyo(11, 27, 9))
    assert len(town.checkin_posts()) == 1


async def test_answers_beyond_ok_are_shown_by_name_and_reported_first(bot: Bot) -> None:
    town, people = await neighbourhood(bot)
    await run_to(bot, tokyo(11, 24, 9))
    unwell, help_ = t("checkin.unwell_button"), t("checkin.help_button")
    await town.tap(people["aoki"], town.ok_data())
    await town.tap(people["baba"], town.answer_data(unwell))
    assert bot.line.reply_texts()[-1] == t(
        "group.answer_unwell", name="baba", date=JA.day(tokyo(11, 24, 9).date())
    )
    await town.tap(people["chiba"], town.ok_data())
    await town.tap(people["chiba"], town.answer_data(help_))  # things changed since the OK
    assert bot.line.reply_texts()[-1] == t(
        "group.answer_help", name="chiba", date=JA.day(tokyo(11, 24, 9).date())
    )
    await town.tap(people["chiba"], town.answer_data(help_))
    assert says(bot.line.reply_texts()[-1], "group.ok_again", name="chiba")

    await run_to(bot, tokyo(11, 25, 8))
    (report,) = town.reports()
    first_help = report.index(t("group.report_attention_line", name="chiba", answer=help_))
    then_unwell = report.index(t("group.report_attention_line", name="baba", answer=unwell))
    silent = report.index(t("group.report_line", name="leader"))
    assert report.startswith(t("group.report_attention")) and first_help < then_unwell < silent
    assert says(report, "group.report_head", count=2, answered=3)


async def test_a_quiet_group_still_hears_who_is_unwell(bot: Bot) -> None:
    town = Group(bot, "仲よし")
    a, b = town.person("a"), town.person("b")
    await town.join()
    await town.set_daily(a)
    await town.say(b, "hi")
    await town.tap(a, bot.codec.encode("g_quiet"))
    await run_to(bot, tokyo(11, 24, 9))
    await town.tap(a, town.ok_data())
    await town.tap(b, town.answer_data(t("checkin.unwell_button")))
    await run_to(bot, tokyo(11, 25, 8))
    (report,) = town.reports()
    assert t("group.report_attention") in report
    # Never 「みなさん OK」 right after naming someone who is not.
    assert says(report, "group.report_all_answered", answered=2)
    assert not says(report, "group.report_all_ok")


async def test_a_group_may_choose_one_summary_instead_of_a_reply_per_ok(bot: Bot) -> None:
    town = Group(bot, "仲よし")
    a, b, c = town.person("a"), town.person("b"), town.person("c")
    await town.join()
    await town.set_daily(a)
    await town.say(b, "hi")
    await town.say(c, "hi")
    # The settings show as they are, each with the button that changes it.
    await town.tap(a, bot.codec.encode("g_menu"))
    settings = bot.line.reply_texts()[-1]
    assert t("group.summary.off") in settings and t("group.report_when_all_ok.on") in settings
    change = next(
        p for p in bot.last_reply_postbacks() if p["label"] == t("group.menu.change_summary")
    )
    await town.tap(a, change["data"])
    assert bot.line.reply_texts()[-1] == t("group.summary_only.on")
    await town.tap(a, bot.codec.encode("g_menu"))
    assert t("group.summary.on") in bot.line.reply_texts()[-1]

    await run_to(bot, tokyo(11, 24, 9))
    replies = len(bot.line.replies)
    for uid in (a, b):
        await town.tap(uid, town.ok_data())
    assert len(bot.line.replies) == replies, "no reply to each OK"
    await run_to(bot, tokyo(11, 25, 8))
    (report,) = town.reports()
    assert t("group.report_said_ok", names="a、b") in report
    assert (
        t("group.report_line", name="c") in report
        or t("group.report_line_never", name="c") in report
    )
