"""The city's 避難行動要支援者名簿 (issue 41): its CSV imported with a preview and refusals per
line, updated by ID, the letter with its code and QR, joining by that code from LINE, the
roll-call asking the roster's people and its tally by 担当, and who sees whom when."""

from __future__ import annotations

import base64
import re
from datetime import timedelta

from care.members.withdrawal import withdraw
from care.privacy import retention
from ground import invite_codes
from ground.qr_codes import qr_png
from storage.models import StaffRole
from tests.conftest import Bot
from tests.drivers import (
    add_admin,
    another_browser,
    answer_button,
    area_team,
    commit,
    csrf,
    exported,
    imported,
    linked_partner,
    login,
    roster,
    start_roll_call,
    upload,
    watched_resident,
)
from tests.fake_twilio import FakeTwilio, calling_through
from tests.wording import JA, said, t


def counts(page: str) -> dict[str, int]:
    return {k: int(v) for k, v in re.findall(r'data-count="(\w+)">[^<]*?(\d+)', page)}


def reasons(page: str) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for line, cell in re.findall(r'<tr data-line="(\d+)">(.*?)</tr>', page, re.S):
        found[int(line)] = re.findall(r'data-reason="(\w+)"', cell)
    return found


async def test_a_file_with_bad_lines_is_previewed_with_each_reason_then_imported(
    bot: Bot,
) -> None:
    await add_admin(bot)
    await login(bot.client)
    preview = await upload(bot.client, "sample.csv")
    assert counts(preview) == {
        "added": 4,
        "changed": 0,
        "back": 0,
        "unchanged": 0,
        "removed": 0,
        "refused": 6,
    }
    assert t("admin.register41.encoding", encoding="UTF-8 (BOM)") in preview
    # Line 1 is the header: the sheet's line numbers, as the office sees them in Excel.
    assert reasons(preview) == {
        6: ["no_name"],
        7: ["bad_phone"],
        8: ["bad_consent"],
        9: ["duplicate_id"],
        10: ["duplicate_id"],
        11: ["no_id"],
    }
    assert t("admin.register41.reason.duplicate_id", lines="10") in preview
    assert await roster(bot) == {}, "a preview changes nothing"

    status, page = await commit(bot.client, preview)
    assert status == 200 and counts(page)["added"] == 4
    people = await roster(bot)
    assert sorted(people) == ["R001", "R002", "R003", "R004"]
    assert people["R004"]["phone"] == "03-1234-5604", "full-width digits read as typed"
    assert people["R001"]["consent"] and not people["R002"]["consent"]
    async with bot.repos() as repos:
        first = await repos.members.get(int(str(people["R001"]["member_id"])))
        no_phone = await repos.members.get(int(str(people["R002"]["member_id"])))
        audit = await repos.conn.fetch_all(
            "SELECT action, detail FROM audit_log WHERE action LIKE 'roster_%' ORDER BY id", ()
        )
    assert first is not None and first.channel == "voice"
    assert first.channel_address == "+81312345601"
    assert no_phone is not None and no_phone.channel_address is None
    assert [a for a, _ in audit] == ["roster_previewed", "roster_imported"]
    assert "名簿の方" not in str(audit), "the audit says counts, not people"
    # The same file again changes nothing; the preview of a spent import cannot be applied.
    again = await upload(bot.client, "sample.csv")
    assert counts(again)["unchanged"] == 4 and counts(again)["added"] == 0
    assert (await commit(bot.client, preview))[0] == 409


async def test_a_later_file_updates_by_id_and_marks_the_missing_removed(bot: Bot) -> None:
    await imported(bot)
    before = await roster(bot)
    preview = await upload(bot.client, "update_sjis.csv")
    assert t("admin.register41.encoding", encoding="Shift_JIS") in preview
    assert counts(preview) == {
        "added": 1,
        "changed": 2,
        "back": 0,
        "unchanged": 1,
        "removed": 1,
        "refused": 0,
    }
    changed = set(re.findall(r'data-roster="(R\d+)" data-field="(\w+)"', preview))
    assert changed == {("R001", "phone"), ("R002", "consent")}
    assert re.search(r'<ul id="removed"><li data-roster="R003">', preview)
    await commit(bot.client, preview)
    after = await roster(bot)
    assert after["R001"]["phone"] == "03-1234-5699"
    assert after["R002"]["consent"] is True
    assert after["R003"]["removed_at"] is not None and after["R003"]["letter_code"] is None
    assert after["R009"]["removed_at"] is None
    async with bot.repos() as repos:
        moved = await repos.members.get(int(str(after["R001"]["member_id"])))
        retired = await repos.members.get(int(str(after["R003"]["member_id"])))
        current = {m.id for m in await repos.members.all_current()}
    assert moved is not None and moved.channel_address == "+81312345699"
    assert retired is not None and retired.id not in current, "not asked in a roll-call"
    # Listed again, she is back: a new phone member and a new letter.
    status, page = await commit(bot.client, await upload(bot.client, "sample.csv"))
    assert counts(page)["back"] == 1
    back = (await roster(bot))["R003"]
    assert back["removed_at"] is None and back["letter_code"]
    assert back["member_id"] != before["R003"]["member_id"]


