"""Attacks on issue 41 (heat, storms, the 避難行動要支援者名簿, roll-calls by phone): as a
resident, her family, desk staff, a partner (民生委員), the admin and a stranger would try
them. Each probe is a finding's test (it failed before its fix) or a check that held."""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable

import aiohttp
from aiohttp.test_utils import TestServer

from care.members.withdrawal import withdraw
from storage.models import StaffRole
from tests.conftest import Bot
from tests.drivers import (
    HEAT_DOCUMENTS,
    STORM_DOCUMENTS,
    add_admin,
    another_browser,
    area_team,
    asked,
    commit,
    csrf,
    exported,
    feed_and_bot,
    heat_bot,
    imported,
    linked_partner,
    login,
    opt_in_from_the_chat,
    roster,
    run_to,
    start_roll_call,
    team_with_landline_resident,
    title_of,
    tokyo,
    upload,
    watched_resident,
)
from tests.fake_twilio import FakeTwilio, calling_through
from tests.wording import said, t

FORMULA_FILE = (
    "ID,氏名,ふりがな,住所,電話,担当,平常時同意\n"
    'R101,"=HYPERLINK(""http://x.example/"",""a"")",ふりがな,本町1,,@担当,同意\n'
    "R102,+名簿の方,ふりがな,-本町2,,＝担当,同意\n"
).encode()


async def test_a_partners_line_cannot_become_a_register_person(bot: Bot) -> None:
    """A 民生委員 helping a person join scans her letter's QR with their own phone: their LINE
    would become her, her phone no longer rung, and their own 無事です counted as hers in the
    tally. The letter is refused for a partner's account, and she stays reached by phone."""
    await imported(bot)
    volunteer = await bot.follow("volunteer")
    await linked_partner(bot, volunteer)
    before = (await roster(bot))["R001"]
    await bot.say(volunteer, str(before["letter_code"]))
    assert bot.line.reply_texts()[-1] == t("attack41.letter_partner")
    after = (await roster(bot))["R001"]
    assert after["member_id"] == before["member_id"] and after["linked_at"] is None
    assert after["letter_code"] == before["letter_code"], "her letter still works for her"


async def test_formulas_in_a_register_come_back_defused_in_the_tally_file(bot: Bot) -> None:
    await imported(bot, "sample.csv")
    status, page = await commit(bot.client, await upload(bot.client, "f.csv", FORMULA_FILE))
    assert status == 200, page
    await area_team(bot, "本町", 1)
    call = await start_roll_call(bot, audience="everyone", disaster="yes")
    csv = await (await exported(bot.client, f"/admin/rollcalls/{call}/roster.csv")).text()
    for line in csv.lstrip("\ufeff").splitlines()[1:]:
        for cell in line.split(","):
            plain = cell.strip('"')
            assert not plain.startswith(("=", "+", "-", "@", "＝")), line


async def test_another_account_cannot_commit_an_import_it_did_not_preview(bot: Bot) -> None:
    await add_admin(bot)
    assert await login(bot.client) == 200
    preview = await upload(bot.client, "sample.csv")
    other = another_browser(bot)
    await add_admin(bot, "other-staff")
    try:
        assert await login(other, "other-staff") == 200
        status, _ = await commit(other, preview)
        assert status == 409
        assert await roster(bot) == {}
    finally:
        await other.session.close()


async def test_the_desk_cannot_start_or_declare_a_disaster(bot: Bot) -> None:
    await imported(bot)
    desk = another_browser(bot)
    await add_admin(bot, "desk-a", StaffRole.DESK)
    try:
        assert await login(desk, "desk-a") == 200
        token = await csrf(desk, "/admin/roster")
        form = {"csrf_token": token, "audience": "everyone", "disaster": "yes"}
        response = await desk.post("/admin/rollcalls", data=form, allow_redirects=False)
        assert response.status == 403
        async with bot.repos() as repos:
            assert await repos.rollcalls.disaster_declared() is None
    finally:
        await desk.session.close()


async def test_a_huge_register_file_is_refused_whole(bot: Bot) -> None:
    await add_admin(bot)
    assert await login(bot.client) == 200
    same = b"ID,\xe6\xb0\x8f\xe5\x90\x8d\n" + b"R1,a\n" * 10_000
    page = await upload(bot.client, "same.csv", same)
    assert await roster(bot) == {}
    assert "duplicate_id" in page or t("admin.register41.file.too_many", limit=10_000) in page
    token = await csrf(bot.client, "/admin/roster/import")
    form = aiohttp.FormData()
    form.add_field("csrf_token", token)
    form.add_field("action", "preview")
    form.add_field(
        "file", io.BytesIO(b"a" * (2 * 1024 * 1024)), filename="big.csv", content_type="text/csv"
    )
    response = await bot.client.post("/admin/roster/import", data=form)
    assert response.status in (400, 413)
    assert await roster(bot) == {}


