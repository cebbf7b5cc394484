"""Issue 41's gaps, closed: a heat check by phone speaks the hot day's words and advice in her
language; a roll-call's call names the warning that started it. Through the fake LINE, the
stand-in Twilio and the fake clock."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from aiohttp.test_utils import TestServer

from storage.models import StaffRole
from tests.conftest import Bot
from tests.drivers import (
    add_admin,
    answer_the_morning_check_in,
    area_team,
    commit,
    csrf,
    feed_and_bot,
    heat_bot,
    imported,
    linked_partner,
    login,
    member_of,
    ok_data,
    opt_in_from_the_chat,
    other_staff,
    page_for,
    roster,
    run_to,
    start_roll_call,
    team_with_landline_resident,
    tokyo,
    upload,
    watched_resident,
)
from tests.fake_twilio import FakeTwilio, PlacedCall, calling_through
from tests.wording import EASY, EN, JA, said, says, t

LANDLINES = {"ja": "+81312345678", "en": "+81312345679", "ja-x-easy": "+81312345670"}


async def register_by_phone(bot: Bot, phone: str, language: str) -> int:
    """Another person of the console's first team, watched by phone alone."""
    response = await bot.client.post(
        "/admin/teams/1",
        data={
            "csrf_token": await csrf(bot.client, "/admin/teams/1"),
            "action": "register_by_phone",
            "name": "resident",
            "phone": phone,
            "language": language,
            "consented": "on",
        },
        allow_redirects=False,
    )
    assert response.status == 303, await response.text()
    return int(response.headers["Location"].rsplit("/", 1)[1])


async def mark_at_risk(bot: Bot, member_id: int) -> None:
    token = await csrf(bot.client, "/admin/people")
    form = {"csrf_token": token, "at_risk": "on"}
    response = await bot.client.post(f"/admin/people/{member_id}/heat", data=form)
    assert response.status == 200, await response.text()


def first_words(calls: list[PlacedCall]) -> list[str]:
    return [call.spoken()[0] for call in calls]


async def test_a_heat_check_by_phone_says_it_is_the_hot_days_with_its_advice_in_her_language(
    start_bot: Callable[..., Awaitable[Bot]],
    aiohttp_server: Callable[..., Awaitable[TestServer]],
    twilio: FakeTwilio,
) -> None:
    feed, bot, poller = await heat_bot(
        start_bot, aiohttp_server, **calling_through(twilio, call_budget=50)
    )
    first, _ = await team_with_landline_resident(bot)
    people = {
        "ja": first,
        "en": await register_by_phone(bot, "03-1234-5679", "en"),
        "ja-x-easy": await register_by_phone(bot, "03-1234-5670", "ja-x-easy"),
    }
    for member_id in people.values():
        await mark_at_risk(bot, member_id)
    await run_to(bot, tokyo(8, 2, 17, 5, year=2027))
    feed.publish("20270802_17", "alert_20270802_17.csv")
    assert "alert" in await poller.poll()
    # The morning's check-in call (9:00), answered with 1: no regular round stays open.
    await run_to(bot, tokyo(8, 3, 9, 1, year=2027))
    for number in LANDLINES.values():
        (morning,) = twilio.to(number)
        await twilio.press(bot.client, morning, "1")
    await run_to(bot, tokyo(8, 3, 10, 0, year=2027))  # the city's hour
    for language, locale in (("ja", JA), ("en", EN), ("ja-x-easy", EASY)):
        name = "山田花子" if language == "ja" else "resident"
        heat_call = twilio.to(LANDLINES[language])[-1]
        question = locale.t("gaps41.call.heat", name=name)
        assert first_words([heat_call]) == [question], language
        assert locale.t("call.question", name=name) not in heat_call.spoken()
        # Keys as before: 1 is her 元気, answering the heat check.
        if language == "ja":
            response = await twilio.press(bot.client, heat_call, "1")
            assert JA.t("call.thanks_ok") in await response.text()
    # Those silent are rung again after the heat ladder's hour, with its words.
    await run_to(bot, tokyo(8, 3, 11, 0, year=2027))
    assert len(twilio.to(LANDLINES["ja"])) == 2, "her 1 answered the heat check"
    again = twilio.to(LANDLINES["en"])[-1]
    assert again.spoken()[0] == EN.t("gaps41.call.heat_again", name="resident")


