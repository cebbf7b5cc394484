"""Roll-calls by phone (issue 41): a roll-call rings the resident watched by phone alone, her
key answers it as the LINE buttons do (1 safe; 3 help, told to her son at once), no answer
rings once more and then she is silent, and it never rings past the month's call budget nor a
number the deployment does not call (those are named unasked, with why). Through the stand-in
Twilio, the fake LINE and the fake clock."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest

from ground.channels import NOT_ON_LINE
from tests.conftest import Bot
from tests.drivers import (
    answer_button,
    csrf,
    login,
    start_roll_call,
    team_with_landline_resident,
)
from tests.fake_twilio import FakeTwilio, PlacedCall, calling_through
from tests.wording import JA, said, t

DIALLED = "+81312345678"  # her landline, 03-1234-5678, as Twilio dials it
AGAIN = timedelta(minutes=30)  # MIMAMORI_ROLLCALL_CALL_AGAIN's default


@pytest.fixture
async def bot(start_bot: Callable[..., Awaitable[Bot]], twilio: FakeTwilio) -> Bot:
    return await start_bot(**calling_through(twilio, call_budget=20))


async def preview(bot: Bot, **form: str) -> str:
    body = {"csrf_token": await csrf(bot.client, "/admin/rollcalls"), **form}
    response = await bot.client.post("/admin/rollcalls/preview", data=body)
    assert response.status == 200
    return await response.text()


async def tally(bot: Bot, call: int) -> tuple[dict[str, str], str]:
    page = await (await bot.client.get(f"/admin/rollcalls/{call}")).text()
    return dict(re.findall(r'id="count-(\w+)">(\d+)<', page)), page


def roll_call_calls(twilio: FakeTwilio) -> list[PlacedCall]:
    question = JA.t("phone41.call.question")
    return [call for call in twilio.to(DIALLED) if question in call.spoken()]


def no_line_request_names_her(bot: Bot) -> None:
    for request in bot.line.calls:
        assert NOT_ON_LINE not in str(request.body), request.path


async def test_a_roll_call_rings_her_and_key_1_answers_safe(bot: Bot, twilio: FakeTwilio) -> None:
    _, son = await team_with_landline_resident(bot)
    page = await preview(bot, audience="everyone")
    assert t("admin.reach40.line", count=1) in page, "her son, in LINE"
    assert t("admin.reach40.by_phone", count=1) in page
    assert t("admin.reach40.not_reached", count=0) in page
    assert t("admin.phone41.calls", count=1, minutes=30, left=20) in page
    assert t("admin.notices.cost", recipients=1, requests=1) in page, "a call is not LINE's"

    call_id = await start_roll_call(bot, audience="everyone")
    (call,) = roll_call_calls(twilio)
    question = JA.t("phone41.call.question")
    assert call.spoken() == [question, question, JA.t("phone41.call.no_key")]
    assert answer_button(bot, son, "safe"), "her son is asked in LINE"

    response = await twilio.press(bot.client, call, "1")
    assert JA.t("phone41.call.thanks_safe") in await response.text()
    assert (await twilio.end(bot.client, call, "completed")).status == 204
    await bot.settle()
    counts, page = await tally(bot, call_id)
    assert counts == {"safe": "1", "help": "0", "shelter": "0", "silent": "1", "unasked": "0"}
    assert t("admin.phone41.by_phone", asked=1, answered=1) in page

    # Answered: her phone does not ring again, and her son hears nothing of help.
    await bot.advance(AGAIN * 3)
    assert len(roll_call_calls(twilio)) == 1
    assert not said(bot.line.texts_to(son), "card.rollcall_help", name="山田花子")
    no_line_request_names_her(bot)


async def test_key_3_tells_her_son_at_once_and_a_key_that_means_nothing_asks_again(
    bot: Bot, twilio: FakeTwilio
) -> None:
    member_id, son = await team_with_landline_resident(bot)
    call_id = await start_roll_call(bot, audience="everyone")
    (call,) = roll_call_calls(twilio)
    response = await twilio.press(bot.client, call, "2")
    assert JA.t("phone41.call.wrong_key") in await response.text()
    async with bot.repos() as repos:
        assert (await repos.rollcalls.people(call_id))[0]["answer"] is None

    response = await twilio.press(bot.client, call, "3")
    assert JA.t("phone41.call.help_sent") in await response.text()
    await bot.settle()
    assert said(bot.line.texts_to(son), "card.rollcall_help", name="山田花子", member_id=member_id)
    counts, page = await tally(bot, call_id)
    assert counts["help"] == "1"
    helped = page.split('id="tally-help"')[1].split("</table>")[0]
    assert "03-1234-5678" in helped or DIALLED in helped, "the desk sees the number to call"

    # Twilio sends the key again (it did not hear back): answered once, said as heard.
    told = len(bot.line.texts_to(son))
    response = await twilio.press(bot.client, call, "3")
    assert JA.t("phone41.call.heard") in await response.text()
    await bot.settle()
    assert len(bot.line.texts_to(son)) == told


async def test_no_answer_rings_once_more_and_then_she_is_silent(
    bot: Bot, twilio: FakeTwilio
) -> None:
    await team_with_landline_resident(bot)
    # The console's re-asks in LINE every hour: they do not ring her; her call again does.
    call_id = await start_roll_call(bot, audience="everyone", resend_minutes="60", resends="2")
    (first,) = roll_call_calls(twilio)
    await twilio.end(bot.client, first, "no-answer")
    await bot.advance(AGAIN - timedelta(minutes=1))
    assert len(roll_call_calls(twilio)) == 1
    await bot.advance(timedelta(minutes=2))
    first, again = roll_call_calls(twilio)
    question = JA.t("phone41.call.question")
    assert again.spoken() == [question, question, JA.t("phone41.call.no_key_last")]
    await twilio.end(bot.client, again, "busy")
    await bot.advance(timedelta(hours=3))
    assert len(roll_call_calls(twilio)) == 2, "once more, and no more"

    counts, page = await tally(bot, call_id)
    assert counts["silent"] == "2" and counts["unasked"] == "0"
    silent = page.split('id="tally-silent"')[1].split("</ul>")[0]
    (hers,) = re.findall(r'<li data-asked-by="voice">[^<]*</li>', silent)
    assert t("admin.phone41.calls_made", count=2) in hers
    assert t("admin.phone41.by_phone", asked=1, answered=0) in page


async def test_a_spent_call_budget_names_her_unasked_and_rings_nothing(
    start_bot: Callable[..., Awaitable[Bot]], twilio: FakeTwilio
) -> None:
    """A budget of one call cannot cover her call and its call again: she is not rung."""
    bot = await start_bot(**calling_through(twilio, call_budget=1))
    _, son = await team_with_landline_resident(bot)
    page = await preview(bot, audience="everyone")
    assert t("admin.phone41.unreached.call_budget", count=1) in page
    assert t("admin.reach40.not_reached", count=1) in page
    call_id = await start_roll_call(bot, audience="everyone")
    assert roll_call_calls(twilio) == []
    assert answer_button(bot, son, "safe")
    counts, page = await tally(bot, call_id)
    assert counts["unasked"] == "1" and counts["silent"] == "1"
    unasked = page.split('id="tally-unasked"')[1].split("</table>")[0]
    assert re.findall(r'data-why="(\w+)"', unasked) == ["call_budget"]
    assert t("admin.phone41.why.call_budget") in unasked


async def test_the_calls_again_never_spend_past_the_budget(
    start_bot: Callable[..., Awaitable[Bot]], twilio: FakeTwilio
) -> None:
    """Budget 3: two roll-calls each ring her (2 calls, 1 left); of their two calls again
    only one fits, and the month's calls end at the budget, never past it."""
    bot = await start_bot(**calling_through(twilio, call_budget=3))
    await team_with_landline_resident(bot)
    await start_roll_call(bot, audience="everyone")
    await start_roll_call(bot, audience="everyone")
    assert len(roll_call_calls(twilio)) == 2
    for call in roll_call_calls(twilio):
        await twilio.end(bot.client, call, "no-answer")
    await bot.advance(AGAIN + timedelta(minutes=1))
    await bot.advance(AGAIN * 4)
    assert len(roll_call_calls(twilio)) == 3


async def test_a_number_the_deployment_does_not_call_is_not_rung(
    start_bot: Callable[..., Awaitable[Bot]], twilio: FakeTwilio
) -> None:
    """Her number was set while Japan was called; the city now calls only +1 numbers."""
    bot = await start_bot(**calling_through(twilio, call_budget=20))
    _, son = await team_with_landline_resident(bot)
    bot = await start_bot(**calling_through(twilio, call_budget=20, call_countries={"1"}))
    assert await login(bot.client, "desk-a") == 200
    page = await preview(bot, audience="everyone")
    assert t("admin.phone41.unreached.number_refused", count=1) in page
    call_id = await start_roll_call(bot, audience="everyone")
    assert roll_call_calls(twilio) == []
    counts, page = await tally(bot, call_id)
    unasked = page.split('id="tally-unasked"')[1].split("</table>")[0]
    assert re.findall(r'data-why="(\w+)"', unasked) == ["number_refused"]
    assert counts["unasked"] == "1"
