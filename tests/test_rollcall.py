"""災害時の安否確認: a roll-call of everyone, answered, tallied live, asked again of the silent."""

from __future__ import annotations

import re
from datetime import timedelta

from tests.conftest import Bot
from tests.drivers import (
    Group,
    add_admin,
    answer_button,
    area_team,
    csrf,
    exported,
    login,
    run_to,
    start_roll_call,
    tokyo,
    watched_resident,
)
from tests.fake_line import postbacks_in
from tests.wording import JA, said, says, t

MULTICAST = "/v2/bot/message/multicast"


async def test_a_roll_call_to_1200_residents_goes_out_as_three_multicasts(bot: Bot) -> None:
    team_id, _ = await area_team(bot, "団地", 1200)
    await add_admin(bot)
    await login(bot.client)
    await start_roll_call(bot, audience="teams", team_id=[team_id])
    sizes = sorted(len(c.body["to"]) for c in bot.line.multicasts)
    assert sizes == [200, 500, 500]
    assert all(t("rollcall.title") in str(c.body["messages"]) for c in bot.line.multicasts)


async def test_answers_tally_by_team_and_help_reaches_the_managers_at_once(bot: Bot) -> None:
    resident, (son,) = await watched_resident(bot, "resident", ["son"])
    east, east_people = await area_team(bot, "東町", 3)
    west, west_people = await area_team(bot, "西町", 2)
    await add_admin(bot)
    await login(bot.client)
    call = await start_roll_call(bot, audience="everyone")

    await bot.tap(resident, answer_button(bot, resident, "help"))
    assert says(bot.line.reply_texts()[-1], "rollcall.thanks_help", count=1)
    assert said(bot.line.texts_to(son), "card.rollcall_help", name="resident")
    await bot.tap(east_people[0], answer_button(bot, east_people[0], "safe"))
    await bot.tap(east_people[1], answer_button(bot, east_people[1], "shelter"))
    await bot.tap(west_people[0], answer_button(bot, west_people[0], "safe"))
    assert bot.line.reply_texts()[-1] == t("rollcall.thanks_safe")

    page = await (await bot.client.get(f"/admin/rollcalls/{call}")).text()
    counts = dict(re.findall(r'id="count-(\w+)">(\d+)<', page))
    # resident, son, 3 in the east, 2 in the west: 7 asked.
    assert counts == {"safe": "2", "help": "1", "shelter": "1", "silent": "3", "unasked": "0"}
    assert "data-live" in page, "the page follows the tally while open, in place"
    teams = re.findall(
        r"<tr><td>([^<]+)</td><td>(\d+)</td><td>(\d+)</td><td>(\d+)</td><td>(\d+)</td>"
        r"<td>(\d+)</td></tr>",
        page,
    )
    assert ("東町", "1", "0", "1", "1", "0") in teams and (
        "西町",
        "1",
        "0",
        "0",
        "1",
        "0",
    ) in teams
    assert 'class="needs-help"' in page and "son" in page

    token = await csrf(bot.client, f"/admin/rollcalls/{call}")
    await bot.client.post(f"/admin/rollcalls/{call}/close", data={"csrf_token": token})
    await bot.tap(west_people[1], answer_button(bot, west_people[1], "safe"))
    assert bot.line.reply_texts()[-1] == t("rollcall.closed")
    csv = await (await exported(bot.client, f"/admin/rollcalls/{call}/export.csv")).text()
    assert "東町" in csv and "help" in csv


async def test_only_the_silent_are_asked_again_and_only_so_often(bot: Bot) -> None:
    _, people = await area_team(bot, "町会", 3)
    await add_admin(bot)
    await login(bot.client)
    await start_roll_call(bot, audience="everyone", resend_minutes="30", resends="2")
    await bot.tap(people[0], answer_button(bot, people[0], "safe"))

    def asked(uid: str) -> int:
        return len(said(bot.line.texts_to(uid), "rollcall.body"))

    await bot.advance(timedelta(minutes=29))
    assert [asked(uid) for uid in people] == [1, 1, 1]
    await bot.advance(timedelta(minutes=1))
    assert [asked(uid) for uid in people] == [1, 2, 2], "the one who answered is not asked again"
    await bot.tap(people[1], answer_button(bot, people[1], "shelter"))
    await bot.advance(timedelta(minutes=30))
    assert [asked(uid) for uid in people] == [1, 2, 3]
    await bot.advance(timedelta(hours=5))
    assert [asked(uid) for uid in people] == [1, 2, 3], "twice, as set"


