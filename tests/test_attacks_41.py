"""Attacks on issue 41 (heat, storms, the 避難行動要支援者名簿, roll-calls by phone): as a
resident, her family, desk staff, a partner (民生委員), the admin and a stranger would try
them. Each probe is a finding's test (it failed before its fix) or a check that held."""

from __future__ import annotations

import io

import aiohttp

from care.desk import partners
from storage.models import StaffRole
from tests.conftest import Bot
from tests.drivers import (
    add_admin,
    another_browser,
    area_team,
    csrf,
    exported,
    login,
    start_roll_call,
)
from tests.test_roster import commit, imported, roster, upload
from tests.wording import t

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
    async with bot.services.unit_of_work() as work:
        partner_id = await partners.add(work, "民生委員 東地区", "minsei", "", "", [], "staff")
        code = await partners.new_link_code(work, partner_id, "staff")
    await bot.say(volunteer, code)
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
