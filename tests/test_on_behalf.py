"""Staff acting for a person tell her, and wait for her yes: a device the desk links answers
nothing, and a watcher the staff add is not in her team, until she taps はい in LINE. Her いいえ
undoes it; an ask that is not hers, answered already or a week old changes nothing."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest

from care.members import withdrawal
from care.rounds.protocol import Stage
from storage.models import Role
from tests.conftest import Bot
from tests.drivers import (
    ALERT,
    button,
    csrf,
    member_of,
    run_to,
    staff_signed_in,
    stage,
    tokyo,
    watched_resident,
)
from tests.fake_twilio import FakeTwilio, calling_through
from tests.wording import JA, said, says, t


@pytest.fixture
async def bot(start_bot: Callable[..., Awaitable[Bot]]) -> Bot:
    """A deployment with a desk: the staff know the people whose team it watches."""
    return await start_bot(desk_after=timedelta(hours=6))


async def desk_watches_her_team(bot: Bot) -> tuple[str, str, int]:
    """A resident and her son; the staff signed in, the desk watching her team."""
    resident, (son,) = await watched_resident(bot, "resident", ["son"])
    await staff_signed_in(bot)
    token = await csrf(bot.client, "/admin/teams/1")
    await bot.client.post("/admin/teams/1", data={"csrf_token": token, "action": "desk_watch_on"})
    return resident, son, (await member_of(bot, resident)).id


async def desk_links_a_door_sensor(bot: Bot, member_id: int) -> str:
    path = f"/admin/people/{member_id}"
    token = await csrf(bot.client, path)
    form = {
        "csrf_token": token,
        "action": "link_device",
        "label": "玄関",
        "counts_as_ok": "on",
        "consented": "on",
    }
    page = await (await bot.client.post(path, data=form)).text()
    await bot.settle()
    found = re.search(r"https://mimamori\.example\.jp(/ping/[A-Za-z0-9_\-]+)", page)
    assert found is not None
    assert t("admin.on_behalf.device_awaiting") in page
    return found.group(1)


async def test_a_device_the_desk_links_answers_nothing_until_she_says_yes(bot: Bot) -> None:
    resident, son, member_id = await desk_watches_her_team(bot)
    door = await desk_links_a_door_sensor(bot, member_id)
    asked = bot.line.texts_to(resident)[-1]
    assert says(asked, "on_behalf.title")
    assert t("on_behalf.device_counts") in asked, "she is told what it will do"

    await run_to(bot, tokyo(11, 24, 9))
    bot.clock.set(tokyo(11, 24, 9, 30))
    assert (await bot.client.post(door)).status == 409, "not hers until she says so"
    assert await stage(bot, resident) is Stage.ASKED

    await bot.tap(resident, button(bot, resident, t("on_behalf.yes_button")))
    assert said(bot.line.reply_texts()[-1:], "on_behalf.device_yes", device="玄関")
    bot.clock.advance(timedelta(minutes=1))
    assert (await bot.client.post(door)).status == 204
    assert await stage(bot, resident) is Stage.SAFE, "the device answered her check-in"
    # Answered once: a second tap (or an old card) changes nothing.
    await bot.tap(resident, button(bot, resident, t("on_behalf.no_button")))
    assert bot.line.reply_texts()[-1] == t("visit.closed")
    bot.clock.advance(timedelta(minutes=1))
    assert (await bot.client.post(door)).status == 204


async def test_her_no_unlinks_the_device_and_a_stranger_cannot_answer_for_her(bot: Bot) -> None:
    resident, son, member_id = await desk_watches_her_team(bot)
    door = await desk_links_a_door_sensor(bot, member_id)
    yes = button(bot, resident, t("on_behalf.yes_button"))
    # Her son (or anyone she forwards it to) tapping her card answers nothing.
    await bot.tap(son, yes)
    assert bot.line.reply_texts()[-1] == t("rollcall.not_asked")
    stranger = await bot.follow("stranger")
    await bot.tap(stranger, yes)
    assert (await bot.client.post(door)).status == 409
    await bot.tap(resident, button(bot, resident, t("on_behalf.no_button")))
    assert said(bot.line.reply_texts()[-1:], "on_behalf.device_no", device="玄関")
    assert (await bot.client.post(door)).status == 404, "unlinked"


async def test_an_ask_lasts_a_week(bot: Bot) -> None:
    resident, _, member_id = await desk_watches_her_team(bot)
    door = await desk_links_a_door_sensor(bot, member_id)
    bot.clock.advance(timedelta(days=7))
    await bot.tap(resident, button(bot, resident, t("on_behalf.yes_button")))
    assert bot.line.reply_texts()[-1] == t("visit.closed")
    assert (await bot.client.post(door)).status == 409


async def test_a_watcher_the_staff_add_joins_only_when_she_says_yes(bot: Bot) -> None:
    """The finding: an arbitrary LINE member added by the console as a manager closed her
    alert. Now she is asked; until her yes the newcomer hears nothing of her and can close
    nothing."""
    resident, son, _ = await desk_watches_her_team(bot)
    newcomer = await bot.follow("newcomer")
    newcomer_id = (await member_of(bot, newcomer)).id
    token = await csrf(bot.client, "/admin/teams/1")
    form = {"csrf_token": token, "action": "add_manager", "member_id": str(newcomer_id)}
    assert (await bot.client.post("/admin/teams/1", data=form)).status == 200
    await bot.settle()
    asked = bot.line.texts_to(resident)[-1]
    assert says(asked, "on_behalf.watcher_asked", name="newcomer", team="residentの家族")
    page = await (await bot.client.get("/admin/teams/1")).text()
    assert t("admin.on_behalf.waiting_title") in page
    async with bot.repos() as repos:
        assert await repos.teams.role_of(1, newcomer_id) is None

    await run_to(bot, tokyo(11, 24, 9))
    await run_to(bot, tokyo(11, 25, 9))
    await run_to(bot, tokyo(11, 25, 12))
    assert any(ALERT in text for text in bot.line.texts_to(son))
    assert not any(ALERT in text for text in bot.line.texts_to(newcomer)), "not hers yet"

    await bot.tap(resident, button(bot, resident, t("on_behalf.yes_button")))
    assert said(bot.line.reply_texts()[-1:], "on_behalf.watcher_yes", name="newcomer")
    async with bot.repos() as repos:
        assert await repos.teams.role_of(1, newcomer_id) is not None
    assert said(bot.line.texts_to(newcomer), "admin.made_manager_notice", team="residentの家族")


async def test_her_no_keeps_the_watcher_out_and_every_user_of_the_team_is_asked(
    bot: Bot,
) -> None:
    resident, son, _ = await desk_watches_her_team(bot)
    async with bot.repos() as repos:
        code = await repos.teams.active_invite(1, Role.USER)
    assert code is not None
    sister = await bot.follow("sister")
    await bot.say(sister, t("invite.prefill", code=code.code))
    await bot.tap_reply_button(sister, t("invite.accept"))
    newcomer = await bot.follow("newcomer")
    newcomer_id = (await member_of(bot, newcomer)).id
    token = await csrf(bot.client, "/admin/teams/1")
    form = {"csrf_token": token, "action": "add_manager", "member_id": str(newcomer_id)}
    await bot.client.post("/admin/teams/1", data=form)
    await bot.settle()
    await bot.tap(resident, button(bot, resident, t("on_behalf.yes_button")))
    assert said(bot.line.reply_texts()[-1:], "on_behalf.watcher_waiting", name="newcomer")
    await bot.tap(sister, button(bot, sister, t("on_behalf.no_button")))
    assert said(bot.line.reply_texts()[-1:], "on_behalf.watcher_no", name="newcomer")
    async with bot.repos() as repos:
        assert await repos.teams.role_of(1, newcomer_id) is None
        actions = [row["action"] for row in await repos.admin.audit_log()]
    assert {"on_behalf_asked", "on_behalf_yes", "on_behalf_no"} <= set(actions)


async def test_leaving_the_service_forgets_what_was_asked_of_her(bot: Bot) -> None:
    resident, _, member_id = await desk_watches_her_team(bot)
    await desk_links_a_door_sensor(bot, member_id)
    async with bot.repos() as repos:
        before = await repos.conn.fetch_one(
            "SELECT COUNT(*) FROM staff_requests WHERE member_id = ?", (member_id,)
        )
    assert before is not None and before[0] == 1
    async with bot.services.unit_of_work() as work:
        member = await work.repos.members.get(member_id)
        assert member is not None
        await withdrawal.withdraw(work, member)
    async with bot.repos() as repos:
        after = await repos.conn.fetch_one(
            "SELECT COUNT(*) FROM staff_requests WHERE member_id = ?", (member_id,)
        )
    assert after is not None and after[0] == 0


async def test_for_someone_watched_by_phone_alone_the_staffs_record_of_her_yes_stands(
    start_bot: Callable[..., Awaitable[Bot]], twilio: FakeTwilio
) -> None:
    """She has no LINE to be asked in: without the staff's record that she agreed the watcher
    is refused; with it, the watcher joins at once."""
    bot = await start_bot(**calling_through(twilio, call_budget=5))
    await staff_signed_in(bot)
    token = await csrf(bot.client, "/admin/teams")
    form = {"csrf_token": token, "name": "電話の家", "interval_days": "1", "hour": "9"}
    await bot.client.post("/admin/teams", data=form)
    landline = {
        "csrf_token": token,
        "action": "register_by_phone",
        "name": "電話の人",
        "phone": "03-1234-5678",
        "language": "ja",
        "consented": "on",
    }
    assert (await bot.client.post("/admin/teams/1", data=landline)).status == 200
    neighbour = await bot.follow("neighbour")
    neighbour_id = (await member_of(bot, neighbour)).id
    add = {"csrf_token": token, "action": "add_manager", "member_id": str(neighbour_id)}
    response = await bot.client.post("/admin/teams/1", data=add)
    assert response.status == 400 and await response.text() == t("admin.refused.no_consent")
    async with bot.repos() as repos:
        assert await repos.teams.role_of(1, neighbour_id) is None
    assert (await bot.client.post("/admin/teams/1", data={**add, "consented": "on"})).status == 200
    async with bot.repos() as repos:
        assert await repos.teams.role_of(1, neighbour_id) is Role.MANAGER

    # What the desk then does for her she hears by phone, on the number it rings.
    async with bot.repos() as repos:
        (registered,) = await repos.teams.members_of(1, Role.USER)
    path = f"/admin/people/{registered.id}"
    calls = {"csrf_token": token, "action": "calls", "call_number": "03-9999-0000"}
    calls["consented"] = "on"  # moving her check-ins needs her yes, as on the form
    assert (await bot.client.post(path, data=calls)).status == 200
    await bot.settle()
    (told,) = twilio.to("+81399990000")
    assert JA.t("on_behalf.phone_number_set") in told.spoken()
    device = {"csrf_token": token, "action": "link_device", "label": "玄関", "consented": "on"}
    assert (await bot.client.post(path, data=device)).status == 200
    await bot.settle()
    assert JA.t("on_behalf.phone_device", device="玄関") in twilio.to("+81399990000")[-1].spoken()


async def test_she_is_told_when_the_desk_sets_her_call_number(bot: Bot) -> None:
    """It rings only once she typed the code of its verification call on My page (her yes,
    tests/test_call_numbers.py); here: she hears of it in LINE, and of its removal."""
    resident, _, member_id = await desk_watches_her_team(bot)
    path = f"/admin/people/{member_id}"
    token = await csrf(bot.client, path)
    form = {"csrf_token": token, "action": "calls", "call_number": "090-1234-5678"}
    assert (await bot.client.post(path, data=form)).status == 200
    await bot.settle()
    assert said(bot.line.texts_to(resident)[-1:], "on_behalf.calls_set", ending="5678")
    assert (await bot.client.post(path, data={**form, "call_number": ""})).status == 200
    await bot.settle()
    assert said(bot.line.texts_to(resident)[-1:], "on_behalf.calls_cleared")


async def test_a_user_who_joins_while_a_watcher_waits_is_asked_too(bot: Bot) -> None:
    """The ask is of the team as it is when the last yes comes: someone who joined in the
    meantime is asked, and the watcher waits for her as well."""
    resident, son, _ = await desk_watches_her_team(bot)
    newcomer = await bot.follow("newcomer")
    newcomer_id = (await member_of(bot, newcomer)).id
    token = await csrf(bot.client, "/admin/teams/1")
    form = {"csrf_token": token, "action": "add_manager", "member_id": str(newcomer_id)}
    await bot.client.post("/admin/teams/1", data=form)
    await bot.settle()
    async with bot.repos() as repos:
        code = await repos.teams.active_invite(1, Role.USER)
    assert code is not None
    sister = await bot.follow("sister")
    await bot.say(sister, t("invite.prefill", code=code.code))
    await bot.tap_reply_button(sister, t("invite.accept"))
    await bot.tap(resident, button(bot, resident, t("on_behalf.yes_button")))
    assert said(bot.line.reply_texts()[-1:], "on_behalf.watcher_waiting", name="newcomer")
    await bot.settle()
    async with bot.repos() as repos:
        assert await repos.teams.role_of(1, newcomer_id) is None, "not before she is asked"
    await bot.tap(sister, button(bot, sister, t("on_behalf.yes_button")))
    assert said(bot.line.reply_texts()[-1:], "on_behalf.watcher_yes", name="newcomer")
    async with bot.repos() as repos:
        assert await repos.teams.role_of(1, newcomer_id) is Role.MANAGER
