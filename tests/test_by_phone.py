"""A resident with a landline and no LINE: the desk registers her from a paper form, her
check-in and its re-send are calls, her keys are the LINE buttons' answers, her family on
LINE is alerted when neither call is answered, and no LINE request ever carries her. The
desk also sets calls and devices for a person, with their consent, on the person's card."""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest

from care.rounds.protocol import Stage, stage_of
from ground.channels import LINE, NOT_ON_LINE, Outcome, Parcel
from ground.telling import Telling
from tests.conftest import Bot
from tests.drivers import (
    ALERT,
    csrf,
    login,
    other_staff,
    run_to,
    staff_signed_in,
    team_with_landline_resident,
    tokyo,
    watched_resident,
)
from tests.fake_twilio import FakeTwilio, calling_through
from tests.wording import JA, said, t

LANDLINE = "03-1234-5678"
DIALLED = "+81312345678"


@pytest.fixture
async def bot(start_bot: Callable[..., Awaitable[Bot]], twilio: FakeTwilio) -> Bot:
    return await start_bot(**calling_through(twilio, call_budget=20))


async def open_stage(bot: Bot, member_id: int) -> Stage:
    async with bot.repos() as repos:
        return stage_of(await repos.rounds.open_round(member_id))


def no_line_request_names_her(bot: Bot) -> None:
    for call in bot.line.calls:
        assert NOT_ON_LINE not in str(call.body), call.path


def alerts_to(bot: Bot, uid: str) -> list[str]:
    return [text for text in bot.line.texts_to(uid) if ALERT in text]


async def test_her_check_in_is_a_call_and_key_1_is_her_ok(bot: Bot, twilio: FakeTwilio) -> None:
    member_id, son = await team_with_landline_resident(bot)
    async with bot.repos() as repos:
        member = await repos.members.get(member_id)
    assert member is not None and member.channel == "voice" and member.channel_address == DIALLED
    assert member.call_consented_by == "desk-a"
    await run_to(bot, tokyo(11, 24, 9))
    (call,) = twilio.to(DIALLED)
    question = JA.t("call.question", name="山田花子")
    assert call.spoken() == [question, question, JA.t("call.no_key_later")]
    assert await open_stage(bot, member_id) is Stage.ASKED
    response = await twilio.press(bot.client, call, "1")
    assert JA.t("call.thanks_ok") in await response.text()
    await bot.settle()
    assert await open_stage(bot, member_id) is Stage.IDLE
    await twilio.end(bot.client, call, "completed")
    await run_to(bot, tokyo(11, 25, 8))
    assert len(twilio.calls) == 1 and alerts_to(bot, son) == []
    no_line_request_names_her(bot)


async def test_no_answer_twice_alerts_her_son_and_her_key_after_it_tells_him_safe(
    bot: Bot, twilio: FakeTwilio
) -> None:
    member_id, son = await team_with_landline_resident(bot)
    await run_to(bot, tokyo(11, 24, 9))
    (checkin,) = twilio.calls
    # Nobody picks up: the check-in's call settles nothing, and the ladder keeps its time.
    await twilio.end(bot.client, checkin, "no-answer")
    await bot.sweep()
    assert await open_stage(bot, member_id) is Stage.ASKED
    assert alerts_to(bot, son) == []
    await run_to(bot, tokyo(11, 25, 9))
    _, resend = twilio.calls
    assert resend.spoken()[-1] == JA.t("call.no_key")
    await twilio.end(bot.client, resend, "busy")
    await bot.sweep()
    assert alerts_to(bot, son) == []
    await run_to(bot, tokyo(11, 25, 12))
    assert len(alerts_to(bot, son)) == 1
    assert len(twilio.calls) == 2  # no third call: the re-send was one
    # A key on yesterday's call closes nothing: that call was the first slot's, still open.
    # Her answer on the re-send call is hers: her son hears she is safe, as she said so.
    response = await twilio.press(bot.client, resend, "1")
    assert response.status == 200
    await bot.settle()
    assert await open_stage(bot, member_id) is Stage.IDLE
    assert said(bot.line.texts_to(son), "safe.body", name="山田花子")
    no_line_request_names_her(bot)


async def test_key_3_on_her_check_in_call_tells_her_son_at_once(
    bot: Bot, twilio: FakeTwilio
) -> None:
    _, son = await team_with_landline_resident(bot)
    await run_to(bot, tokyo(11, 24, 9))
    response = await twilio.press(bot.client, twilio.calls[0], "3")
    assert JA.t("call.help_sent") in await response.text()
    await bot.settle()
    assert any(JA.t("alert.help_title") in text for text in bot.line.texts_to(son))
    no_line_request_names_her(bot)