async def test_a_roll_call_by_phone_names_the_warning_that_started_it(
    start_bot: Callable[..., Awaitable[Bot]],
    aiohttp_server: Callable[..., Awaitable[TestServer]],
    twilio: FakeTwilio,
) -> None:
    jma, bot, poller = await feed_and_bot(
        start_bot, aiohttp_server, **calling_through(twilio, call_budget=20)
    )
    await team_with_landline_resident(bot)
    jma.publish("vpww56_chiyoda_level4.xml")  # レベル４土砂災害危険警報 in 千代田区
    assert await poller.poll() == ["started"]
    await bot.settle()
    (storm,) = twilio.to(LANDLINES["ja"])[-1:]
    warning = t(
        "storm41.name",
        level=4,
        hazard=t("storm41.hazard.landslide"),
        rank=t("storm41.rank.level4"),
    )
    assert storm.spoken()[0] == t("gaps41.call.warning", warning=warning)
    assert t("phone41.call.question") not in storm.spoken()
    # Unanswered: the call again names it too.
    await twilio.end(bot.client, storm, "no-answer")
    bot.clock.advance(timedelta(minutes=31))
    await bot.sweep()
    await bot.settle()
    again = twilio.to(LANDLINES["ja"])[-1]
    assert again is not storm and again.spoken()[0] == storm.spoken()[0]
    async with bot.repos() as repos:
        (roll_call,) = await repos.rollcalls.recent(5)
    token = await csrf(bot.client, "/admin/rollcalls")
    await bot.client.post(f"/admin/rollcalls/{roll_call.id}/close", data={"csrf_token": token})

    # A roll-call the console starts by hand names no warning: the call stays generic.
    await start_roll_call(bot, audience="everyone")
    manual = twilio.to(LANDLINES["ja"])[-1]
    assert manual.spoken()[0] == t("phone41.call.question")


async def test_a_line_account_with_its_own_record_is_not_merged_into_a_register_person(
    bot: Bot,
) -> None:
    await imported(bot)
    person = (await roster(bot))["R001"]
    code = str(person["letter_code"])
    # A daughter already in mimamori, watched by her own team, sends her mother's letter.
    daughter, (grandson,) = await watched_resident(bot, "daughter", ["grandson"])
    await bot.say(daughter, code)
    assert says(bot.line.reply_texts()[-1], "gaps41.letter_own_record")
    after = (await roster(bot))["R001"]
    assert after["member_id"] == person["member_id"] and after["linked_at"] is None
    assert after["letter_code"] == code, "nothing changed: the letter still works"
    # Her son, who watches her (a manager, no check-ins of his own), is refused alike.
    await bot.say(grandson, code)
    assert says(bot.line.reply_texts()[-1], "gaps41.letter_own_record")
    async with bot.repos() as repos:
        audit = await repos.conn.fetch_all(
            "SELECT detail FROM audit_log WHERE action = 'roster_link_own_record'", ()
        )
    assert len(audit) == 2 and f"roster {person['id']}" in audit[0][0]
    # Someone who has only just followed joins as the register person.
    newcomer = await bot.follow("newcomer")
    await bot.say(newcomer, code)
    assert says(bot.line.reply_texts()[-1], "register41.joined")
    assert (await roster(bot))["R001"]["linked_at"] is not None


async def test_register_lines_with_bidi_controls_or_zero_width_characters_are_refused(
    bot: Bot,
) -> None:
    await add_admin(bot)
    await login(bot.client)
    lines = [
        "ID,氏名,ふりがな,住所,電話,担当,平常時同意",
        "B001,名簿の方A,めいぼのかたえー,本町1丁目1-1,,民生委員 東地区,同意",
        "B002,名簿の\u202e方B,めいぼのかたびー,本町1丁目1-2,,民生委員 東地区,同意",
        "B003,名簿の方C,めいぼの\u200bかたしー,本町1丁目1-3,,民生委員 東地区,同意",
        "B004,名簿の方D,めいぼのかたでぃー,本町\ufeff1丁目1-4,,民生委員\u2066 東地区,同意",
        "B005,名簿の方E\u200f,めいぼのかたいー,本町1丁目1-5,,民生委員 東地区,同意",
    ]
    preview = await upload(bot.client, "bidi.csv", "\n".join(lines).encode())
    found: dict[int, list[str]] = {}
    for line, cell in re.findall(r'<tr data-line="(\d+)">(.*?)</tr>', preview, re.S):
        found[int(line)] = re.findall(r'data-reason="(\w+)"', cell)
    assert found == {
        3: ["invisible"],
        4: ["invisible"],
        5: ["invisible", "invisible"],
        6: ["invisible"],
    }
    name = t("admin.register41.col.name")
    assert t("admin.gaps41.reason.invisible", column=name) in preview
    assert t("admin.gaps41.reason.invisible", column=t("admin.register41.col.carer")) in preview
    status, page = await commit(bot.client, preview)
    assert status == 200, page
    assert set(await roster(bot)) == {"B001"}, "only the clean line is imported"


