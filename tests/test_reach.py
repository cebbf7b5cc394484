"""Honest reach (issue 40): a notice or a roll-call says whom it reaches in LINE, by phone, and
whom it cannot reach and why; what the fake LINE and the fake Twilio receive is what it said.
The tally says who was never asked; the dashboard's 友だち are LINE's; お返事の割合 is one
figure on the dashboard and in the monthly report; a notice's audience is always chosen."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest

from ground.channels import NOT_ON_LINE
from tests import line_webhook as hook
from tests.conftest import Bot
from tests.drivers import (
    act,
    answer_button,
    area_team,
    button,
    case_ids,
    csrf,
    exported,
    run_to,
    staff_signed_in,
    start_roll_call,
    team_with_landline_resident,
    tokyo,
    watched_resident,
)
from tests.fake_twilio import FakeTwilio, calling_through
from tests.wording import says, t

WORDS = "admin.reach40"
NEWS = "【お知らせ】あすの防災訓練は中止です。"


@pytest.fixture
async def bot(start_bot: Callable[..., Awaitable[Bot]], twilio: FakeTwilio) -> Bot:
    return await start_bot(**calling_through(twilio, call_budget=20))


async def district(bot: Bot) -> tuple[str, list[str]]:
    """Team 1: a resident watched by phone alone and her son on LINE (the desk signed in);
    team 2, 東町: two residents on LINE, the second of whom blocked the account.
    -> (her son, 東町's residents)."""
    _, son = await team_with_landline_resident(bot)
    _, east = await area_team(bot, "東町", 2)
    await bot.post(hook.unfollow(east[1], bot.clock.now()))
    return son, east


async def preview(bot: Bot, path: str, **form: str | list[str]) -> tuple[int, str]:
    body = [("csrf_token", await csrf(bot.client, "/admin/notices"))]
    body += [(k, v) for k, v in form.items() if isinstance(v, str)]
    body += [(k, item) for k, v in form.items() if isinstance(v, list) for item in v]
    response = await bot.client.post(path, data=body)
    return response.status, await response.text()


def no_line_request_names(bot: Bot, *who: str) -> None:
    for call in bot.line.calls:
        for name in (NOT_ON_LINE, *who):
            assert name not in str(call.body), (call.path, name)


async def test_a_notice_to_teams_says_who_it_reaches_and_sends_just_that(
    bot: Bot, twilio: FakeTwilio
) -> None:
    son, (neighbour, blocked) = await district(bot)
    calls_before, requests_before = len(twilio.calls), len(bot.line.calls)
    form = {"text": NEWS, "audience": "teams", "team_id": ["1", "2"]}
    status, page = await preview(bot, "/admin/notices/preview", **form)
    assert status == 200
    assert t(f"{WORDS}.line", count=2) in page
    assert t(f"{WORDS}.not_reached", count=2) in page
    assert t(f"{WORDS}.unreached.notice.phone_only", count=1) in page
    assert t(f"{WORDS}.unreached.notice.blocked", count=1) in page
    assert t(f"{WORDS}.by_phone", count=1) not in page, "a notice is never read on a call"
    assert t("admin.notices.cost", recipients=2, requests=1) in page

    body = {"csrf_token": await csrf(bot.client, "/admin/notices"), "text": NEWS}
    sent = [*body.items(), ("audience", "teams"), ("team_id", "1"), ("team_id", "2")]
    response = await bot.client.post("/admin/notices/send", data=sent, allow_redirects=False)
    assert response.status == 303
    await bot.settle()
    assert NEWS in bot.line.texts_to(son) and NEWS in bot.line.texts_to(neighbour)
    assert NEWS not in bot.line.texts_to(blocked)
    assert len(twilio.calls) == calls_before, "nobody is rung to have a notice read"
    (multicast,) = [c for c in bot.line.calls[requests_before:] if "multicast" in c.path]
    assert sorted(multicast.body["to"]) == sorted([son, neighbour])
    no_line_request_names(bot, blocked)

    # The notices sent say it as the preview did.
    listed = await (await bot.client.get("/admin/notices")).text()
    row = listed.split('<table id="notices"')[1]
    assert t(f"{WORDS}.line_short", count=2) in row
    assert t(f"{WORDS}.not_reached_short", count=2) in row


async def test_everyone_is_line_s_friends_and_the_phone_only_are_said_apart(
    bot: Bot, twilio: FakeTwilio
) -> None:
    son, (neighbour, blocked) = await district(bot)
    status, page = await preview(bot, "/admin/notices/preview", text=NEWS, audience="everyone")
    assert status == 200
    # Her son and the neighbour; she is watched by phone, the other blocked the account.
    assert t(f"{WORDS}.line", count=2) in page
    assert t(f"{WORDS}.unreached.notice.phone_only", count=1) in page
    assert t(f"{WORDS}.unreached.notice.blocked", count=1) in page
    assert t("admin.notices.cost", recipients=2, requests=1) in page

    dashboard = await (await bot.client.get("/admin/")).text()
    assert re.search(r'id="count-friends"><span>[^<]+</span><strong>2<', dashboard)
    assert re.search(r'id="count-phone_only"><span>[^<]+</span><strong>1<', dashboard)
    assert t(f"{WORDS}.count_phone_only") in dashboard


async def test_a_notice_to_one_person_watched_by_phone_says_it_cannot_reach_her(
    bot: Bot, twilio: FakeTwilio
) -> None:
    member_id, _ = await team_with_landline_resident(bot)
    calls_before = len(twilio.calls)
    form = {"text": NEWS, "audience": "person", "member_id": str(member_id)}
    status, page = await preview(bot, "/admin/notices/preview", **form)
    assert status == 200
    assert t("admin.notice_problem.nobody") in page
    assert t(f"{WORDS}.unreached.notice.phone_only", count=1) in page
    body = [("csrf_token", await csrf(bot.client, "/admin/notices")), *form.items()]
    response = await bot.client.post("/admin/notices/send", data=body)
    assert response.status == 400
    assert await response.text() == t("admin.notice_problem.nobody")
    await bot.settle()
    assert len(twilio.calls) == calls_before
    async with bot.repos() as repos:
        assert await repos.admin.notices() == []


async def test_a_roll_call_names_whom_it_never_asked_and_rings_the_phone_only(
    bot: Bot, twilio: FakeTwilio
) -> None:
    """Issue 41: she is watched by phone alone, and the roll-call rings her (counted by
    phone, then silent until she answers); the one who blocked the account is never asked."""
    son, (neighbour, blocked) = await district(bot)
    calls_before = len(twilio.calls)
    form = {"audience": "everyone", "resend_minutes": "60", "resends": "1", "close_hours": "24"}
    status, page = await preview(bot, "/admin/rollcalls/preview", **form)
    assert status == 200
    assert t(f"{WORDS}.line", count=2) in page
    assert t(f"{WORDS}.by_phone", count=1) in page
    assert t(f"{WORDS}.unreached.rollcall.phone_only", count=1) not in page
    assert t(f"{WORDS}.unreached.rollcall.blocked", count=1) in page
    assert t("admin.notices.cost", recipients=2, requests=1) in page
    assert t("admin.rollcalls.with_reasks", cost=4, reasks=1) in page

    call = await start_roll_call(bot, **form)
    assert answer_button(bot, neighbour, "safe"), "the question reached her in LINE"
    assert len(twilio.calls) == calls_before + 1, "and rang the resident's landline"
    await bot.tap(son, answer_button(bot, son, "safe"))
    tally = await (await bot.client.get(f"/admin/rollcalls/{call}")).text()
    counts = dict(re.findall(r'id="count-(\w+)">(\d+)<', tally))
    assert counts == {"safe": "1", "help": "0", "shelter": "0", "silent": "2", "unasked": "1"}
    unasked = tally.split('id="tally-unasked"')[1].split("</table>")[0]
    assert re.findall(r'data-why="(\w+)"', unasked) == ["blocked"]
    assert t(f"{WORDS}.unasked_title") in tally
    silent = tally.split('id="tally-silent"')[1].split("</ul>")[0]
    assert "東町 0" in silent and "+81312345678" in silent

    # The re-ask an hour later goes in LINE to the silent who were asked in LINE: the
    # neighbour alone (the resident's call rang once more on its own time).
    before = len(bot.line.texts_to(neighbour)), len(bot.line.texts_to(son))
    await bot.advance(timedelta(minutes=61))
    assert len(bot.line.texts_to(neighbour)) == before[0] + 1
    assert len(bot.line.texts_to(son)) == before[1]
    assert len(twilio.calls) == calls_before + 2, "her call, and its one call again"
    no_line_request_names(bot, blocked)

    export = await exported(bot.client, f"/admin/rollcalls/{call}/export.csv", "disaster")
    lines = (await export.text()).lstrip("\ufeff").splitlines()
    assert lines[0].endswith(",not_asked")
    assert sorted(line.rsplit(",", 1)[1] for line in lines[1:]) == ["", "", "", "blocked"]

    report = await (await bot.client.get("/admin/report.csv")).text()
    assert "roll_call_asked,3" in report, "asked: those the question reached"


async def test_the_notice_form_has_no_audience_chosen_and_says_so_when_none_is(
    bot: Bot, twilio: FakeTwilio
) -> None:
    await district(bot)
    form_page = await (await bot.client.get("/admin/notices")).text()
    radios = re.findall(r'<input type="radio" name="audience"[^>]*>', form_page)
    assert len(radios) == 4 and not any("checked" in radio for radio in radios)
    assert all("required" in radio for radio in radios)
    # A roll-call's form still starts at everyone: a disaster asks everyone first.
    rollcalls = await (await bot.client.get("/admin/rollcalls")).text()
    assert 'value="everyone" checked' in rollcalls

    status, page = await preview(bot, "/admin/notices/preview", text=NEWS, team_id=["2"])
    assert status == 400
    assert t(f"{WORDS}.choose_audience") in page
    assert f">{NEWS}</textarea>" in page, "what was typed is kept"
    assert re.search(r'name="team_id" value="2" checked', page)
    async with bot.repos() as repos:
        assert await repos.admin.notices() == []


async def test_the_answer_rate_is_one_figure_on_the_dashboard_and_in_the_report(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    """A seeded November: her 11/24 went unanswered to an alert the desk closed safe (not her
    answer), the neighbour's 11/24 was OK, the neighbour's 11/25 still waits. Answered 1 of
    the 2 no longer waiting: 50 % on both pages (they said 100 % and 0.333 before)."""
    bot = await start_bot(desk_after=timedelta(hours=1))
    _resident, _ = await watched_resident(bot, "resident", ["son"])
    neighbour, _ = await watched_resident(bot, "neighbour", ["daughter"])
    await run_to(bot, tokyo(11, 24, 9))
    await bot.tap(neighbour, button(bot, neighbour, t("checkin.ok_button")))
    for moment in (tokyo(11, 25, 9), tokyo(11, 25, 12), tokyo(11, 25, 13), tokyo(11, 25, 14, 1)):
        await run_to(bot, moment)
    (case_id,) = await case_ids(bot)
    await staff_signed_in(bot)
    bot.clock.set(tokyo(11, 25, 14, 31))
    assert (await act(bot, case_id, action="close", outcome="asleep"))[0] == 303

    dashboard = await (await bot.client.get("/admin/")).text()
    shown = re.search(r'id="answer-rate"><span>[^<]+</span><strong>([^<]+)<', dashboard)
    assert shown is not None
    report = await (await bot.client.get("/admin/report?month=2026-11")).text()
    item = re.search(r'data-item="answer_rate"><th scope="row">[^<]+</th><td>([^<]+)<', report)
    assert item is not None
    print(f"answer rate: dashboard {shown[1]}, report {item[1]}")
    assert shown[1] == item[1] == "50%"
    assert t(f"{WORDS}.answer_rate_note") in dashboard
    waiting = re.search(r'data-item="waiting"><th scope="row">([^<]+)</th><td>(\d+)<', report)
    assert waiting is not None and waiting[2] == "1"


async def test_a_team_s_roll_call_from_the_chat_rings_her(bot: Bot, twilio: FakeTwilio) -> None:
    """Her son starts their team's roll-call in LINE: it asks him in LINE and rings her
    (issue 41), and his 「状況」 counts her silent until she answers, then safe."""
    _, son = await team_with_landline_resident(bot)
    calls = len(twilio.calls)
    await bot.tap_action(son, "team", t=1)
    await bot.tap_reply_button(son, t("rollcall.start_button"))
    assert says(bot.line.reply_texts()[-1], "rollcall.start_confirm", count=2)
    await bot.tap_reply_button(son, t("rollcall.start_yes"))
    assert says(bot.line.reply_texts()[-1], "rollcall.started", count=2)
    await bot.settle()
    assert len(twilio.calls) == calls + 1
    await bot.say(son, t("rollcall.status_words").split(",")[0])
    status = bot.line.reply_texts()[-1]
    assert says(status, "rollcall.status_line", safe=0, help=0, silent=2, unasked=0)
    await twilio.press(bot.client, twilio.calls[-1], "1")
    await bot.say(son, t("rollcall.status_words").split(",")[0])
    status = bot.line.reply_texts()[-1]
    assert says(status, "rollcall.status_line", safe=1, help=0, silent=1, unasked=0)
