"""A prefecture's console has tens of thousands of teams (a household each): every page that
lists teams to choose from lists the first hundred, says how many there are and finds the
others by name; a form's chosen teams stay listed (and chosen) whatever the search, so saving
it never drops one nobody saw (issue 42)."""

from __future__ import annotations

import re

from care.desk import partners
from tests.conftest import Bot
from tests.drivers import csrf, staff_signed_in
from tests.wording import t

TEAMS = 130
SHOWN = 100


async def many_teams(bot: Bot) -> list[int]:
    async with bot.repos() as repos:
        return [
            (await repos.teams.create(f"町会{number:03d}", 1, 9, bot.clock.now())).id
            for number in range(1, TEAMS + 1)
        ]


def team_boxes(page: str) -> set[int]:
    return {int(found) for found in re.findall(r'name="team_id" value="(\d+)"', page)}


def shown_note(shown: int, total: int) -> str:
    return t("admin.teams42.shown", shown=shown, total=total)


async def test_pickers_list_a_hundred_teams_say_how_many_and_find_the_rest(bot: Bot) -> None:
    ids = await many_teams(bot)
    await staff_signed_in(bot, "city-staff")
    listed = await (await bot.client.get("/admin/teams")).text()
    assert listed.count('href="/admin/teams/') == SHOWN and shown_note(SHOWN, TEAMS) in listed
    found = await (await bot.client.get("/admin/teams", params={"q": "町会125"})).text()
    assert f'href="/admin/teams/{ids[124]}"' in found and shown_note(SHOWN, TEAMS) not in found

    for path in ("/admin/notices", "/admin/rollcalls", "/admin/partners"):
        page = await (await bot.client.get(path)).text()
        assert team_boxes(page) == set(ids[:SHOWN]) and shown_note(SHOWN, TEAMS) in page, path
        page = await (await bot.client.get(path, params={"team_q": "町会125"})).text()
        assert team_boxes(page) == {ids[124]} and shown_note(1, 1) in page, path

    desk = await (await bot.client.get("/admin/desk", params={"team": str(ids[129])})).text()
    assert f'<option value="{ids[129]}" selected' in desk, "the queue's team stays listed"


async def test_a_partners_teams_stay_ticked_and_a_save_keeps_them(bot: Bot) -> None:
    ids = await many_teams(bot)
    late = [ids[110], ids[129]]  # beyond the first hundred
    async with bot.services.unit_of_work() as work:
        partner_id = await partners.add(work, "民生委員 東地区", "minsei", "", "", late, "staff")
    await staff_signed_in(bot, "city-staff")
    path = f"/admin/partners/{partner_id}"
    page = await (await bot.client.get(path)).text()
    ticked = set(re.findall(r'value="(\d+)" checked', page))
    assert ticked == {str(team_id) for team_id in late}
    assert team_boxes(page) == set(ids[:SHOWN]) | set(late)

    token = await csrf(bot.client, path)
    form = [("csrf_token", token), ("name", "民生委員 東地区"), ("kind", "minsei")]
    form += [("phone", ""), ("area", "")] + [("team_id", str(team_id)) for team_id in late]
    assert (await bot.client.post(path, data=form, allow_redirects=False)).status == 303
    async with bot.services.reading_repositories() as repos:
        kept = [p for p in await repos.partners.active() if p["id"] == partner_id][0]
    assert sorted(team["id"] for team in kept["teams"]) == sorted(late)


async def test_the_list_of_partners_names_ten_of_a_partners_teams_and_counts_the_rest(
    bot: Bot,
) -> None:
    ids = await many_teams(bot)
    covered = ids[:25]
    async with bot.services.unit_of_work() as work:
        partner_id = await partners.add(
            work, "民生委員 西地区", "minsei", "", "", covered, "staff"
        )
    await staff_signed_in(bot, "city-staff")
    listed = await (await bot.client.get("/admin/partners")).text()
    row = re.search(rf'<tr data-partner="{partner_id}".*?</tr>', listed, re.S)
    assert row is not None
    named = set(re.findall(r"町会\d{3}", row.group(0)))
    assert named == {f"町会{number:03d}" for number in range(1, 11)}
    assert t("admin.partners42.more_teams", count=15) in row.group(0)
    # The partner's own page names every one of them, ticked.
    own = await (await bot.client.get(f"/admin/partners/{partner_id}")).text()
    assert set(re.findall(r'value="(\d+)" checked', own)) == {str(i) for i in covered}


async def test_the_list_of_partners_shows_a_hundred_and_finds_the_others(bot: Bot) -> None:
    async with bot.services.unit_of_work() as work:
        for number in range(1, 106):
            area = "西地区" if number == 105 else "東地区"
            await partners.add(work, f"協力者{number:03d}", "minsei", "", area, [], "staff")
    await staff_signed_in(bot, "city-staff")
    listed = await (await bot.client.get("/admin/partners")).text()
    assert listed.count("<tr data-partner=") == 100
    assert t("admin.partners42.shown", shown=100, total=105) in listed
    found = await (await bot.client.get("/admin/partners", params={"partner_q": "西地区"})).text()
    assert set(re.findall(r"協力者\d{3}", found)) == {"協力者105"}
    # LIKE's own characters are taken as typed; a NUL (in no name) is dropped, not a 500.
    for typed in ("%", "_"):
        response = await bot.client.get("/admin/partners", params={"partner_q": typed})
        assert response.status == 200
        assert "<tr data-partner=" not in await response.text()
    response = await bot.client.get("/admin/partners", params={"partner_q": "協力者105\x00"})
    assert response.status == 200 and "協力者105" in await response.text()