async def test_a_roll_call_leaves_an_open_check_in_round_open(bot: Bot) -> None:
    resident, (son,) = await watched_resident(bot, "resident", ["son"])
    await run_to(bot, tokyo(11, 24, 9))
    await add_admin(bot)
    await login(bot.client)
    await start_roll_call(bot, audience="everyone")
    bot.clock.advance(timedelta(minutes=10))
    await bot.tap(resident, answer_button(bot, resident, "safe"))
    async with bot.repos() as repos:
        member = await repos.members.by_line_id(resident)
        assert member is not None and member.last_ok_at == bot.clock.now(), "a sign of life"
        open_round = await repos.rounds.open_round(member.id)
        assert open_round is not None and open_round.state.value == "open"
        assert member.next_due_at == tokyo(11, 25, 9), "the schedule is untouched"


async def test_a_manager_starts_one_for_their_team_and_asks_for_the_status(bot: Bot) -> None:
    resident, (son,) = await watched_resident(bot, "resident", ["son"])
    await bot.tap_action(son, "team", t=1)
    await bot.tap_reply_button(son, t("rollcall.start_button"))
    assert says(bot.line.reply_texts()[-1], "rollcall.start_confirm", count=2)
    await bot.tap_reply_button(son, t("rollcall.start_yes"))
    assert says(bot.line.reply_texts()[-1], "rollcall.started", count=2)
    await bot.tap(resident, answer_button(bot, resident, "safe"))
    await bot.say(son, t("rollcall.status_words").split(",")[0])
    assert says(
        bot.line.reply_texts()[-1], "rollcall.status_line", safe=1, help=0, silent=1, unasked=0
    )
    # A user of the team cannot start one.
    await bot.tap_action(resident, "rc_ask", t=1)
    assert bot.line.reply_texts()[-1] == JA.t("member.not_allowed")


async def test_a_group_is_asked_with_one_post_and_answers_by_name(bot: Bot) -> None:
    town = Group(bot, "三丁目")
    aoki = town.person("aoki")
    await town.join()
    await town.say(aoki, "hi")
    await add_admin(bot)
    await login(bot.client)
    call = await start_roll_call(bot, audience="groups", group_id=["1"])
    (post,) = [c for c in bot.line.pushes if c.body["to"] == town.chat_id]
    data = next(
        a["data"]
        for a in postbacks_in(post.body["messages"][0])
        if a["label"] == t("rollcall.shelter")
    )
    await town.tap(aoki, data)
    answer = t("rollcall.shelter")
    assert bot.line.reply_texts()[-1] == t("rollcall.group_answer", name="aoki", answer=answer)
    page = await (await bot.client.get(f"/admin/rollcalls/{call}")).text()
    assert 'id="tally-groups"' in page and "aoki" in page


async def test_a_roll_call_the_quota_cannot_cover_is_refused_unless_partial(bot: Bot) -> None:
    await area_team(bot, "団地", 30)
    bot.line.quota = {"type": "limited", "value": 100}
    bot.line.quota_used = 80
    await add_admin(bot)
    await login(bot.client)
    token = await csrf(bot.client, "/admin/rollcalls")
    form = {"csrf_token": token, "audience": "everyone", "resend_minutes": "0", "resends": "0"}
    preview = await (await bot.client.post("/admin/rollcalls/preview", data=form)).text()
    assert JA.t("admin.rollcalls.short", need=30, left=20) in preview
    refused = await bot.client.post("/admin/rollcalls", data=form)
    assert refused.status == 400 and JA.t("rollcall.quota_short", need=30, left=20) in (
        await refused.text()
    )
    assert bot.line.multicasts == []
    await bot.client.post("/admin/rollcalls", data={**form, "partial": "yes"})
    await bot.settle()
    assert sum(len(c.body["to"]) for c in bot.line.multicasts) == 20


async def test_only_a_teams_manager_may_start_its_roll_call_whatever_the_button(
    bot: Bot,
) -> None:
    """The permission lives in care.broadcasts.rollcall: rc_start straight away (no rc_ask before)
    from the team's user, or from a stranger, is refused and sends nothing."""
    resident, (son,) = await watched_resident(bot, "resident", ["son"])
    stranger = await bot.follow("stranger")
    sent = len(bot.line.calls)
    for uid in (resident, stranger):
        await bot.tap_action(uid, "rc_start", t=1)
        assert bot.line.reply_texts()[-1] == JA.t("member.not_allowed")
    assert not [c for c in bot.line.calls[sent:] if c.path.endswith(("/multicast", "/push"))]
    await bot.tap_action(son, "rc_start", t=1)
    assert says(bot.line.reply_texts()[-1], "rollcall.started", count=2)
