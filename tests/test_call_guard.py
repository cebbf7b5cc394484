"""No stranger spends the city's calls (issue 37), through the stand-in Twilio: leaving and
coming back (退会) starts no call limit again, since the limits count rate facts kept past it
without the number (call_attempts); the month's verification calls are capped across the
deployment; a phone-only resident's own check-in calls are not held by the cap per number, and
nobody else's verification call rings her number or another member's verified one; the desk
moves her check-ins to another phone only with her consent recorded, and she hears it at the
old number, her managers in LINE; a number is confirmed by another console account than the
one that set it; a device the desk links or removes is told to her managers (and to her, when
removed)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest

from care.rounds import verify
from storage.calls import VERIFY_PURPOSE
from tests.conftest import Bot
from tests.drivers import (
    ALERT,
    Page,
    code_read_in,
    create_team,
    csrf,
    join,
    run_to,
    staff_signed_in,
    team_with_landline_resident,
    tokyo,
    watched_resident,
)
from tests.fake_twilio import FakeTwilio, calling_through
from tests.wording import JA, said

VICTIM = "090-1111-2222"
VICTIM_DIALLED = "+819011112222"
LANDLINE_DIALLED = "+81312345678"
HERS = "+819012345678"


@pytest.fixture
async def bot(start_bot: Callable[..., Awaitable[Bot]], twilio: FakeTwilio) -> Bot:
    return await start_bot(**calling_through(twilio, call_budget=100))


async def stranger(bot: Bot, name: str = "attacker") -> tuple[Page, str]:
    """Someone with a second LINE account that watches the first: anyone may be this.
    -> (the first account's My page, the user code of the team the second made)."""
    sock = await bot.follow(f"{name}-sock")
    codes = await create_team(bot, sock, f"{name} puppets", as_user=False)
    uid = await bot.follow(name)
    await join(bot, uid, codes["user"])
    page = Page(bot, uid, name)
    await page.accept_terms()
    return page, codes["user"]


async def set_number(page: Page, number: str) -> tuple[int, dict]:
    body = {"number": number, "before_alert": True}
    return await page.call("PUT", "/liff/api/me/calls", body)


async def test_leaving_and_coming_back_starts_no_call_limit_again(
    bot: Bot, twilio: FakeTwilio
) -> None:
    """Each 退会 used to delete what the limits counted: 4 rounds gave 12 calls to one number.
    Now the third call of the day to it is the last, however often he leaves."""
    page, code = await stranger(bot)
    status, body = await set_number(page, VICTIM)
    assert status == 200 and body["calling"] is True
    for _ in range(2):
        assert (await page.call("POST", "/liff/api/me/calls/verify", {}))[0] == 200
    assert len(twilio.to(VICTIM_DIALLED)) == verify.PER_NUMBER_DAILY
    for _cycle in range(3):
        page.renew()
        await page.accept_terms()
        assert (await page.call("POST", "/liff/api/me/withdraw", {"confirm": True}))[0] == 200
        await bot.follow("attacker")  # comes back
        await join(bot, page.uid, code)
        page.renew()
        await page.accept_terms()
        status, body = await set_number(page, VICTIM)
        assert (status, body["error"]) == (429, "too_often")
        status, body = await page.call("POST", "/liff/api/me/calls/verify", {})
        assert status == 409, "no number was kept to call"
    assert len(twilio.to(VICTIM_DIALLED)) == verify.PER_NUMBER_DAILY
    # Another account asks for the same number: its day's calls are spent all the same.
    other, _ = await stranger(bot, "other")
    assert (await set_number(other, VICTIM))[1]["error"] == "too_often"
    assert len(twilio.to(VICTIM_DIALLED)) == verify.PER_NUMBER_DAILY
    # What is kept of those calls past 退会 is no number: its keyed hash, for two days.
    async with bot.repos() as repos:
        kept = await repos.conn.fetch_all("SELECT number_key, purpose FROM call_attempts", ())
        assert len(kept) == verify.PER_NUMBER_DAILY
        assert all(row[0] != VICTIM_DIALLED and "9011112222" not in row[0] for row in kept)
        # Written again two days later (a call recorded), the old facts go.
        await repos.outbox.add(
            kind="push",
            channel="voice",
            recipients=["+819055556666"],
            tellings=[],
            purpose=VERIFY_PURPOSE,
            now=bot.clock.now() + timedelta(days=2, minutes=1),
        )
        (left,) = await repos.conn.fetch_one("SELECT COUNT(*) FROM call_attempts", ())
    assert left == 1


async def test_the_months_verification_calls_are_capped_and_her_call_still_rings(
    start_bot: Callable[..., Awaitable[Bot]], twilio: FakeTwilio
) -> None:
    """LINE accounts opened to ask for verification calls (each to a new number) used to
    spend the month's budget; a resident's call before her alert then never rang. A month
    holds at most a tenth of the budget in verification calls (at least five)."""
    bot = await start_bot(**calling_through(twilio, call_budget=20))
    cap = verify.month_cap(20)
    assert cap == verify.VERIFY_MONTH_LEAST
    resident, (son,) = await watched_resident(bot, "resident", ["son"])
    her = Page(bot, resident, "resident")
    await her.accept_terms()
    await her.call("PUT", "/liff/api/me/calls", {"number": "090-1234-5678", "before_alert": True})
    code = code_read_in(twilio.calls[-1].spoken())
    assert (await her.call("POST", "/liff/api/me/calls/code", {"code": code}))[0] == 200

    refused = None
    for n in range(10):
        page, _ = await stranger(bot, f"attacker{n}")
        status, body = await set_number(page, f"090-2222-{n:04d}")
        if status != 200:
            refused = body["error"]
            async with bot.repos() as repos:
                member = await repos.members.by_line_id(page.uid)
            assert member is not None and member.call_number is None, "nothing changed"
            break
        for _ in range(2):
            status, body = await page.call("POST", "/liff/api/me/calls/verify", {})
            if status != 200:
                refused = body["error"]
                break
        if refused:
            break
    assert refused == "verify_month_spent"
    assert len(twilio.calls) == cap  # hers, and the strangers' up to the cap

    await run_to(bot, tokyo(11, 24, 9))
    await run_to(bot, tokyo(11, 25, 9))
    await run_to(bot, tokyo(11, 25, 12))
    assert len(twilio.to(HERS)) == 2, "her verification call, and the call before her alert"


async def test_nobody_elses_verification_call_rings_a_number_that_is_someones(
    bot: Bot, twilio: FakeTwilio
) -> None:
    """A phone-only resident's landline, or a member's verified number, typed on My page by a
    stranger: refused, nothing kept, nothing rung (their day's calls would be his to spend)."""
    await team_with_landline_resident(bot)
    resident, _ = await watched_resident(bot, "resident", ["son"])
    her = Page(bot, resident, "resident")
    await her.accept_terms()
    await set_number(her, "090-1234-5678")
    code = code_read_in(twilio.calls[-1].spoken())
    assert (await her.call("POST", "/liff/api/me/calls/code", {"code": code}))[0] == 200
    rung = len(twilio.calls)

    page, _ = await stranger(bot)
    for number in ("03-1234-5678", "090-1234-5678"):
        status, body = await set_number(page, number)
        assert (status, body["error"]) == (409, "number_taken")
    async with bot.repos() as repos:
        member = await repos.members.by_line_id(page.uid)
    assert member is not None and member.call_number is None
    assert len(twilio.calls) == rung


async def test_her_own_check_in_calls_are_not_held_by_the_cap_per_number(
    bot: Bot, twilio: FakeTwilio
) -> None:
    """Calls to her landline of the last day at the cap (however they came): her re-send still
    rings, her only channel, and no false alert goes to her son while it waits."""
    member_id, son = await team_with_landline_resident(bot)
    await run_to(bot, tokyo(11, 24, 9))
    assert len(twilio.to(LANDLINE_DIALLED)) == 1  # her check-in; she is out
    cap = bot.settings.call_number_daily
    async with bot.repos() as repos:
        for _ in range(cap):
            row = await repos.outbox.add(
                kind="push",
                channel="voice",
                recipients=[LANDLINE_DIALLED],
                tellings=[],
                purpose=VERIFY_PURPOSE,
                now=tokyo(11, 24, 10),
            )
            await repos.outbox.mark_sent(row, tokyo(11, 24, 10))
        assert await repos.calls.calls_to(LANDLINE_DIALLED, tokyo(11, 24, 10)) >= cap
    await run_to(bot, tokyo(11, 25, 9))
    rang = twilio.to(LANDLINE_DIALLED)
    assert len(rang) > 1, "her re-send rang despite the cap"
    async with bot.repos() as repos:
        refused = await repos.conn.fetch_all(
            "SELECT purpose FROM outbox WHERE state = 'failed' AND last_error LIKE ?",
            ("%number_capped%",),
        )
    assert refused == []
    await twilio.press(bot.client, rang[-1], "1")
    await bot.settle()
    await run_to(bot, tokyo(11, 25, 12))
    assert [t for t in bot.line.texts_to(son) if ALERT in t] == []
    assert member_id


async def test_the_desk_moves_her_check_in_calls_only_with_her_consent_and_all_hear_it(
    bot: Bot, twilio: FakeTwilio
) -> None:
    """One console account used to move a phone-only resident's check-ins to its own phone
    without a word to anyone (and answer them for her). Now it needs the form's tick; her old
    phone hears it, the new one too, and her son in LINE, with the last four digits only."""
    member_id, son = await team_with_landline_resident(bot)
    path = f"/admin/people/{member_id}"
    token = await csrf(bot.client, path)
    before = len(bot.line.texts_to(son))
    form = {"csrf_token": token, "action": "calls", "call_number": "090-9999-0000"}
    response = await bot.client.post(path, data=form)
    assert response.status == 400
    assert len(twilio.calls) == 0 and len(bot.line.texts_to(son)) == before
    async with bot.repos() as repos:
        member = await repos.members.get(member_id)
    assert member is not None and member.channel_address == LANDLINE_DIALLED, "nothing changed"

    assert (await bot.client.post(path, data={**form, "consented": "on"})).status == 200
    await bot.settle()
    (old,) = twilio.to(LANDLINE_DIALLED)
    assert JA.t("calls.guard.phone_number_moved", ending="0000") in old.spoken()
    (new,) = twilio.to("+819099990000")
    assert JA.t("on_behalf.phone_number_set") in new.spoken()
    told = said(
        bot.line.texts_to(son), "calls.guard.number_changed", ending="0000", name="山田花子"
    )
    assert len(told) == 1 and "9999" not in told[0]


async def test_a_device_the_desk_links_or_removes_is_told_to_her_managers(
    bot: Bot, twilio: FakeTwilio
) -> None:
    member_id, son = await team_with_landline_resident(bot)
    path = f"/admin/people/{member_id}"
    token = await csrf(bot.client, path)
    device = {"csrf_token": token, "action": "link_device", "label": "玄関", "consented": "on"}
    assert (await bot.client.post(path, data=device)).status == 200
    await bot.settle()
    assert said(
        bot.line.texts_to(son), "calls.guard.device_linked", device="玄関", name="山田花子"
    )
    async with bot.repos() as repos:
        (linked,) = await repos.devices.of_member(member_id)
    revoke = {"csrf_token": token, "action": "revoke_device", "device_id": str(linked.id)}
    assert (await bot.client.post(path, data=revoke)).status == 200
    await bot.settle()
    assert said(
        bot.line.texts_to(son),
        "calls.guard.device_removed_managers",
        device="玄関",
        name="山田花子",
    )
    spoken = twilio.to(LANDLINE_DIALLED)[-1].spoken()
    assert JA.t("calls.guard.phone_device_removed", device="玄関") in spoken


async def test_she_hears_in_line_when_the_desk_removes_her_device(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    bot = await start_bot(desk_after=timedelta(hours=6))
    resident, (son,) = await watched_resident(bot, "resident", ["son"])
    page = Page(bot, resident, "resident")
    await page.accept_terms()
    status, linked = await page.call(
        "POST", "/liff/api/me/devices", {"label": "玄関", "counts_as_ok": True}
    )
    assert status == 200
    await staff_signed_in(bot)
    token = await csrf(bot.client, "/admin/teams/1")
    await bot.client.post("/admin/teams/1", data={"csrf_token": token, "action": "desk_watch_on"})
    async with bot.repos() as repos:
        member = await repos.members.by_line_id(resident)
    assert member is not None
    path = f"/admin/people/{member.id}"
    revoke = {"csrf_token": token, "action": "revoke_device", "device_id": str(linked["id"])}
    assert (await bot.client.post(path, data=revoke)).status == 200
    await bot.settle()
    assert said(bot.line.texts_to(resident)[-1:], "calls.guard.device_removed", device="玄関")
    assert said(
        bot.line.texts_to(son)[-1:],
        "calls.guard.device_removed_managers",
        device="玄関",
        name="resident",
    )