async def test_a_storm_document_with_entities_or_elsewhere_starts_nothing(
    start_bot: Callable[..., Awaitable[Bot]], aiohttp_server: Callable[..., Awaitable[TestServer]]
) -> None:
    jma, bot, poller = await feed_and_bot(start_bot, aiohttp_server)
    resident, _ = await watched_resident(bot, "resident", ["son"])
    title = title_of("vpww56")
    real = (STORM_DOCUMENTS / "vpww56_chiyoda_level4.xml").read_text("utf-8")
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;">'
        '<!ENTITY c "&b;&b;&b;&b;&b;">]>'
    )
    jma.publish_raw("laughs.xml", laughs + real.split("?>", 1)[1], title=title)
    jma.publish_raw("away.xml", real, elsewhere=True, title=title)
    assert await poller.poll() == ["skipped", "skipped"]
    await bot.settle()
    assert asked(bot, resident) == 0
    async with bot.repos() as repos:
        assert await repos.rollcalls.disaster_declared() is None


async def test_the_same_warning_twice_starts_one_roll_call(
    start_bot: Callable[..., Awaitable[Bot]], aiohttp_server: Callable[..., Awaitable[TestServer]]
) -> None:
    """JMA sends the same warning again (an update, or the same text under a new id): one
    roll-call, not two; an area that merely starts with the city's code is not the city."""
    jma, bot, poller = await feed_and_bot(start_bot, aiohttp_server)
    resident, _ = await watched_resident(bot, "resident", ["son"])
    title = title_of("vpww56")
    real = (STORM_DOCUMENTS / "vpww56_chiyoda_level4.xml").read_text("utf-8")
    assert "<Code>1310100</Code>" in real
    jma.publish_raw("first.xml", real, title=title)
    jma.publish_raw("again.xml", real, title=title)
    assert await poller.poll() == ["started", "already"]
    await bot.settle()
    assert asked(bot, resident) == 1


async def test_a_forged_key_on_a_roll_calls_call_answers_nothing(
    start_bot: Callable[..., Awaitable[Bot]], twilio: FakeTwilio
) -> None:
    bot = await start_bot(**calling_through(twilio, call_budget=20))
    await team_with_landline_resident(bot)
    call_id = await start_roll_call(bot, audience="everyone")
    question = t("phone41.call.question")
    (call,) = [c for c in twilio.to("+81312345678") if question in c.spoken()]
    form = {"CallSid": call.sid, "Digits": "1", "CallStatus": "in-progress"}
    forged = await twilio.post(bot.client, call.gather_action(), form, token="not-the-token")
    assert forged.status == 403
    # The signed URL with its tokens, but a key token of another roll-call: refused.
    tampered = call.gather_action().replace(f"r%3D{call_id}", f"r%3D{call_id + 1}")
    assert tampered != call.gather_action(), call.gather_action()
    response = await twilio.post(bot.client, tampered, form)
    assert response.status in (400, 403)
    async with bot.repos() as repos:
        people = await repos.rollcalls.people(call_id)
    assert all(p["answer"] is None for p in people)


async def test_silent_since_the_morning_on_an_alert_day_her_son_hears_by_the_heat_ladder(
    start_bot: Callable[..., Awaitable[Bot]], aiohttp_server: Callable[..., Awaitable[TestServer]]
) -> None:
    """She chose the heat check and did not answer the 9:00 check-in: at the city's hour her
    round is open, so no heat check goes; the day's shorter ladder must still hold for her
    (the one silent since the morning is the one most at risk), not the regular 24 h + 3 h
    that tells her son the next day."""
    feed, bot, poller = await heat_bot(start_bot, aiohttp_server)
    silent, (son,) = await watched_resident(bot, "silent", ["silent-son"])
    await opt_in_from_the_chat(bot, silent)
    await run_to(bot, tokyo(8, 2, 17, 5, year=2027))
    feed.publish("20270802_17", "alert_20270802_17.csv")
    assert "alert" in await poller.poll()
    await run_to(bot, tokyo(8, 3, 9, 30, year=2027))  # the 9:00 check-in, not answered
    await run_to(bot, tokyo(8, 3, 10, 0, year=2027))  # the city's hour
    await run_to(bot, tokyo(8, 3, 11, 0, year=2027))
    await run_to(bot, tokyo(8, 3, 12, 0, year=2027))
    assert said(bot.line.texts_to(son), "alert.body"), "her son hears the same day"
    assert not said(bot.line.texts_to(son), "safe.body")


