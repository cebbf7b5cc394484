"""Calls cost the city money: only to numbers that are hers. Through the stand-in Twilio: a
number set on My page is rung once with a code she types there before any call before an alert
goes to it (or staff confirm it with her beside them); foreign, premium-rate and service
numbers are refused where they are set and again when dialled; nobody watched, no call; a
daily cap per number; and the check-ins of people watched by phone alone in the forecast."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import pytest

from care.errors import Refusal
from care.rounds import numbers
from care.rounds.protocol import Stage
from ground.settings import Settings, SettingsError
from storage.calls import VERIFY_PURPOSE
from storage.database import database_for
from storage.models import Role
from storage.repositories import unit_of_work
from tests.conftest import Bot
from tests.drivers import (
    ALERT,
    Page,
    code_read_in,
    create_team,
    csrf,
    join,
    member_of,
    other_staff,
    run_to,
    staff_signed_in,
    stage,
    team_of,
    tokyo,
    watched_resident,
)
from tests.fake_twilio import FakeTwilio, calling_through
from tests.wording import said, says, t

MOBILE = "090-1234-5678"
DIALLED = "+819012345678"
JAPAN = frozenset({"81"})
NANP = frozenset({"81", "1"})  # a city that calls North America too


@pytest.fixture
async def bot(start_bot: Callable[..., Awaitable[Bot]], twilio: FakeTwilio) -> Bot:
    return await start_bot(**calling_through(twilio, call_budget=30))


# --- the rule, as a table ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "countries", "refused"),
    [
        ("+819012345678", JAPAN, None),  # 090: a mobile phone
        ("+818012345678", JAPAN, None),  # 080
        ("+817012345678", JAPAN, None),  # 070
        ("+815012345678", JAPAN, None),  # 050: an IP phone at home
        ("+81312345678", JAPAN, None),  # 03: a landline in Tokyo
        ("+81662345678", JAPAN, None),  # 06: a landline in Osaka
        ("+81120123456", JAPAN, Refusal.NUMBER_NOT_A_PERSON),  # 0120 フリーダイヤル
        ("+81800123456", JAPAN, Refusal.NUMBER_NOT_A_PERSON),  # 0800 フリーダイヤル
        ("+818001234567", JAPAN, Refusal.NUMBER_NOT_A_PERSON),
        ("+81570012345", JAPAN, Refusal.NUMBER_NOT_A_PERSON),  # 0570 ナビダイヤル
        ("+81990123456", JAPAN, Refusal.NUMBER_NOT_A_PERSON),  # 0990 ダイヤルQ2
        ("+81180123456", JAPAN, Refusal.NUMBER_NOT_A_PERSON),  # 0180 テレドーム
        ("+81170123456", JAPAN, Refusal.NUMBER_NOT_A_PERSON),  # 0170 伝言ダイヤル
        ("+812012345678", JAPAN, Refusal.NUMBER_NOT_A_PERSON),  # 020 M2M, pagers
        ("+8112345", JAPAN, Refusal.INVALID_PHONE),  # too short for Japan
        ("+81901234567890", JAPAN, Refusal.INVALID_PHONE),  # too long
        ("+8109012345678", JAPAN, Refusal.INVALID_PHONE),  # the trunk 0 kept
        ("+12025550123", JAPAN, Refusal.NUMBER_ABROAD),  # the United States
        ("+442071234567", JAPAN, Refusal.NUMBER_ABROAD),  # the United Kingdom
        ("+882123456789", JAPAN, Refusal.NUMBER_ABROAD),  # international networks
        ("+12025550123", frozenset({"81", "1"}), None),  # a city that calls North America
        ("+14165550123", NANP, None),  # Toronto: Canada is in the plan too
        # +1 is not one country: the Caribbean and Atlantic ones sharing it, where premium and
        # revenue-share fraud pays, are abroad; 900 and 976 are premium rate.
        ("+18765550123", NANP, Refusal.NUMBER_ABROAD),  # Jamaica
        ("+12845550123", NANP, Refusal.NUMBER_ABROAD),  # the British Virgin Islands
        ("+16495550123", NANP, Refusal.NUMBER_ABROAD),  # Turks and Caicos
        ("+12425550123", NANP, Refusal.NUMBER_ABROAD),  # the Bahamas
        ("+18095550123", NANP, Refusal.NUMBER_ABROAD),  # the Dominican Republic
        ("+18295550123", NANP, Refusal.NUMBER_ABROAD),  # the Dominican Republic
        ("+14415550123", NANP, Refusal.NUMBER_ABROAD),  # Bermuda
        ("+16585550123", NANP, Refusal.NUMBER_ABROAD),  # Jamaica
        ("+17215550123", NANP, Refusal.NUMBER_ABROAD),  # Sint Maarten
        ("+18685550123", NANP, Refusal.NUMBER_ABROAD),  # Trinidad and Tobago
        ("+19005550123", NANP, Refusal.NUMBER_NOT_A_PERSON),  # premium rate
        ("+19765550123", NANP, Refusal.NUMBER_NOT_A_PERSON),  # premium rate
        ("+1202555012", NANP, Refusal.INVALID_PHONE),  # too short
        ("+10125550123", NANP, Refusal.INVALID_PHONE),  # no area code starts with 0
        ("+819012345678", frozenset({"1"}), Refusal.NUMBER_ABROAD),
        ("819012345678", JAPAN, Refusal.INVALID_PHONE),
    ],
)
def test_which_numbers_the_city_may_ring(
    number: str, countries: frozenset[str], refused: Refusal | None
) -> None:
    assert numbers.refusal(number, countries) is refused


def test_the_countries_are_a_setting_japan_unless_said() -> None:
    env = {
        "LINE_CHANNEL_SECRET": "s",
        "LINE_CHANNEL_ACCESS_TOKEN": "t",
        "TWILIO_ACCOUNT_SID": "AC0",
        "TWILIO_AUTH_TOKEN": "x",
        "TWILIO_FROM": "+815000000000",
    }
    settings = Settings.from_env(env)
    assert settings.call_countries == {"81"} and settings.call_number_daily == 4
    more = Settings.from_env({**env, "MIMAMORI_CALL_COUNTRIES": "+81, 1"})
    assert more.call_countries == {"81", "1"}
    assert Settings.from_env({**env, "MIMAMORI_CALL_NUMBER_DAILY": "2"}).call_number_daily == 2
    for name, wrong in (
        ("MIMAMORI_CALL_COUNTRIES", "Japan"),
        ("MIMAMORI_CALL_COUNTRIES", "+0"),
        ("MIMAMORI_CALL_NUMBER_DAILY", "0"),
        ("MIMAMORI_CALL_NUMBER_DAILY", "500"),
    ):
        with pytest.raises(SettingsError, match=name):
            Settings.from_env({**env, name: wrong})


# --- verification on My page ----------------------------------------------------------------


async def resident_page(bot: Bot) -> tuple[Page, str]:
    """A resident on My page (daily at 9:00) whom her son watches. -> (her page, his id)."""
    resident, (son,) = await watched_resident(bot, "resident", ["son"])
    page = Page(bot, resident, "resident")
    await page.accept_terms()
    return page, son


async def calls_of(page: Page) -> dict[str, object]:
    status, body = await page.call("GET", "/liff/api/me")
    assert status == 200
    calls: dict[str, object] = body["member"]["calls"]
    return calls


async def set_number(page: Page, number: str = MOBILE) -> tuple[int, dict[str, object]]:
    status, body = await page.call(
        "PUT", "/liff/api/me/calls", {"number": number, "before_alert": True}
    )
    return status, body


async def type_code(page: Page, code: str) -> tuple[int, dict[str, object]]:
    status, body = await page.call("POST", "/liff/api/me/calls/code", {"code": code})
    return status, body


def alerts_to(bot: Bot, uid: str) -> list[str]:
    return [text for text in bot.line.texts_to(uid) if ALERT in text]


async def to_the_alert(bot: Bot) -> None:
    """Check-in at 9:00, re-send the next day at 9:00, and at 12:00 the call or the alert."""
    await run_to(bot, tokyo(11, 24, 9))
    await run_to(bot, tokyo(11, 25, 9))
    await run_to(bot, tokyo(11, 25, 12))


async def test_a_number_is_hers_once_she_types_the_code_its_call_read_out(
    bot: Bot, twilio: FakeTwilio
) -> None:
    page, son = await resident_page(bot)
    status, body = await set_number(page)
    assert status == 200 and body["number"] == DIALLED and body["calling"] is True
    (call,) = twilio.to(DIALLED)
    code = code_read_in(call.spoken())
    assert len(code) == 4 and call.spoken()[0] == call.spoken()[1], "said twice"
    async with bot.repos() as repos:  # recorded before it was sent, as every message
        assert await repos.calls.placed_since_for(tokyo(11, 1, 0), (VERIFY_PURPOSE,)) == 1
    calls = await calls_of(page)
    assert calls["verified"] is False and calls["code_waiting"] is True
    wrong = "0000" if code != "0000" else "1111"
    status, body = await type_code(page, wrong)
    assert status == 400 and body["error"] == "wrong_code" and body["detail"] == "2"
    status, body = await type_code(page, "".join(chr(ord(d) + 0xFEE0) for d in code))  # ５６７８
    assert status == 200 and body["verified"] is True
    calls = await calls_of(page)
    assert calls["verified"] is True and calls["code_waiting"] is False

    # Now the call before the alert rings her number, and holds the alert.
    await to_the_alert(bot)
    assert len(twilio.to(DIALLED)) == 2
    assert alerts_to(bot, son) == []
    assert await stage(bot, page.uid) is Stage.CALLED

    # Another number is not hers until it is verified in turn.
    page.renew()
    status, body = await set_number(page, "03-1234-5678")
    assert body["calling"] is True
    assert (await calls_of(page))["verified"] is False


async def test_an_unverified_number_is_never_rung_before_the_alert(
    bot: Bot, twilio: FakeTwilio
) -> None:
    page, son = await resident_page(bot)
    await set_number(page)  # the verification call rings; nobody types the code
    await to_the_alert(bot)
    assert len(twilio.calls) == 1, "only the verification call"
    assert len(alerts_to(bot, son)) == 1, "the alert is not held for a call never placed"
    assert await stage(bot, page.uid) is Stage.ALERTED


async def test_wrong_codes_spend_the_call_and_a_code_lasts_minutes(
    bot: Bot, twilio: FakeTwilio
) -> None:
    page, _ = await resident_page(bot)
    await set_number(page)
    code = code_read_in(twilio.calls[-1].spoken())
    wrong = "0000" if code != "0000" else "1111"
    assert (await type_code(page, wrong))[1]["detail"] == "2"
    assert (await type_code(page, wrong))[1]["detail"] == "1"
    status, body = await type_code(page, wrong)
    assert status == 409 and body["error"] == "code_spent"
    status, body = await type_code(page, code)  # too late: that call's code is spent
    assert status == 409 and body["error"] == "no_code"
    assert (await calls_of(page))["verified"] is False

    # A new call, a new code; past ten minutes it no longer counts.
    status, _ = await page.call("POST", "/liff/api/me/calls/verify", {})
    assert status == 200 and len(twilio.calls) == 2
    code = code_read_in(twilio.calls[-1].spoken())
    bot.clock.advance(timedelta(minutes=10))
    page.renew()
    status, body = await type_code(page, code)
    assert status == 409 and body["error"] == "code_expired"
    assert (await calls_of(page))["verified"] is False


async def test_verification_calls_are_few_a_day_per_person_and_per_number(
    bot: Bot, twilio: FakeTwilio
) -> None:
    page, _ = await resident_page(bot)
    await set_number(page)
    for _ in range(2):
        assert (await page.call("POST", "/liff/api/me/calls/verify", {}))[0] == 200
    status, body = await page.call("POST", "/liff/api/me/calls/verify", {})
    assert status == 429 and body["error"] == "too_often"
    assert len(twilio.calls) == 3

    # Another account asking for the same number is held to the number's limit too; nothing
    # is changed by the refusal (its number stays unset).
    other, _ = await watched_resident(bot, "other", ["friend"])
    other_page = Page(bot, other, "other")
    await other_page.accept_terms()
    status, body = await set_number(other_page)
    assert status == 429 and body["error"] == "too_often"
    assert (await calls_of(other_page))["number"] is None
    assert len(twilio.calls) == 3

    # A day later she may ask again.
    bot.clock.advance(timedelta(hours=24, minutes=1))
    page.renew()
    assert (await page.call("POST", "/liff/api/me/calls/verify", {}))[0] == 200
    assert len(twilio.calls) == 4


async def test_foreign_and_premium_numbers_are_refused_on_my_page_and_the_console(
    start_bot: Callable[..., Awaitable[Bot]], twilio: FakeTwilio
) -> None:
    bot = await start_bot(**calling_through(twilio, call_budget=30, desk_after=timedelta(hours=1)))
    page, _ = await resident_page(bot)
    for number, error in (
        ("+44 20 7123 4567", "number_abroad"),
        ("+1 202 555 0123", "number_abroad"),
        ("0990-12-3456", "number_not_a_person"),
        ("0570-01-2345", "number_not_a_person"),
        ("0120-123-456", "number_not_a_person"),
    ):
        status, body = await set_number(page, number)
        assert (status, body["error"]) == (400, error), number
    assert (await calls_of(page))["number"] is None, "a refusal changes nothing"
    assert twilio.calls == []

    await staff_signed_in(bot)
    token = await csrf(bot.client, "/admin/teams/1")
    await bot.client.post("/admin/teams/1", data={"csrf_token": token, "action": "desk_watch_on"})
    member = await member_of(bot, page.uid)
    path = f"/admin/people/{member.id}"
    form = {"csrf_token": token, "action": "calls", "call_before_alert": "on"}
    response = await bot.client.post(path, data={**form, "call_number": "+442071234567"})
    text = t("admin.calls_verify.refused.number_abroad", countries="+81")
    assert response.status == 400 and await response.text() == text
    response = await bot.client.post(path, data={**form, "call_number": "0990-12-3456"})
    assert await response.text() == t("admin.calls_verify.refused.number_not_a_person")
    assert (await member_of(bot, page.uid)).call_number is None
    assert twilio.calls == []


async def test_the_countries_are_asked_again_when_a_call_is_dialled(
    start_bot: Callable[..., Awaitable[Bot]], twilio: FakeTwilio
) -> None:
    bot = await start_bot(**calling_through(twilio, call_budget=30))
    page, son = await resident_page(bot)
    await set_number(page)
    assert (await type_code(page, code_read_in(twilio.calls[-1].spoken())))[0] == 200
    # The city narrows its countries: her verified Japanese number is no longer called, and
    # the alert goes out at once, as past the budget.
    bot = await start_bot(**calling_through(twilio, call_budget=30, call_countries={"1"}))
    await to_the_alert(bot)
    assert len(twilio.calls) == 1
    assert len(alerts_to(bot, son)) == 1
    # A call recorded before the change is refused as it is dialled, and not rung.
    async with bot.repos() as repos:
        row = await repos.outbox.add(
            kind="push",
            channel="voice",
            recipients=[DIALLED],
            tellings=[],
            purpose=VERIFY_PURPOSE,
            now=bot.clock.now(),
        )
    await bot.sweep()
    assert len(twilio.calls) == 1
    async with bot.repos() as repos:
        failed = await repos.conn.fetch_one(
            "SELECT state, last_error FROM outbox WHERE id = ?", (row,)
        )
    assert failed is not None and failed[0] == "failed" and "number_abroad" in failed[1]


async def test_nobody_watches_her_no_call_and_my_page_says_so(
    bot: Bot, twilio: FakeTwilio
) -> None:
    stranger = await bot.follow("stranger")
    await create_team(bot, stranger, "ひとり", as_user=True)
    page = Page(bot, stranger, "stranger")
    await page.accept_terms()
    assert (await calls_of(page))["watched"] is False
    status, body = await set_number(page)
    assert status == 200 and body["calling"] is False  # kept, and not rung
    status, body = await page.call("POST", "/liff/api/me/calls/verify", {})
    assert (status, body["error"]) == (409, "nobody_watches")
    assert twilio.calls == []


async def test_the_toll_fraud_of_the_finding_is_stopped(bot: Bot, twilio: FakeTwilio) -> None:
    """Follow the bot, start 毎日 朝9時, set any number on My page and never answer: before,
    the city's phone rang it every two days; now it rings nothing it may not."""
    stranger = await bot.follow("stranger")
    await create_team(bot, stranger, "ひとり", as_user=True)
    page = Page(bot, stranger, "stranger")
    await page.accept_terms()
    for number in ("+882 1234 56789", "+44 909 876 5432", "0990-12-3456", "0570-01-2345"):
        status, _ = await set_number(page, number)
        assert status == 400
    await set_number(page)  # a Japanese mobile he holds: nobody watches him, nothing rings
    for day in range(24, 28):
        await run_to(bot, tokyo(11, day, 9))
        await run_to(bot, tokyo(11, day, 12))
    assert twilio.calls == []
    # A second account of his own as his watcher: one verification call, whose code he never
    # types, and still no call before any alert.
    accomplice = await bot.follow("accomplice")
    team = await team_of(bot, stranger)
    async with bot.repos() as repos:
        code = await repos.teams.active_invite(team, Role.MANAGER)
    assert code is not None
    await join(bot, accomplice, code.code)
    page.renew()
    assert (await page.call("POST", "/liff/api/me/calls/verify", {}))[0] == 200
    for day in range(28, 31):
        await run_to(bot, tokyo(11, day, 9))
        await run_to(bot, tokyo(11, day, 12))
    assert len(twilio.calls) == 1 and twilio.calls[0].to == DIALLED