async def test_the_tally_is_not_sent_to_the_same_partners_twice_within_ten_minutes(
    bot: Bot,
) -> None:
    await imported(bot)
    await area_team(bot, "本町", 1)
    volunteer = await bot.follow("volunteer")
    await linked_partner(bot, volunteer)
    call = await start_roll_call(bot, audience="everyone")

    async def send() -> str:
        url = f"/admin/rollcalls/{call}/roster"
        token = await csrf(bot.client, url)
        page = await (await bot.client.post(url, data={"csrf_token": token})).text()
        await bot.settle()
        return page

    def lists_told() -> int:
        return len(said(bot.line.texts_to(volunteer), "register41.carer_head"))

    assert says(await send(), "admin.register41.sent", partners=1, people=1)
    assert lists_told() == 1
    # A double click, or the form sent again: refused, nothing sent, audited.
    bot.clock.advance(timedelta(minutes=9))
    page = await send()
    assert says(page, "admin.gaps41.carers_too_soon")
    assert not says(page, "admin.register41.sent")
    assert lists_told() == 1
    async with bot.repos() as repos:
        actions = [e["action"] for e in await repos.admin.audit_log()]
    assert actions.count("roster_carers_too_soon") == 1
    assert actions.count("roster_sent_to_carers") == 1
    # Ten minutes after the send, it goes again.
    bot.clock.advance(timedelta(minutes=1, seconds=1))
    assert says(await send(), "admin.register41.sent", partners=1, people=1)
    assert lists_told() == 2


async def test_her_records_hold_her_register_line_the_at_risk_mark_and_roll_calls_unreached(
    bot: Bot,
) -> None:
    await imported(bot)
    person = (await roster(bot))["R002"]  # no phone, no LINE yet: a roll-call cannot ask her
    await area_team(bot, "本町", 1)
    call = await start_roll_call(bot, audience="everyone")
    token = await csrf(bot.client, f"/admin/rollcalls/{call}")
    await bot.client.post(f"/admin/rollcalls/{call}/close", data={"csrf_token": token})
    page = await page_for(bot, "register-person")
    await bot.say(page.uid, str(person["letter_code"]))
    assert says(bot.line.reply_texts()[-1], "register41.joined")
    async with bot.repos() as repos:
        member = await repos.members.by_line_id(page.uid)
    assert member is not None
    await mark_at_risk(bot, member.id)

    status, body = await page.call("GET", "/liff/api/me/records")
    assert status == 200
    record = body["record"]
    register = {row["field"]: row["value"] for row in record["sections"]["register"]}
    assert register["roster_id"] == "R002" and register["roster_name"] == person["name"]
    assert register["roster_address"] == person["address"]
    assert register["roster_consent"] == t("my_records.no")
    assert register["roster_linked_at"] and not register["roster_letter_until"]
    schedule = {row["field"]: row["value"] for row in record["sections"]["schedule"]}
    assert schedule["heat_at_risk"] == t("my_records.yes")
    assert schedule["heat_opted_in"] == t("my_records.no")
    (roll_call,) = record["sections"]["roll_calls"]
    assert roll_call["answer"] == t("gaps41.my_records.not_reached")
    # The page has the words for what it shows.
    texts = body["texts"]
    assert texts["section.register"] == t("gaps41.my_records.section.register")
    assert all(f"field.{field}" in texts for field in register)