async def test_a_file_that_is_not_a_register_is_refused_whole(bot: Bot) -> None:
    await add_admin(bot)
    await login(bot.client)
    page = await upload(bot.client, "x.csv", b"\xff\xfe\x00garbage\x81")
    assert t("admin.register41.file.encoding") in page
    big = b"ID,\xe6\xb0\x8f\xe5\x90\x8d\n" + b"R1,x\n" * 200_000
    assert t("admin.register41.file.too_large", limit=900) in await upload(bot.client, "b", big)
    assert await roster(bot) == {}


async def test_the_letter_carries_the_code_and_its_qr_and_linking_by_it_is_once(
    bot: Bot,
) -> None:
    await imported(bot)
    person = (await roster(bot))["R001"]
    code = str(person["letter_code"])
    page = await (await bot.client.get(f"/admin/roster/{person['id']}/letter")).text()
    assert f'id="letter-code">{code}<' in page and "本町1丁目1-1" in page
    basic_id = await bot.services.line.bot_basic_id()
    assert basic_id
    link = invite_codes.chat_link(basic_id, JA.t("register41.letter_prefill", code=code))
    qr = re.search(r'src="data:image/png;base64,([^"]+)"[^>]*id="letter-qr"', page)
    assert qr and base64.b64decode(qr.group(1)) == qr_png(link), "the QR opens the chat, code in"

    resident = await bot.follow("roster-resident")
    await bot.say(resident, JA.t("register41.letter_prefill", code=code))
    assert bot.line.reply_texts()[-1] == t("register41.joined")
    linked = (await roster(bot))["R001"]
    async with bot.repos() as repos:
        member = await repos.members.by_line_id(resident)
        phone = await repos.members.get(int(str(person["member_id"])))
        current = {m.id for m in await repos.members.all_current()}
        audit = await repos.conn.fetch_all(
            "SELECT detail FROM audit_log WHERE action = 'roster_linked'", ()
        )
    assert member is not None and linked["member_id"] == member.id
    assert linked["letter_code"] is None and linked["linked_at"] is not None
    assert phone is not None and phone.id not in current, "asked once, in LINE"
    assert audit and f"会員ID {member.id}" in audit[0][0]
    # Spent: another account sending it is refused, and nothing moves.
    other = await bot.follow("someone-else")
    await bot.say(other, code)
    assert bot.line.reply_texts()[-1] == t("visit.code_unknown")
    assert (await roster(bot))["R001"]["member_id"] == member.id


async def test_an_expired_letter_is_refused_and_a_new_one_works(bot: Bot) -> None:
    await imported(bot)
    person = (await roster(bot))["R003"]
    bot.clock.advance(timedelta(days=91))
    resident = await bot.follow("late-resident")
    await bot.say(resident, str(person["letter_code"]))
    assert bot.line.reply_texts()[-1] == t("register41.letter_expired")
    assert await login(bot.client) == 200  # the console's session ended in those months
    page = await (await bot.client.get(f"/admin/roster/{person['id']}/letter")).text()
    assert 'id="no-code"' in page
    token = await csrf(bot.client, f"/admin/roster/{person['id']}/letter")
    await bot.client.post(f"/admin/roster/{person['id']}/letter", data={"csrf_token": token})
    fresh = str((await roster(bot))["R003"]["letter_code"])
    assert fresh != person["letter_code"]
    await bot.say(resident, fresh)
    assert bot.line.reply_texts()[-1] == t("register41.joined")


async def _link(bot: Bot, roster_id: str, name: str) -> str:
    code = str((await roster(bot))[roster_id]["letter_code"])
    uid = await bot.follow(name)
    await bot.say(uid, code)
    return uid


def _tally(page: str) -> dict[str, dict[str, str]]:
    rows = re.findall(r'<tr data-carer="([^"]*)"><th scope="row">[^<]*</th>(.*?)</tr>', page)
    return {
        carer: dict(re.findall(r'data-standing="(\w+)">(\d+)<', cells)) for carer, cells in rows
    }