async def test_a_daily_cap_per_number_and_the_ladder_goes_on_without_the_call(
    start_bot: Callable[..., Awaitable[Bot]], twilio: FakeTwilio
) -> None:
    bot = await start_bot(**calling_through(twilio, call_budget=30, call_number_daily=2))
    page, son = await resident_page(bot)
    await set_number(page)
    assert (await type_code(page, code_read_in(twilio.calls[-1].spoken())))[0] == 200
    # Calls to the same number from another account that day: the cap is the number's.
    async with bot.repos() as repos:
        for _ in range(2):
            row = await repos.outbox.add(
                kind="push",
                channel="voice",
                recipients=[DIALLED],
                tellings=[],
                purpose="call",
                now=tokyo(11, 25, 8),
            )
            await repos.outbox.mark_sent(row, tokyo(11, 25, 8))
    await to_the_alert(bot)
    assert len(twilio.to(DIALLED)) == 1, "only the verification call"
    assert len(alerts_to(bot, son)) == 1
    assert await stage(bot, page.uid) is Stage.ALERTED


async def test_staff_confirm_a_number_only_with_her_present(
    start_bot: Callable[..., Awaitable[Bot]], twilio: FakeTwilio
) -> None:
    bot = await start_bot(**calling_through(twilio, call_budget=30, desk_after=timedelta(hours=1)))
    page, son = await resident_page(bot)
    await staff_signed_in(bot)
    token = await csrf(bot.client, "/admin/teams/1")
    await bot.client.post("/admin/teams/1", data={"csrf_token": token, "action": "desk_watch_on"})
    member = await member_of(bot, page.uid)
    path = f"/admin/people/{member.id}"
    form = {"csrf_token": token, "action": "calls", "call_before_alert": "on"}
    assert (await bot.client.post(path, data={**form, "call_number": MOBILE})).status == 200
    card = await (await bot.client.get(path)).text()
    assert t("admin.calls_verify.not_verified") in card
    confirm = {"csrf_token": token, "action": "confirm_number"}
    response = await bot.client.post(path, data=confirm)
    assert response.status == 400
    assert await response.text() == t("admin.calls_verify.refused.not_present")
    assert (await member_of(bot, page.uid)).call_verified_at is None
    # The account that set the number does not confirm it: another account does.
    response = await bot.client.post(path, data={**confirm, "present": "on"})
    assert response.status == 400
    assert await response.text() == t("admin.calls_guard.refused.same_staff")
    assert (await member_of(bot, page.uid)).call_verified_at is None
    other = await other_staff(bot)
    token = await csrf(other, path)
    response = await other.post(path, data={**confirm, "csrf_token": token, "present": "on"})
    assert response.status == 200
    confirmed = await member_of(bot, page.uid)
    assert confirmed.call_verified_at is not None and confirmed.call_verified_by == "desk-b"
    card = await (await bot.client.get(path)).text()
    assert says(card, "admin.calls_verify.verified", by="desk-b")
    await other.session.close()
    # She hears it in LINE, and her son: a number the city's phone rings is theirs to know.
    await bot.settle()
    assert said(bot.line.texts_to(page.uid)[-1:], "calls.guard.number_confirmed", ending="5678")
    assert said(
        bot.line.texts_to(son)[-1:],
        "calls.guard.number_confirmed_managers",
        ending="5678",
        name="resident",
    )
    async with bot.repos() as repos:
        actions = [row["action"] for row in await repos.admin.audit_log()]
    assert "desk_number_confirmed" in actions
    assert twilio.calls == [], "no verification call: staff saw her"
    await to_the_alert(bot)
    assert len(twilio.to(DIALLED)) == 1 and alerts_to(bot, son) == []


