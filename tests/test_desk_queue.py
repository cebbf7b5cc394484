"""The desk with 300 people (issue 40): the queue searched, filtered, sorted and paged through
GET parameters (done in SQL), the list of people by role, the cases and their steps as files
with a purpose, partners changed, and a person registered by phone called from her case."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest
from aiohttp.test_utils import TestClient

from storage.database import to_db
from storage.models import Role, StaffRole
from tests.conftest import Bot
from tests.drivers import (
    act,
    csrf,
    exported,
    member_of,
    other_staff,
    team_with_landline_resident,
    watched_resident,
)
from tests.fake_twilio import FakeTwilio, calling_through
from tests.wording import t

HOUR = timedelta(hours=1)
FILLERS = 58  # with her and the landline resident: 60 cases, two pages of the queue
CASE_ROW = re.compile(r'data-case="(\d+)"')
PERSON_ROW = re.compile(r'data-member="(\d+)"')


@pytest.fixture
async def bot(start_bot: Callable[..., Awaitable[Bot]], twilio: FakeTwilio) -> Bot:
    return await start_bot(**calling_through(twilio, desk_after=HOUR, call_budget=20))


async def _desk(bot: Bot) -> dict[str, int]:
    """A resident on LINE who shows her details to her son (ふりがな in katakana, a mobile
    number), a resident registered by phone from a paper form (03-1234-5678), and 58 more people
    the desk has a case for: 60 open cases, some urgent, some older than a day."""
    landline, _ = await team_with_landline_resident(bot)  # desk-a, signed in (運用管理)
    resident, (son,) = await watched_resident(bot, "resident", ["son"])
    her = await member_of(bot, resident)
    son_id = (await member_of(bot, son)).id
    await bot.tap_action(resident, "share_personal", m=son_id)
    now = bot.clock.now()
    async with bot.repos() as repos:
        await repos.conn.execute(
            "UPDATE members SET full_name = ?, furigana = ?, phone = ? WHERE id = ?",
            ("見守花子", "ミマモリ ハナコ", "090-1111-2222", her.id),
        )
        cases = {
            "landline": await repos.desk.open_case(landline, "untaken", False, now - 30 * HOUR),
            "her": await repos.desk.open_case(her.id, "help", True, now - 10 * HOUR),
        }
        for i in range(FILLERS):
            member, _ = await repos.members.register(f"U{i:032x}", f"filler{i}", "ja", now)
            await repos.desk.open_case(member.id, "untaken", i % 10 == 0, now - i * HOUR / 10)
    ids = {name: int(case) for name, case in cases.items() if case is not None}
    ids.update(landline_member=landline, her_member=her.id, son=son_id)
    return ids


async def _rows(client: TestClient, query: str = "") -> list[int]:
    response = await client.get("/admin/desk" + query)
    assert response.status == 200, await response.text()
    return [int(case) for case in CASE_ROW.findall(await response.text())]


async def test_the_queue_is_searched_filtered_sorted_and_paged_by_its_url(bot: Bot) -> None:
    ids = await _desk(bot)
    client = bot.client
    first = await _rows(client)
    assert len(first) == 50
    # The most urgent first, then the oldest; the next page has the rest.
    assert first[0] == ids["her"]
    second = await _rows(client, "?page=2")
    assert len(second) == 10 and not set(first) & set(second)
    assert await _rows(client, "?page=99") == second  # past the last: the last
    page = await (await client.get("/admin/desk")).text()
    assert t("admin.queue.count", total=60, first=1, last=50) in page

    # By name, ふりがな in either kana, 会員ID and phone (as she writes it, or its digits).
    for words in ("resident", "はなこ", "ハナコ", "見守", "090-1111", str(ids["her_member"])):
        assert await _rows(client, f"?q={words}") == [ids["her"]], words
    for words in ("03-1234-5678", "0312345678", "山田"):
        assert await _rows(client, f"?q={words}") == [ids["landline"]], words
    assert await _rows(client, "?q=nobody-at-all") == []

    # Filters: urgent, a team, waiting longer than a day, untaken and mine.
    urgent = await _rows(client, "?urgent=1")
    assert ids["her"] in urgent and ids["landline"] not in urgent and len(urgent) == 7
    assert await _rows(client, "?team=1") == [ids["landline"]]
    assert await _rows(client, "?waiting=24") == [ids["landline"]]
    status, _ = await act(bot, ids["landline"], action="take")
    assert status == 303
    assert await _rows(client, "?mine=1") == [ids["landline"]]
    assert ids["landline"] not in await _rows(client, "?untaken=1&page=2")
    assert ids["landline"] not in await _rows(client, "?untaken=1")

    # Sorted by a column, either way; empty values last.
    by_member = await _rows(client, "?sort=member&dir=desc")
    assert by_member == sorted(by_member, reverse=True)
    by_phone = await _rows(client, "?sort=phone")
    assert by_phone[:2] == [ids["landline"], ids["her"]]  # 03-… before 090-…
    waited = await _rows(client, "?sort=waiting&dir=desc")
    assert waited[0] == ids["landline"]

    # The row shows what the desk may see: her number (she shows it), the landline's (the desk
    # registered it), a filler's none; and who has it.
    page = await (await client.get("/admin/desk?q=resident")).text()
    assert 'href="tel:09011112222"' in page and "ミマモリ ハナコ" in page
    page = await (await client.get("/admin/desk?team=1")).text()
    assert 'href="tel:+81312345678"' in page and "03-1234-5678" in page
    assert t("admin.queue.waited_days", days=1, hours=6) in page
    # A bad parameter is left out, never an error.
    assert len(await _rows(client, "?sort=evil;DROP&page=x&team=abc&waiting=-1")) == 50


async def test_the_case_of_a_person_registered_by_phone_shows_her_number_to_call(
    bot: Bot,
) -> None:
    ids = await _desk(bot)
    page = await (await bot.client.get(f"/admin/desk/{ids['landline']}")).text()
    assert "03-1234-5678" in page
    assert 'class="call" href="tel:+81312345678"' in page
    assert t("admin.desk.not_shown") not in page
    card = await (await bot.client.get(f"/admin/people/{ids['landline_member']}")).text()
    assert 'class="call" href="tel:+81312345678"' in card and "03-1234-5678" in card
    # The buttons and the fields each say which record they make.
    work = page[page.index('id="work"') : page.index("</section>", page.index('id="work"'))]
    buttons = re.findall(r"<button[^>]*>([^<]+)</button>", work)
    labels = re.findall(r"<label for=\"[^\"]+\">([^<]+)</label>", work)
    assert len(buttons) == len(set(buttons)) == 4, buttons  # (no partner to ask a visit of)
    assert len(labels) == len(set(labels)), labels
    assert buttons[0] == t("admin.desk.take")


async def _as(bot: Bot, role: StaffRole) -> TestClient:
    return await other_staff(bot, f"staff-{role.value}", role)


async def test_the_people_list_by_role(bot: Bot) -> None:
    ids = await _desk(bot)
    # Someone in a team with no case and a team the desk does not watch: the desk does not
    # read her; 運用管理 sees her, and her team's page (her card does not open).
    other, _ = await watched_resident(bot, "another", ["daughter"])
    other_id = (await member_of(bot, other)).id
    page = await (await bot.client.get("/admin/people?q=another")).text()
    assert PERSON_ROW.findall(page) == [str(other_id)]
    assert f'href="/admin/people/{other_id}"' not in page
    assert t("admin.people_list.team_page") in page
    page = await (await bot.client.get("/admin/people?q=0312345678")).text()
    assert PERSON_ROW.findall(page) == [str(ids["landline_member"])]
    assert f'href="/admin/people/{ids["landline_member"]}"' in page
    # A case closed 40 days ago opens her card no more (care.desk.reading.CASE_KNOWN_FOR).
    async with bot.repos() as repos:
        await repos.conn.execute(
            "UPDATE desk_cases SET closed_at = ? WHERE member_id = ?",
            (to_db(bot.clock.now() - timedelta(days=40)), ids["her_member"]),
        )
    page = await (await bot.client.get(f"/admin/people?q={ids['her_member']}")).text()
    assert PERSON_ROW.findall(page) == [str(ids["her_member"])]
    assert f'href="/admin/people/{ids["her_member"]}"' not in page
    async with bot.repos() as repos:
        await repos.conn.execute(
            "UPDATE desk_cases SET closed_at = NULL WHERE member_id = ?", (ids["her_member"],)
        )
    everyone = await (await bot.client.get("/admin/people?page=2")).text()
    assert t("admin.people_list.count", total=61, first=51, last=61) in everyone

    desk = await _as(bot, StaffRole.DESK)
    try:
        page = await (await desk.get("/admin/people?q=another")).text()
        assert PERSON_ROW.findall(page) == []
        page = await (await desk.get("/admin/people?q=ハナコ")).text()
        assert PERSON_ROW.findall(page) == [str(ids["her_member"])]
        assert f'href="/admin/people/{ids["her_member"]}"' in page
        page = await (await desk.get("/admin/people")).text()
        assert t("admin.people_list.count", total=60, first=1, last=50) in page
    finally:
        await desk.session.close()
    for role in (StaffRole.VIEWER, StaffRole.AUDITOR):
        client = await _as(bot, role)
        try:
            assert (await client.get("/admin/people")).status == 403
        finally:
            await client.session.close()
    async with bot.repos() as repos:
        actions = [row["action"] for row in await repos.admin.audit_log()]
    assert actions.count("people_viewed") == 2  # once an hour per staff member


async def test_cases_and_their_steps_leave_as_files_with_a_purpose(bot: Bot) -> None:
    ids = await _desk(bot)
    await act(bot, ids["landline"], action="take")
    await act(bot, ids["landline"], action="call", result="no_answer", note="=HYPERLINK(1)")
    await act(bot, ids["landline"], action="close", outcome="asleep", note="+ 昼寝")
    form = await bot.client.get("/admin/export/cases.csv")
    assert form.status == 200 and 'name="purpose"' in await form.text()
    refused = await bot.client.post(
        "/admin/export/cases.csv", data={"csrf_token": await csrf(bot.client)}
    )
    assert refused.status == 400
    response = await exported(bot.client, "/admin/export/cases.csv")
    body = (await response.read()).decode("utf-8")
    assert body.startswith("\ufeffcase_id,member_id,nickname,reason")
    lines = body.splitlines()
    assert len(lines) == 61
    closed = next(line for line in lines if line.startswith(f"{ids['landline']},"))
    assert ",asleep,'+ 昼寝," in closed and ",desk-a," in closed
    # The resident who shows her details to her son: her LINE name; the fillers: withheld.
    assert any(line.startswith(f"{ids['her']},{ids['her_member']},resident,") for line in lines)
    assert "nickname" in next(line for line in lines if "filler" not in line and "U0" not in line)
    steps = await exported(bot.client, "/admin/export/case_steps.csv")
    text = (await steps.read()).decode("utf-8")
    assert text.startswith("\ufeffcase_id,member_id,at,staff,kind,result,note")
    assert ",call,no_answer,'=HYPERLINK(1)" in text
    async with bot.repos() as repos:
        details = [
            row["detail"] for row in await repos.admin.audit_log() if row["action"] == "export"
        ]
    assert any(d.startswith("cases.csv: 60 rows") and "city_report" in d for d in details)
    assert any(d.startswith("case_steps.csv: ") for d in details)
    # 窓口 takes no file out.
    desk = await _as(bot, StaffRole.DESK)
    try:
        assert (await desk.get("/admin/export/case_steps.csv")).status == 403
    finally:
        await desk.session.close()


async def test_a_partner_is_changed_and_shows_the_team_they_manage(bot: Bot) -> None:
    ids = await _desk(bot)
    token = await csrf(bot.client, "/admin/partners")
    form = {"csrf_token": token, "action": "add", "name": "みどり町の民生委員", "kind": "minsei"}
    assert (await bot.client.post("/admin/partners", data=form)).status == 200
    async with bot.repos() as repos:
        (partner,) = await repos.partners.active()
        # The 民生委員 on LINE is her son's account, a manager of her team.
        await repos.partners.set_link_code(partner["id"], "CODE", bot.clock.now())
        assert await repos.partners.link(partner["id"], "CODE", ids["son"], bot.clock.now())
        managed = await repos.teams.teams_of(ids["son"])
    assert {role for _, role in managed} == {Role.MANAGER}
    page = await (await bot.client.get("/admin/partners")).text()
    row = page[page.index(f'data-partner="{partner["id"]}"') :]
    row = row[: row.index("</tr>")]
    for team, _ in managed:
        assert team.name + t("admin.queue.partners.managed") in row
    path = f"/admin/partners/{partner['id']}"
    assert (await bot.client.get(path)).status == 200
    change = {
        "csrf_token": token,
        "name": "あおば町の民生委員",
        "kind": "minsei",
        "phone": "03-9999-0000",
        "area": "あおば町",
        "team_id": "1",
    }
    response = await bot.client.post(path, data=change, allow_redirects=False)
    assert response.status == 303
    async with bot.repos() as repos:
        (changed,) = await repos.partners.active()
    assert (changed["name"], changed["phone"], changed["area"]) == (
        "あおば町の民生委員",
        "03-9999-0000",
        "あおば町",
    )
    assert [team["id"] for team in changed["teams"]] == [1]
    bad = await bot.client.post(path, data={**change, "kind": "spy"}, allow_redirects=False)
    assert bad.status == 400
    assert (await bot.client.get("/admin/partners/999")).status == 404
    async with bot.repos() as repos:
        actions = [row["action"] for row in await repos.admin.audit_log()]
    assert actions.count("partner_edited") == 1
