"""A phone call before the alert, through a stand-in Twilio: the ladder's order (re-send, call,
alert), each key as the same answer as the LINE buttons, no answer, busy and a machine, a
call nobody reports on, the month's budget, and Twilio's webhooks checked and taken once."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest

from care.rounds.protocol import Stage, stage_of
from tests.conftest import Bot
from tests.drivers import (
    ALERT,
    add_admin,
    login,
    member_of,
    ok_data,
    run_to,
    tokyo,
    watched_resident,
)
from tests.fake_twilio import FROM, FakeTwilio, calling_through
from tests.wording import JA, said, t

NUMBER = "+819012345678"


@pytest.fixture
async def bot(start_bot: Callable[..., Awaitable[Bot]], twilio: FakeTwilio) -> Bot:
    return await start_bot(**calling_through(twilio, call_budget=5))


async def resident_who_takes_calls(bot: Bot) -> tuple[str, str]:
    resident, (son,) = await watched_resident(bot, "resident", ["son"])
    member = await member_of(bot, resident)
    async with bot.repos() as repos:
        await repos.calls.set_consent(member.id, NUMBER, True, "self")
        # Hers: the code of its verification call typed (tests/test_call_numbers.py).
        await repos.calls.set_verified(member.id, NUMBER, "call", tokyo(11, 23, 9))
    return resident, son


async def to_the_call(bot: Bot) -> None:
    """Check-in at 9:00, re-send the next day, and 3 h later the call (not the alert)."""
    await run_to(bot, tokyo(11, 24, 9))
    await run_to(bot, tokyo(11, 25, 9))
    await run_to(bot, tokyo(11, 25, 12))


def alerts_to(bot: Bot, uid: str) -> list[str]:
    return [text for text in bot.line.texts_to(uid) if ALERT in text]


async def stage_of_resident(bot: Bot, uid: str) -> Stage:
    member = await member_of(bot, uid)
    async with bot.repos() as repos:
        rounds = await repos.rounds.of_member_since(member.id, tokyo(11, 20, 0))
    return stage_of(rounds[-1] if rounds and rounds[-1].closed_at is None else None)


async def test_the_call_comes_after_the_resend_and_before_the_alert(
    bot: Bot, twilio: FakeTwilio
) -> None:
    resident, son = await resident_who_takes_calls(bot)
    await run_to(bot, tokyo(11, 24, 9))
    await run_to(bot, tokyo(11, 25, 9))
    assert twilio.calls == []  # the re-send goes by LINE first
    await run_to(bot, tokyo(11, 25, 12))
    (call,) = twilio.to(NUMBER)
    assert call.caller == FROM
    question = JA.t("call.question", name="resident")
    assert call.spoken() == [question, question, JA.t("call.no_key")]  # asked twice
    assert alerts_to(bot, son) == []
    assert await stage_of_resident(bot, resident) is Stage.CALLED
    # The call holds the alert for its patience at most, never past it.
    await run_to(bot, tokyo(11, 25, 12, 9))
    assert alerts_to(bot, son) == []
    await run_to(bot, tokyo(11, 25, 12, 10))
    assert len(alerts_to(bot, son)) == 1
    assert len(twilio.calls) == 1


async def test_key_1_is_her_ok_and_nobody_is_alerted(bot: Bot, twilio: FakeTwilio) -> None:
    resident, son = await resident_who_takes_calls(bot)
    await to_the_call(bot)
    (call,) = twilio.calls
    response = await twilio.press(bot.client, call, "1")
    assert response.status == 200
    assert JA.t("call.thanks_ok") in await response.text()
    await bot.settle()
    assert await stage_of_resident(bot, resident) is Stage.IDLE
    assert (await member_of(bot, resident)).last_ok_at == tokyo(11, 25, 12)
    await twilio.end(bot.client, call, "completed")
    await run_to(bot, tokyo(11, 26, 8))
    assert alerts_to(bot, son) == []
    assert not said(bot.line.texts_to(son), "safe.body", name="resident")  # nobody was alerted


async def test_key_2_tells_the_family_she_is_unwell_and_key_3_calls_for_help(
    bot: Bot, twilio: FakeTwilio
) -> None:
    resident, son = await resident_who_takes_calls(bot)
    await to_the_call(bot)
    response = await twilio.press(bot.client, twilio.calls[0], "2")
    assert JA.t("call.thanks_unwell") in await response.text()
    await bot.settle()
    assert said(bot.line.texts_to(son), "unwell.body", name="resident")
    assert alerts_to(bot, son) == []

    # The next round, and this time 3: the help path, as the red button.
    await run_to(bot, tokyo(11, 26, 9))
    await run_to(bot, tokyo(11, 27, 9))
    await run_to(bot, tokyo(11, 27, 12))
    second = twilio.calls[-1]
    assert second is not twilio.calls[0]
    response = await twilio.press(bot.client, second, "3")
    assert JA.t("call.help_sent") in await response.text()
    await bot.settle()
    assert any(JA.t("alert.help_title") in text for text in bot.line.texts_to(son))
    assert await stage_of_resident(bot, resident) is Stage.HELP


@pytest.mark.parametrize(
    ("status", "answered_by"),
    [("no-answer", ""), ("busy", ""), ("completed", "machine_end_beep"), ("completed", "")],
)
async def test_a_call_that_settles_nothing_alerts_at_once(
    bot: Bot, twilio: FakeTwilio, status: str, answered_by: str
) -> None:
    resident, son = await resident_who_takes_calls(bot)
    await to_the_call(bot)
    bot.clock.advance(timedelta(minutes=2))
    response = await twilio.end(bot.client, twilio.calls[0], status, answered_by)
    assert response.status == 204
    await bot.sweep()
    assert len(alerts_to(bot, son)) == 1
    assert await stage_of_resident(bot, resident) is Stage.ALERTED
    # Twilio sending the same report again changes nothing.
    await twilio.end(bot.client, twilio.calls[0], status, answered_by)
    await bot.sweep()
    assert len(alerts_to(bot, son)) == 1


async def test_a_wrong_key_is_asked_again_and_a_key_after_the_alert_does_nothing_twice(
    bot: Bot, twilio: FakeTwilio
) -> None:
    resident, son = await resident_who_takes_calls(bot)
    await to_the_call(bot)
    call = twilio.calls[0]
    response = await twilio.press(bot.client, call, "9")
    assert JA.t("call.wrong_key") in await response.text()
    assert await stage_of_resident(bot, resident) is Stage.CALLED
    first = await twilio.press(bot.client, call, "1")
    again = await twilio.press(bot.client, call, "1")  # Twilio retrying the same request
    assert first.status == again.status == 200
    await bot.settle()
    assert await stage_of_resident(bot, resident) is Stage.IDLE


async def test_forged_or_tampered_webhooks_change_nothing(bot: Bot, twilio: FakeTwilio) -> None:
    resident, son = await resident_who_takes_calls(bot)
    await to_the_call(bot)
    call = twilio.calls[0]
    form = {"CallSid": call.sid, "Digits": "1", "CallStatus": "in-progress"}
    forged = await twilio.post(bot.client, call.gather_action(), form, token="not-the-token")
    assert forged.status == 403
    tampered = call.gather_action().replace("k1=", "k1=x")
    assert (await twilio.post(bot.client, tampered, form)).status == 400
    unsigned = await bot.client.post("/voice/status?c=x", data={"CallSid": call.sid})
    assert unsigned.status == 403
    assert await stage_of_resident(bot, resident) is Stage.CALLED
    assert alerts_to(bot, son) == []


async def test_past_the_months_budget_the_alert_goes_without_a_call(
    start_bot: Callable[..., Awaitable[Bot]], twilio: FakeTwilio
) -> None:
    bot = await start_bot(**calling_through(twilio, call_budget=1))
    resident, son = await resident_who_takes_calls(bot)
    await to_the_call(bot)
    assert len(twilio.calls) == 1
    await twilio.end(bot.client, twilio.calls[0], "no-answer")
    await bot.sweep()
    assert len(alerts_to(bot, son)) == 1
    await bot.tap(resident, ok_data(bot, resident))  # she answers on LINE after all
    assert await stage_of_resident(bot, resident) is Stage.IDLE
    # The next round: the budget is spent, so the alert comes at its time, with no call.
    await run_to(bot, tokyo(11, 26, 9))
    await run_to(bot, tokyo(11, 27, 9))
    await run_to(bot, tokyo(11, 27, 12))
    assert len(twilio.calls) == 1
    assert len(alerts_to(bot, son)) == 2
    async with bot.repos() as repos:
        work_budget = await repos.calls.placed_since(tokyo(11, 1, 0))
    assert work_budget == 1
    # The console shows the calls' month beside LINE's, and that the budget is spent.
    await add_admin(bot)
    await login(bot.client)
    page = await (await bot.client.get("/admin/quota")).text()
    assert re.search(r'id="calls-used">1<', page) and re.search(r'id="calls-limit">1<', page)
    assert t("admin.quota.calls_spent", limit=1) in page


async def test_the_console_forecasts_the_months_calls_at_their_pace(
    bot: Bot, twilio: FakeTwilio
) -> None:
    resident, _ = await resident_who_takes_calls(bot)
    await to_the_call(bot)  # one call by 25 November, 12:00
    await add_admin(bot)
    await login(bot.client)
    page = await (await bot.client.get("/admin/quota")).text()
    # 1 call in 24.5 days of a 30-day month: 1 by its end, inside the budget of 5.
    assert re.search(r'id="calls-forecast">1<', page)
    assert 'id="calls-warning"' not in page
    async with bot.repos() as repos:  # four more calls on the month's first day
        for _ in range(4):
            await repos.outbox.add(
                kind="push",
                channel="voice",
                recipients=[NUMBER],
                tellings=[],
                purpose="call",
                now=tokyo(11, 1, 10),
            )
    page = await (await bot.client.get("/admin/quota")).text()
    assert t("admin.quota.calls_spent", limit=5) in page


async def test_twilio_failing_is_tried_again_and_a_refused_number_still_alerts(
    bot: Bot, twilio: FakeTwilio
) -> None:
    resident, son = await resident_who_takes_calls(bot)
    twilio.answers = [500]
    await to_the_call(bot)
    assert twilio.calls == []
    await bot.advance(timedelta(minutes=1))
    await bot.advance(timedelta(minutes=1))
    assert len(twilio.calls) == 1  # the same row, tried again
    assert alerts_to(bot, son) == []


async def test_without_consent_there_is_no_call(bot: Bot, twilio: FakeTwilio) -> None:
    resident, (son,) = await watched_resident(bot, "resident", ["son"])
    await to_the_call(bot)
    assert twilio.calls == []
    assert len(alerts_to(bot, son)) == 1
    assert t("call.question", name="resident")  # the text exists in the locale