async def test_phone_only_check_ins_are_in_the_forecast_and_its_warning(
    start_bot: Callable[..., Awaitable[Bot]], twilio: FakeTwilio
) -> None:
    bot = await start_bot(**calling_through(twilio, call_budget=5))
    await staff_signed_in(bot)
    token = await csrf(bot.client, "/admin/teams")
    form = {"csrf_token": token, "name": "山田家", "interval_days": "1", "hour": "9"}
    assert (await bot.client.post("/admin/teams", data=form)).status == 200
    page = await (await bot.client.get("/admin/quota")).text()
    assert re.search(r'id="calls-phone-only">0<', page)
    assert 'id="calls-warning"' not in page
    register = {
        "csrf_token": token,
        "action": "register_by_phone",
        "name": "山田花子",
        "phone": "03-1234-5678",
        "language": "ja",
        "consented": "on",
    }
    response = await bot.client.post("/admin/teams/1", data=register, allow_redirects=False)
    assert response.status == 303
    page = await (await bot.client.get("/admin/quota")).text()
    # Daily at 9:00 from 24 November: seven check-in calls by the month's end, past the budget.
    assert re.search(r'id="calls-phone-only">7<', page)
    assert re.search(r'id="calls-forecast">7<', page)
    assert t("admin.quota.calls_over", limit=5) in page
    # Her number is hers: typed from the paper form she signed.
    async with bot.repos() as repos:
        her = await repos.members.get(int(response.headers["Location"].rsplit("/", 1)[1]))
    assert her is not None and her.call_verified_by == "desk-a"