async def test_a_roll_call_asks_the_linked_in_line_and_tallies_by_carer(bot: Bot) -> None:
    await imported(bot)
    linked = await _link(bot, "R001", "roster-line")
    call = await start_roll_call(bot, audience="everyone", disaster="yes")
    # In LINE: the one who linked; the others have no LINE, and no calls are placed here.
    assert said(bot.line.texts_to(linked), "rollcall.title")
    await bot.tap(linked, answer_button(bot, linked, "help"))

    page = await (await bot.client.get(f"/admin/rollcalls/{call}/roster")).text()
    tally = _tally(page)
    assert tally["民生委員 東地区"] == {
        "safe": "0",
        "help": "1",
        "shelter": "0",
        "silent": "0",
        "unasked": "1",
    }
    assert tally["本町町会"]["unasked"] == "2"
    helped = re.search(r'<tr data-roster="R001" data-standing="help" class="needs-help">', page)
    assert helped and "本町1丁目1-1" in page
    assert re.search(r'data-roster="R002" data-standing="unasked"', page)
    assert t("admin.reach40.why.no_channel") in page
    live = await (await bot.client.get(f"/admin/rollcalls/{call}")).text()
    assert 'id="declared"' in live and f"/admin/rollcalls/{call}/roster" in live

    csv = await (await exported(bot.client, f"/admin/rollcalls/{call}/roster.csv")).text()
    lines = csv.lstrip("\ufeff").splitlines()
    assert lines[0].startswith("roster_id,name,furigana,address,phone,carer,consent,standing")
    r002 = next(line for line in lines if line.startswith("R002,"))
    assert "名簿の方B" in r002 and ",unasked," in r002, "a declared disaster: all details go"


async def test_register_people_without_line_are_rung_and_those_without_a_number_unasked(
    start_bot: object, twilio: FakeTwilio
) -> None:
    """A register person without LINE is asked by a call (care.broadcasts.by_phone): the tally
    counts her asked and silent until she presses a key; one with no number at all is never
    asked, and says why."""
    bot = await start_bot(**calling_through(twilio, call_budget=20))  # type: ignore[operator]
    await imported(bot)
    await area_team(bot, "本町", 1)  # someone on LINE: a roll-call nobody can answer is refused
    call = await start_roll_call(bot, audience="everyone")
    await bot.settle()
    assert twilio.to("+81312345601"), "R001 is rung at her register number"
    page = await (await bot.client.get(f"/admin/rollcalls/{call}/roster")).text()
    assert re.search(r'data-roster="R001" data-standing="silent"', page)
    assert re.search(r'data-roster="R002" data-standing="unasked"', page)
    assert t("admin.reach40.why.no_channel") in page, "R002 has no phone at all"


async def test_the_desk_sees_only_the_consented_until_a_disaster_is_declared(bot: Bot) -> None:
    await imported(bot)
    await area_team(bot, "本町", 1)
    desk = another_browser(bot)
    await add_admin(bot, "desk-a", StaffRole.DESK)
    assert await login(desk, "desk-a") == 200
    viewer = another_browser(bot)
    await add_admin(bot, "viewer-a", StaffRole.VIEWER)
    assert await login(viewer, "viewer-a") == 200
    try:
        everyone = await (await bot.client.get("/admin/roster")).text()
        assert all(f'data-roster="{r}"' in everyone for r in ("R001", "R002", "R003", "R004"))
        normal = await (await desk.get("/admin/roster")).text()
        assert 'data-roster="R001"' in normal and 'data-roster="R003"' in normal
        assert 'data-roster="R002"' not in normal and "名簿の方B" not in normal
        assert t("admin.register41.hidden", count=2) in normal
        assert (await viewer.get("/admin/roster")).status == 403
        assert (await desk.get("/admin/roster/import")).status == 403
        # A roll-call not declared a disaster: normal times still.
        call = await start_roll_call(bot, audience="everyone")
        tally = await (await desk.get(f"/admin/rollcalls/{call}/roster")).text()
        assert 'data-roster="R003"' in tally and 'data-roster="R002"' not in tally
        token = await csrf(bot.client, f"/admin/rollcalls/{call}")
        await bot.client.post(f"/admin/rollcalls/{call}/close", data={"csrf_token": token})
        csv = await (await exported(bot.client, f"/admin/rollcalls/{call}/roster.csv")).text()
        r002 = next(line for line in csv.splitlines() if line.startswith("R002,"))
        assert "名簿の方B" not in r002 and "name furigana address phone" in r002

        declared = await start_roll_call(bot, audience="everyone", disaster="yes")
        during = await (await desk.get("/admin/roster")).text()
        assert 'data-roster="R002"' in during and 'id="declared"' in during
        tally = await (await desk.get(f"/admin/rollcalls/{declared}/roster")).text()
        assert 'data-roster="R002"' in tally
        token = await csrf(bot.client, f"/admin/rollcalls/{declared}")
        await bot.client.post(f"/admin/rollcalls/{declared}/close", data={"csrf_token": token})
        after = await (await desk.get("/admin/roster")).text()
        assert 'data-roster="R002"' not in after, "normal times again once it closes"
    finally:
        await desk.session.close()
        await viewer.session.close()


