"""A sign of life from a device, and the person's own settings for calls and devices on My
page: a ping answers a waiting check-in when she chose so, only shows otherwise, never closes
an alert (the managers hear of it once), and a revoked or unknown URL is refused."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from care.rounds.protocol import Stage, stage_of
from ground.seals import SEAL_LENGTH
from tests.conftest import Bot
from tests.drivers import ALERT, Page, member_of, ok_data, run_to, tokyo, watched_resident
from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM
from tests.wording import JA, said


async def open_stage(bot: Bot, uid: str) -> Stage:
    member = await member_of(bot, uid)
    async with bot.repos() as repos:
        return stage_of(await repos.rounds.open_round(member.id))


def moved(bot: Bot, uid: str) -> list[str]:
    return said(bot.line.texts_to(uid), "activity.notice", name="resident", device="玄関")


async def linked(page: Page, label: str, counts_as_ok: bool) -> tuple[int, str]:
    status, body = await page.call(
        "POST", "/liff/api/me/devices", {"label": label, "counts_as_ok": counts_as_ok}
    )
    assert status == 200, body
    url = urlsplit(body["url"])
    assert body["url"].startswith("https://mimamori.example.jp/ping/")
    return body["id"], url.path


async def test_a_ping_answers_her_waiting_check_in_as_she_chose(bot: Bot) -> None:
    resident, (son,) = await watched_resident(bot, "resident", ["son"])
    page = Page(bot, resident, "resident")
    await page.accept_terms()
    _, door = await linked(page, "玄関", counts_as_ok=True)
    _, kettle = await linked(page, "電気ポット", counts_as_ok=False)

    await run_to(bot, tokyo(11, 24, 9))
    assert await open_stage(bot, resident) is Stage.ASKED
    # Only shown: the kettle's ping answers nothing.
    bot.clock.set(tokyo(11, 24, 9, 5))
    assert (await bot.client.post(kettle)).status == 204
    assert await open_stage(bot, resident) is Stage.ASKED
    # The door counts as 元気: the check-in is answered, and nobody is told anything.
    bot.clock.set(tokyo(11, 24, 9, 12))
    assert (await bot.client.post(door)).status == 204
    assert await open_stage(bot, resident) is Stage.IDLE
    await run_to(bot, tokyo(11, 25, 13))
    assert not any(ALERT in text for text in bot.line.texts_to(son))
    page.renew()  # opened again the next day
    status, me = await page.call("GET", "/liff/api/me")
    assert status == 200, me
    assert me["member"]["last_activity"] == JA.t(
        "activity.line", at=bot.services.locale("ja").when(tokyo(11, 24, 9, 12)), device="玄関"
    )
    son_page = Page(bot, son, "son")
    await son_page.accept_terms()
    member_id = (await member_of(bot, resident)).id
    _, card = await son_page.call("GET", f"/liff/api/members/{member_id}")
    assert card["member"]["last_activity"] == me["member"]["last_activity"]
    assert "devices" not in card["member"] and "calls" not in card["member"]
    # In the chat too: the team's member list shows her son the last movement.
    await bot.tap_action(son, "team_members", t=1)
    assert me["member"]["last_activity"] in bot.line.reply_texts()[-1]


async def test_during_an_alert_a_ping_is_a_sign_of_life_never_safety(bot: Bot) -> None:
    resident, (son,) = await watched_resident(bot, "resident", ["son"])
    page = Page(bot, resident, "resident")
    await page.accept_terms()
    _, door = await linked(page, "玄関", counts_as_ok=True)
    await run_to(bot, tokyo(11, 24, 9))
    await run_to(bot, tokyo(11, 25, 9))
    await run_to(bot, tokyo(11, 25, 12))
    assert await open_stage(bot, resident) is Stage.ALERTED
    assert (await bot.client.post(door)).status == 204
    await bot.settle()
    assert await open_stage(bot, resident) is Stage.ALERTED
    assert len(moved(bot, son)) == 1
    assert not said(bot.line.texts_to(son), "safe.body", name="resident")
    # Later pings in the same alert tell nobody again; sooner than a minute is refused.
    assert (await bot.client.post(door)).status == 429
    bot.clock.advance(timedelta(minutes=5))
    assert (await bot.client.post(door)).status == 204
    await bot.settle()
    assert len(moved(bot, son)) == 1


async def test_a_revoked_or_unknown_device_url_is_refused(bot: Bot) -> None:
    resident, _ = await watched_resident(bot, "resident", ["son"])
    page = Page(bot, resident, "resident")
    await page.accept_terms()
    device_id, door = await linked(page, "玄関", counts_as_ok=True)
    assert (await bot.client.post("/ping/not-a-token")).status == 404
    assert (await bot.client.post("/ping/" + "x" * 500)).status == 404
    status, _ = await page.call("DELETE", f"/liff/api/me/devices/{device_id}")
    assert status == 200
    assert (await bot.client.post(door)).status == 404
    assert (await page.call("DELETE", f"/liff/api/me/devices/{device_id}"))[0] == 404
    for bad in ({"label": "", "counts_as_ok": True}, {"label": "玄関", "counts_as_ok": "yes"}):
        assert (await page.call("POST", "/liff/api/me/devices", bad))[0] == 400
    _, me = await page.call("GET", "/liff/api/me")
    assert me["member"]["devices"] == []


async def test_she_consents_to_a_call_on_my_page(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    without = await start_bot()
    resident, _ = await watched_resident(without, "resident", ["son"])
    page = Page(without, resident, "resident")
    await page.accept_terms()
    body = {"number": "090-1234-5678", "before_alert": True}
    status, answer = await page.call("PUT", "/liff/api/me/calls", body)
    assert (status, answer["error"]) == (409, "no_calls")  # this deployment places no calls

    bot = await start_bot(
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN,
        twilio_from=FROM,
        twilio_api_base_url="http://127.0.0.1:9",
        call_budget=5,
    )
    page = Page(bot, resident, "resident")
    for wrong in ({"number": "12", "before_alert": True}, {"number": "", "before_alert": True}):
        status, answer = await page.call("PUT", "/liff/api/me/calls", wrong)
        assert (status, answer["error"]) == (400, "invalid_phone")
    status, answer = await page.call("PUT", "/liff/api/me/calls", body)
    assert (status, answer["number"]) == (200, "+819012345678")
    _, me = await page.call("GET", "/liff/api/me")
    assert me["member"]["calls"] == {
        "available": True,
        "number": "+819012345678",
        "before_alert": True,
        # Not hers until she types the code its call reads out (tests/test_call_numbers.py).
        "verified": False,
        "code_waiting": True,
        "watched": True,
    }
    member = await member_of(bot, resident)
    assert member.call_before_alert and member.call_consented_by == "self"


async def _ok_each_day(bot: Bot, uid: str, days: list[tuple[int, int]]) -> None:
    """Her check-in each day at 9:00, answered with OK by her own tap."""
    for month, day in days:
        await run_to(bot, tokyo(month, day, 9))
        await bot.tap(uid, ok_data(bot, uid))


async def test_a_device_that_answers_her_going_quiet_is_told_once_each_time(bot: Bot) -> None:
    resident, (son,) = await watched_resident(bot, "resident", ["son"])
    page = Page(bot, resident, "resident")
    await page.accept_terms()
    _, door = await linked(page, "玄関", counts_as_ok=True)
    await linked(page, "電気ポット", counts_as_ok=False)  # only shows: never told of
    await run_to(bot, tokyo(11, 24, 9))
    bot.clock.set(tokyo(11, 24, 9, 5))
    assert (await bot.client.post(door)).status == 204
    when = bot.services.locale("ja").when

    def quiet(uid: str, since: datetime) -> list[str]:
        key = "activity.quiet_you" if uid == resident else "activity.quiet_notice"
        return said(bot.line.texts_to(uid), key, device="玄関", since=when(since), name="resident")

    # The door falls silent after 11/24 9:05; she answers her check-ins herself meanwhile.
    await _ok_each_day(bot, resident, [(11, 25), (11, 26), (11, 27)])
    await run_to(bot, tokyo(11, 27, 9, 4))
    assert quiet(resident, tokyo(11, 24, 9, 5)) == [] and quiet(son, tokyo(11, 24, 9, 5)) == []
    await run_to(bot, tokyo(11, 27, 9, 6))
    assert len(quiet(resident, tokyo(11, 24, 9, 5))) == 1
    assert len(quiet(son, tokyo(11, 24, 9, 5))) == 1
    assert not any("電気ポット" in text for text in bot.line.texts_to(son))
    # Told once, not at every sweep.
    await _ok_each_day(bot, resident, [(11, 28)])
    await run_to(bot, tokyo(11, 28, 20))
    assert len(quiet(resident, tokyo(11, 24, 9, 5))) == 1
    assert len(quiet(son, tokyo(11, 24, 9, 5))) == 1

    # New batteries: it pings again, then goes quiet again, and that is told again.
    bot.clock.set(tokyo(11, 28, 20, 30))
    assert (await bot.client.post(door)).status == 204
    await _ok_each_day(bot, resident, [(11, 29), (11, 30), (12, 1)])
    await run_to(bot, tokyo(12, 1, 20, 29))
    assert quiet(son, tokyo(11, 28, 20, 30)) == []
    await run_to(bot, tokyo(12, 1, 20, 31))
    assert len(quiet(resident, tokyo(11, 28, 20, 30))) == 1
    assert len(quiet(son, tokyo(11, 28, 20, 30))) == 1


async def test_a_quiet_device_is_not_told_when_the_deployment_turned_it_off_or_it_is_revoked(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    bot = await start_bot(device_quiet_after=None)
    resident, (son,) = await watched_resident(bot, "resident", ["son"])
    page = Page(bot, resident, "resident")
    await page.accept_terms()
    await linked(page, "玄関", counts_as_ok=True)
    await _ok_each_day(bot, resident, [(11, 24), (11, 25), (11, 26), (11, 27)])
    assert not said(bot.line.texts_to(son), "activity.quiet_notice", name="resident")

    bot = await start_bot()  # the default: told after three days
    page = Page(bot, resident, "resident")
    device_id, _ = await linked(page, "勝手口", counts_as_ok=True)
    assert (await page.call("DELETE", f"/liff/api/me/devices/{device_id}"))[0] == 200
    await run_to(bot, tokyo(11, 27, 10))
    (told,) = said(bot.line.texts_to(son), "activity.quiet_notice", name="resident")
    assert "玄関" in told, "the door, linked days ago and never heard from; not the one revoked"


async def test_a_guessed_device_url_is_refused_without_a_transaction_and_get_answers_nothing(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    """A device URL nobody was given costs no transaction (its seal does not hold); a link
    previewer's GET never answers her check-in; a URL from before seals still works, known by
    the hashes read at start, and a guess of that length is refused the same cheap way."""
    from care.rounds import devices as device_rules

    bot = await start_bot()
    resident, _ = await watched_resident(bot, "resident", ["son"])
    page = Page(bot, resident, "resident")
    await page.accept_terms()
    _, door = await linked(page, "玄関", counts_as_ok=True)
    token = door.rsplit("/", 1)[1]
    assert device_rules.sealed(bot.settings.channel_secret, token)
    assert (await bot.client.get(door)).status == 405, "only POST: a GET answers nothing"
    # An unsealed device of before, its hash in the database.
    old = "o" * device_rules.RANDOM_LENGTH
    member = await member_of(bot, resident)
    async with bot.repos() as repos:
        await repos.devices.add(
            member.id, "古い機器", True, device_rules.token_hash(old), bot.clock.now()
        )
    bot = await start_bot()  # restarted: the unsealed hashes are read at start

    forged = token[: device_rules.RANDOM_LENGTH] + "A" * SEAL_LENGTH
    async with bot.services.unit_of_work():  # the writer is held (a long sweep, say)
        for guess in (forged, "g" * device_rules.RANDOM_LENGTH, "short"):
            # Answered at once: refusing a guess waits for no transaction.
            answer = await asyncio.wait_for(bot.client.post(f"/ping/{guess}"), timeout=5)
            assert answer.status == 404, guess
    assert (await bot.client.post(f"/ping/{old}")).status == 204
    bot.clock.advance(timedelta(minutes=2))
    assert (await bot.client.post(door)).status == 204