def _database_before_0035(path: Path) -> None:
    """A database as the release before this one left it: a number typed on My page, one the
    desk set, and a person with none."""
    folder = Path(__file__).resolve().parents[1] / "storage" / "migrations"
    before = [found for found in sorted(folder.glob("*.sql")) if int(found.name[:4]) < 35]
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT)")
    for migration in before:
        conn.executescript(f"BEGIN;{migration.read_text('utf-8')}COMMIT;")
        conn.execute(
            "INSERT INTO schema_migrations VALUES (?, 'then')", (int(migration.name[:4]),)
        )
    then = tokyo(11, 1, 9).isoformat()
    for line_id, number, by in (
        ("U-self", DIALLED, "self"),
        ("U-desk", "+81312345678", "desk-a"),
        ("U-none", None, None),
    ):
        conn.execute(
            "INSERT INTO members (line_user_id, registered_at, call_number, call_before_alert,"
            " call_consented_by) VALUES (?, ?, ?, 1, ?)",
            (line_id, then, number, by),
        )
    conn.close()


async def test_numbers_from_before_staff_set_count_as_confirmed_my_page_ones_wait(
    tmp_path: Path,
) -> None:
    """Migration 0035 on a database with numbers: the desk's stay confirmed (by the staff who
    set them), one typed on My page waits for its verification call."""
    path = tmp_path / "before.db"
    _database_before_0035(path)
    db = database_for(path)
    await db.open()
    async with unit_of_work(db) as repos:
        found = [await repos.members.by_line_id(u) for u in ("U-self", "U-desk", "U-none")]
    await db.close()
    mine, desks, nobody = found
    assert mine is not None and mine.call_verified_at is None and mine.call_before_alert
    assert desks is not None and desks.call_verified_by == "desk-a"
    assert desks.call_verified_at is not None
    assert nobody is not None and nobody.call_verified_at is None