async def test_withdrawal_keeps_her_on_the_roster_by_phone_and_removal_is_purged_later(
    bot: Bot,
) -> None:
    await imported(bot)
    uid = await _link(bot, "R001", "roster-line")
    async with bot.services.unit_of_work() as work:
        member = await work.repos.members.by_line_id(uid)
        assert member is not None
        await withdraw(work, member)
    person = (await roster(bot))["R001"]
    assert person["linked_at"] is None and person["member_id"] != member.id
    async with bot.repos() as repos:
        phone = await repos.members.get(int(str(person["member_id"])))
    assert phone is not None and phone.channel_address == "+81312345601"

    # Off the register, her LINE linked, then that account leaves: back on the register, she
    # is a phone member again, with a new letter.
    linked_c = await _link(bot, "R003", "roster-line-c")
    await commit(bot.client, await upload(bot.client, "update.csv"))  # R003 removed
    async with bot.services.unit_of_work() as work:
        member_c = await work.repos.members.by_line_id(linked_c)
        assert member_c is not None
        await withdraw(work, member_c)
    await commit(bot.client, await upload(bot.client, "sample.csv"))
    back = (await roster(bot))["R003"]
    assert back["linked_at"] is None and back["letter_code"] and back["member_id"] != member_c.id
    await commit(bot.client, await upload(bot.client, "update.csv"))  # R003 removed again
    bot.clock.advance(bot.settings.keep_cases - timedelta(days=1))
    assert (await retention.purge(bot.services))["roster_removed"] == 0
    bot.clock.advance(timedelta(days=2))
    found = await retention.purge(bot.services)
    assert found["roster_removed"] == 1
    assert "R003" not in await roster(bot)


async def test_the_assigned_partner_on_line_gets_their_people_as_the_law_allows(
    bot: Bot,
) -> None:
    await imported(bot)
    await area_team(bot, "本町", 1)
    volunteer = await bot.follow("volunteer")
    await linked_partner(bot, volunteer)

    async def sent(call: int, count: int) -> str:
        """What the partner's LINE was sent from the tally by 担当, naming `count` people."""
        token = await csrf(bot.client, f"/admin/rollcalls/{call}/roster")
        url = f"/admin/rollcalls/{call}/roster"
        page = await (await bot.client.post(url, data={"csrf_token": token})).text()
        assert t("admin.register41.sent", partners=1, people=count) in page
        await bot.settle()
        (told,) = said(bot.line.texts_to(volunteer), "register41.carer_head", count=count)
        return told

    normal = await start_roll_call(bot, audience="everyone")
    told = await sent(normal, 1)
    assert "名簿の方A" in told and "名簿の方B" not in told, "without consent: not in normal times"
    token = await csrf(bot.client, f"/admin/rollcalls/{normal}")
    await bot.client.post(f"/admin/rollcalls/{normal}/close", data={"csrf_token": token})

    declared = await start_roll_call(bot, audience="everyone", disaster="yes")
    told = await sent(declared, 2)
    assert "名簿の方B" in told and "本町1丁目1-2" in told
    assert "名簿の方C" not in told, "another carer's person"


async def test_each_tally_page_of_a_roll_call_audits_its_look_once_an_hour(bot: Bot) -> None:
    """The live tally and the tally by 担当 read people's answers and how to reach them: each
    audited under its own action, once an hour per admin and roll-call, however often the
    page reloads; a roll-call that does not exist is a 404 on both, and audits nothing."""
    await imported(bot)
    await watched_resident(bot, "resident", ["son"])
    call = await start_roll_call(bot, audience="everyone", disaster="yes")
    for path in (f"/admin/rollcalls/{call}", f"/admin/rollcalls/{call}/roster"):
        for _ in range(3):
            assert (await bot.client.get(path)).status == 200
        assert (await bot.client.get(path.replace(f"/{call}", f"/{call + 1}"))).status == 404
        assert (await bot.client.get(path.replace(f"/{call}", "/x"))).status == 404
    bot.clock.advance(timedelta(minutes=61))
    assert (await bot.client.get(f"/admin/rollcalls/{call}/roster")).status == 200
    async with bot.repos() as repos:
        log = await repos.admin.audit_log()
    looks = [(e["action"], e["detail"]) for e in reversed(log) if e["action"].endswith("_viewed")]
    assert looks == [
        ("rollcall_viewed", f"roll-call {call}"),
        ("roster_tally_viewed", f"roll-call {call}"),
        ("roster_tally_viewed", f"roll-call {call}"),
    ]