async def test_a_person_who_joins_by_her_letter_during_a_roll_call_stays_on_its_tally(
    bot: Bot,
) -> None:
    """The storm has started; her daughter visits and helps her send the letter's code. The
    tally by 担当 must still list her (silent, or never asked), not lose her: a 民生委員's
    list that no longer names her is a door nobody knocks on."""
    await imported(bot)
    await area_team(bot, "本町", 1)
    call = await start_roll_call(bot, audience="everyone", disaster="yes")
    page = await (await bot.client.get(f"/admin/rollcalls/{call}/roster")).text()
    assert 'data-roster="R001"' in page
    code = str((await roster(bot))["R001"]["letter_code"])
    resident = await bot.follow("roster-resident")
    await bot.say(resident, code)
    assert bot.line.reply_texts()[-1] == t("register41.joined")
    page = await (await bot.client.get(f"/admin/rollcalls/{call}/roster")).text()
    assert 'data-roster="R001"' in page, "she is still on the roll-call's tally"


async def test_a_register_person_who_leaves_the_line_service_mid_roll_call_stays_on_its_tally(
    bot: Bot,
) -> None:
    await imported(bot)
    code = str((await roster(bot))["R001"]["letter_code"])
    resident = await bot.follow("roster-resident")
    await bot.say(resident, code)
    call = await start_roll_call(bot, audience="everyone", disaster="yes")
    async with bot.services.unit_of_work() as work:
        member = await work.repos.members.by_line_id(resident)
        assert member is not None
        await withdraw(work, member)
    page = await (await bot.client.get(f"/admin/rollcalls/{call}/roster")).text()
    assert 'data-roster="R001"' in page, "she is still on the roll-call's tally"


async def test_an_oversized_or_foreign_heat_file_starts_nothing(
    start_bot: Callable[..., Awaitable[Bot]], aiohttp_server: Callable[..., Awaitable[TestServer]]
) -> None:
    feed, bot, poller = await heat_bot(start_bot, aiohttp_server)
    resident, _ = await watched_resident(bot, "resident", ["son"])
    await opt_in_from_the_chat(bot, resident)
    await run_to(bot, tokyo(8, 2, 17, 5, year=2027))
    real = (HEAT_DOCUMENTS / "alert_20270802_17.csv").read_text("utf-8")
    feed.publish("20270802_17", real + "\n" + "," * (600 * 1024))
    assert sorted(await poller.poll()) == ["forecast", "skipped"]
    # An alert file for another 府県予報区 whose code begins like ours is not ours.
    lines = real.splitlines()
    feed.publish("20270802_17", "\n".join(line.replace(",130000,", ",1300000,") for line in lines))
    assert await poller.poll() in (["skipped"], ["none"])
    await run_to(bot, tokyo(8, 3, 12, 0, year=2027))
    async with bot.repos() as repos:
        assert await repos.heat.recent_days() == []


async def test_the_viewer_and_the_auditor_cannot_mark_anyone_at_risk(bot: Bot) -> None:
    resident, _ = await watched_resident(bot, "resident", ["son"])
    async with bot.repos() as repos:
        member = await repos.members.by_line_id(resident)
    assert member is not None
    for name, role in (("viewer-a", StaffRole.VIEWER), ("auditor-a", StaffRole.AUDITOR)):
        browser = another_browser(bot)
        await add_admin(bot, name, role)
        try:
            assert await login(browser, name) == 200
            token = await csrf(browser)
            response = await browser.post(
                f"/admin/people/{member.id}/heat", data={"csrf_token": token, "at_risk": "on"}
            )
            assert response.status == 403
        finally:
            await browser.session.close()
    async with bot.repos() as repos:
        assert await repos.heat.at_risk_ids() == set()


async def test_a_register_persons_line_cannot_become_a_partner(bot: Bot) -> None:
    """The other order: a 民生委員 scanned her letter on their phone first, then links their
    own partner code. Refused, so the mix-up shows (their LINE answers for her)."""
    await imported(bot)
    volunteer = await bot.follow("volunteer")
    await bot.say(volunteer, str((await roster(bot))["R001"]["letter_code"]))
    assert bot.line.reply_texts()[-1] == t("register41.joined")
    partner_id = await linked_partner(bot, volunteer)
    assert bot.line.reply_texts()[-1] == t("attack41.partner_on_roster")
    async with bot.repos() as repos:
        partner = await repos.partners.get(partner_id)
    assert partner is not None and partner.member_id is None


async def test_a_person_back_on_the_register_stays_on_the_earlier_roll_calls_tally(
    bot: Bot,
) -> None:
    """Dropped by a filtered export and listed again the next day: the storm's tally by 担当
    (and its file for the 被災者支援 systems) still names her."""
    await imported(bot)
    await area_team(bot, "本町", 1)
    call = await start_roll_call(bot, audience="everyone", disaster="yes")
    page = await (await bot.client.get(f"/admin/rollcalls/{call}/roster")).text()
    assert 'data-roster="R003"' in page
    await commit(bot.client, await upload(bot.client, "update.csv"))  # R003 removed
    await commit(bot.client, await upload(bot.client, "sample.csv"))  # and back
    page = await (await bot.client.get(f"/admin/rollcalls/{call}/roster")).text()
    assert 'data-roster="R003"' in page