async def test_the_monthly_report_counts_heat_checks_apart_from_the_regular_check_ins(
    start_bot: Callable[..., Awaitable[Bot]],
    aiohttp_server: Callable[..., Awaitable[TestServer]],
) -> None:
    feed, bot, poller = await heat_bot(start_bot, aiohttp_server)
    chose, _ = await watched_resident(bot, "chose", ["chose-son"])
    marked, _ = await watched_resident(bot, "marked", ["marked-son"])
    await opt_in_from_the_chat(bot, chose)
    await add_admin(bot)
    await login(bot.client)
    await mark_at_risk(bot, (await member_of(bot, marked)).id)
    await run_to(bot, tokyo(8, 2, 17, 5, year=2027))
    feed.publish("20270802_17", "alert_20270802_17.csv")
    assert "alert" in await poller.poll()
    await answer_the_morning_check_in(bot, chose, marked)
    await run_to(bot, tokyo(8, 3, 10, 0, year=2027))  # the heat check
    await bot.tap(chose, ok_data(bot, chose))
    # The one marked never answers: asked again at 11:00, her son alerted at 12:00.
    await run_to(bot, tokyo(8, 3, 11, 0, year=2027))
    await run_to(bot, tokyo(8, 3, 12, 0, year=2027))

    await login(bot.client)
    csv_text = await (await bot.client.get("/admin/report.csv?month=2027-08")).text()
    rows = dict(line.split(",", 1) for line in csv_text.lstrip("\ufeff").splitlines()[1:])
    # The regular figures are what they were before heat checks: the 9:00 check-ins, both OK.
    assert {k: rows[k] for k in ("checkins", "answered", "alerts", "waiting")} == {
        "checkins": "2",
        "answered": "2",
        "alerts": "0",
        "waiting": "0",
    }
    assert rows["answer_rate"] == "100%"
    assert {k: rows[k] for k in ("heat_checks", "heat_answered", "heat_alerts")} == {
        "heat_checks": "2",
        "heat_answered": "1",
        "heat_alerts": "1",
    }
    page = await (await bot.client.get("/admin/report?month=2027-08")).text()
    assert t("admin.gaps41.report.heat_checks") in page


async def test_letters_are_printed_in_bulk_each_issued_as_one_letter_is(bot: Bot) -> None:
    await imported(bot)
    before = await roster(bot)
    page = await (await bot.client.get("/admin/roster/letters")).text()
    assert t("admin.gaps41.letters.limit", limit=200) in page
    needs = dict(re.findall(r'data-roster="(\w+)" data-needs="(\w+)"', page))
    assert needs == {"R001": "yes", "R002": "yes", "R003": "yes", "R004": "yes"}, (
        "the import's codes were never printed: no letter in their hands yet"
    )
    # One letter printed by itself first: she has a valid letter now.
    await bot.client.get(f"/admin/roster/{before['R001']['id']}/letter")
    page = await (await bot.client.get("/admin/roster/letters")).text()
    assert re.search(r'data-roster="R001" data-needs="no"', page)

    async def print_letters(**form: Any) -> tuple[str, str]:
        token = await csrf(bot.client, "/admin/roster/letters")
        body = [("csrf_token", token), *form.items()]
        response = await bot.client.post("/admin/roster/letters", data=body, allow_redirects=False)
        assert response.status == 303, await response.text()
        url = response.headers["Location"]
        return url, await (await bot.client.get(url)).text()

    url, printed = await print_letters(scope="needing")
    assert says(printed, "admin.gaps41.letters.printed", count=3, limit=200)
    shown = re.findall(r'data-letter="(\w+)"', printed)
    assert sorted(shown) == ["R002", "R003", "R004"]
    codes = re.findall(r"data-letter-code>([^<]+)<", printed)
    after = await roster(bot)
    assert sorted(codes) == sorted(str(after[r]["letter_code"]) for r in shown)
    assert all(after[r]["letter_code"] != before[r]["letter_code"] for r in shown), "new codes"
    assert len(re.findall(r"data-letter-qr", printed)) == 3, "each with its QR"
    assert printed.count('class="roster-letter"') == 3, "each on its own printed page"
    # The import's code of one of them no longer works.
    someone = await bot.follow("someone")
    await bot.say(someone, str(before["R002"]["letter_code"]))
    assert says(bot.line.reply_texts()[-1], "visit.code_unknown")
    # Opening the page again issues nothing.
    again = await (await bot.client.get(url)).text()
    assert re.findall(r"data-letter-code>([^<]+)<", again) == codes
    async with bot.repos() as repos:
        actions = [e["action"] for e in await repos.admin.audit_log()]
    assert actions.count("roster_letter") == 3 and actions.count("roster_letters_printed") == 1
    page = await (await bot.client.get("/admin/roster/letters")).text()
    assert 'data-needs="yes"' not in page

    # Those chosen: a new letter voids the one before, as one letter does.
    old = str((await roster(bot))["R001"]["letter_code"])
    _, printed = await print_letters(scope="selected", person_id=str(before["R001"]["id"]))
    assert re.findall(r'data-letter="(\w+)"', printed) == ["R001"]
    assert str((await roster(bot))["R001"]["letter_code"]) != old

    # The 窓口 (not 運用管理) cannot.
    desk = await other_staff(bot, "desk-b", StaffRole.DESK)
    assert (await desk.get("/admin/roster/letters")).status == 403
    await desk.close()