async def test_the_registration_refuses_what_is_wrong_and_changes_nothing(bot: Bot) -> None:
    await staff_signed_in(bot)
    token = await csrf(bot.client, "/admin/teams")
    form = {"csrf_token": token, "name": "山田家", "interval_days": "1", "hour": "9"}
    await bot.client.post("/admin/teams", data=form)
    good = {"csrf_token": token, "action": "register_by_phone", "name": "山田花子"}
    cases = [
        ({**good, "phone": "12345", "consented": "on"}, "admin.refused.invalid_phone", {}),
        ({**good, "phone": LANDLINE}, "admin.refused.no_consent", {}),
        (
            {**good, "name": " ", "phone": LANDLINE, "consented": "on"},
            "admin.refused.invalid_person_name",
            {"limit": 30},
        ),
    ]
    for data, key, values in cases:
        response = await bot.client.post("/admin/teams/1", data=data)
        assert response.status == 400
        assert await response.text() == t(key, **values)
    async with bot.repos() as repos:
        assert await repos.teams.members_of(1) == []


async def test_where_no_calls_are_placed_nobody_is_registered_by_phone(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    plain = await start_bot()
    await staff_signed_in(plain)
    token = await csrf(plain.client, "/admin/teams")
    form = {"csrf_token": token, "name": "山田家", "interval_days": "1", "hour": "9"}
    await plain.client.post("/admin/teams", data=form)
    page = await (await plain.client.get("/admin/teams/1")).text()
    assert t("admin.team.by_phone_title") not in page
    data = {
        "csrf_token": token,
        "action": "register_by_phone",
        "name": "山田花子",
        "phone": LANDLINE,
        "consented": "on",
    }
    response = await plain.client.post("/admin/teams/1", data=data)
    assert response.status == 400 and await response.text() == t("admin.refused.no_calls")


async def test_the_desk_sets_her_calls_and_links_a_device_with_her_consent(
    bot: Bot, twilio: FakeTwilio
) -> None:
    member_id, son = await team_with_landline_resident(bot)
    path = f"/admin/people/{member_id}"
    page = await (await bot.client.get(path)).text()
    assert t("admin.desk.phone_only_help") in page
    token = await csrf(bot.client, path)
    # Her number cannot be taken away: it is where every check-in rings.
    calls = {"csrf_token": token, "action": "calls", "call_number": ""}
    assert (await bot.client.post(path, data=calls)).status == 400
    # Moving her check-ins to another phone needs the record that she agreed (the form).
    calls["call_number"] = "090-1111-2222"
    response = await bot.client.post(path, data=calls)
    assert response.status == 400 and await response.text() == t("admin.refused.no_consent")
    assert (await bot.client.post(path, data={**calls, "consented": "on"})).status == 200
    async with bot.repos() as repos:
        member = await repos.members.get(member_id)
    assert member is not None and member.channel_address == "+819011112222"

    device = {"csrf_token": token, "action": "link_device", "label": "玄関", "counts_as_ok": "on"}
    response = await bot.client.post(path, data=device)
    assert response.status == 400 and await response.text() == t("admin.refused.no_consent")
    response = await bot.client.post(path, data={**device, "consented": "on"})
    page = await response.text()
    found = re.search(r"https://mimamori\.example\.jp(/ping/[A-Za-z0-9_\-]+)", page)
    assert found is not None, "the URL is shown once"
    assert found.group(1) not in await (await bot.client.get(path)).text()

    # The device answers her check-in; its movement shows on her card.
    await run_to(bot, tokyo(11, 24, 9))
    bot.clock.set(tokyo(11, 24, 9, 30))
    assert (await bot.client.post(found.group(1))).status == 204
    assert await open_stage(bot, member_id) is Stage.IDLE
    assert await login(bot.client, "desk-a") == 200  # a day later: signed in again
    token = await csrf(bot.client, path)
    page = await (await bot.client.get(path)).text()
    movement = JA.t(
        "activity.line", at=bot.services.locale("ja").when(tokyo(11, 24, 9, 30)), device="玄関"
    )
    assert movement in page
    device_id = re.search(r'name="device_id" value="(\d+)"', page)
    assert device_id is not None
    revoke = {"csrf_token": token, "action": "revoke_device", "device_id": device_id.group(1)}
    await bot.client.post(path, data=revoke)
    bot.clock.set(tokyo(11, 24, 10))
    assert (await bot.client.post(found.group(1))).status == 404
    async with bot.repos() as repos:
        actions = [row["action"] for row in await repos.admin.audit_log()]
    assert {"desk_calls_set", "desk_device_linked", "desk_device_revoked"} <= set(actions)
    assert "team_register_by_phone" in actions


async def test_the_desk_sets_a_call_before_the_alert_for_a_line_user(
    start_bot: Callable[..., Awaitable[Bot]], twilio: FakeTwilio
) -> None:
    bot = await start_bot(**calling_through(twilio, desk_after=timedelta(hours=1), call_budget=5))
    resident, (son,) = await watched_resident(bot, "resident", ["son"])
    await staff_signed_in(bot)
    async with bot.repos() as repos:
        member = await repos.members.by_line_id(resident)
        assert member is not None
    # The desk knows a person it has a case of, or whose team it watches; not everyone.
    path = f"/admin/people/{member.id}"
    assert (await bot.client.get(path)).status == 404
    token = await csrf(bot.client, "/admin/teams/1")
    await bot.client.post("/admin/teams/1", data={"csrf_token": token, "action": "desk_watch_on"})
    data = {
        "csrf_token": token,
        "action": "calls",
        "call_number": "090-1234-5678",
        "call_before_alert": "on",
    }
    assert (await bot.client.post(path, data=data)).status == 200
    # The number is hers once staff confirm it with her beside them (care.rounds.verify): another
    # account than the one that set it.
    other = await other_staff(bot)
    confirm = {"csrf_token": await csrf(other, path), "action": "confirm_number", "present": "on"}
    assert (await other.post(path, data=confirm)).status == 200
    await other.session.close()
    await run_to(bot, tokyo(11, 24, 9))
    await run_to(bot, tokyo(11, 25, 9))
    await run_to(bot, tokyo(11, 25, 12))
    assert len(twilio.to("+819012345678")) == 1
    assert alerts_to(bot, son) == []


async def test_a_line_request_never_carries_a_phone_only_placeholder(bot: Bot) -> None:
    """Were Twilio taken away, her placeholder could fall into a LINE row: the LINE channel
    drops it, so the others in a multicast still get theirs and LINE never refuses the row."""
    son = await bot.follow("son")
    line = bot.services.channels[LINE]
    hello = Telling.sentence("ja", "hello")
    sent = await line.send(
        Parcel("multicast", [NOT_ON_LINE + "ab12", son], [hello], str(uuid.uuid4()))
    )
    assert sent.outcome is Outcome.DELIVERED
    (multicast,) = bot.line.multicasts
    assert multicast.body["to"] == [son]
    alone = await line.send(Parcel("push", [NOT_ON_LINE + "ab12"], [hello], str(uuid.uuid4())))
    assert alone.outcome is Outcome.REJECTED
    no_line_request_names_her(bot)


async def landline_resident_alone(bot: Bot) -> None:
    """A team made in the console with her alone in it, registered from the paper form: nobody
    on LINE watches her."""
    await staff_signed_in(bot)
    token = await csrf(bot.client, "/admin/teams")
    form = {"csrf_token": token, "name": "a team", "interval_days": "1", "hour": "9"}
    assert (await bot.client.post("/admin/teams", data=form)).status == 200
    paper_form = {
        "csrf_token": token,
        "action": "register_by_phone",
        "name": "resident",
        "phone": "03-1234-5678",
        "language": "ja",
        "consented": "on",
    }
    response = await bot.client.post("/admin/teams/1", data=paper_form, allow_redirects=False)
    assert response.status == 303, await response.text()


@pytest.mark.parametrize("with_desk", [True, False])
async def test_what_her_call_says_after_help_or_unwell_is_true_with_nobody_watching(
    start_bot: Callable[..., Awaitable[Bot]], twilio: FakeTwilio, with_desk: bool
) -> None:
    """Key 3 and key 2 with no watcher on LINE: the call says the desk has it, or that nobody
    could be told and to call 119; never that her watchers were told."""
    desk = {"desk_after": timedelta(hours=1), "desk_unwell": True} if with_desk else {}
    bot = await start_bot(**calling_through(twilio, **desk))
    await landline_resident_alone(bot)
    await run_to(bot, tokyo(11, 24, 9))
    response = await twilio.press(bot.client, twilio.calls[0], "2")
    spoken = await response.text()
    assert JA.t("call.unwell_desk" if with_desk else "call.unwell_nobody") in spoken
    assert JA.t("call.thanks_unwell") not in spoken
    await bot.settle()
    await run_to(bot, tokyo(11, 25, 9))
    response = await twilio.press(bot.client, twilio.calls[-1], "3")
    spoken = await response.text()
    assert JA.t("call.help_desk" if with_desk else "call.help_nobody") in spoken
    assert JA.t("call.help_sent") not in spoken
