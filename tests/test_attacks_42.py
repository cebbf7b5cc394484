"""Issue 42's changes attacked as the console's staff would meet them (a team picker of a
prefecture's teams, a form sent back): odd input gets a clear answer, never a 500, and the
pickers' own search stays usable wherever the page was drawn."""

from __future__ import annotations

import re

from tests.conftest import Bot
from tests.drivers import csrf, staff_signed_in

TEAMS = 105


async def many_teams(bot: Bot) -> list[int]:
    async with bot.repos() as repos:
        return [
            (await repos.teams.create(f"町会{number:03d}", 1, 9, bot.clock.now())).id
            for number in range(1, TEAMS + 1)
        ]


def ticked(page: str) -> set[int]:
    return {int(found) for found in re.findall(r'name="team_id" value="(\d+)" checked', page)}


def team_choices_in(page: str) -> set[int]:
    """The teams a picker offers: its boxes, or the desk queue's team menu."""
    menu = re.search(r'<select id="queue-team".*?</select>', page, re.S)
    found = re.findall(r'value="(\d+)"', menu.group(0)) if menu else []
    return {int(i) for i in [*found, *re.findall(r'name="team_id" value="(\d+)"', page)]}


async def notice_sent_back(bot: Bot, team_ids: list[str]) -> tuple[int, str]:
    """A notice's preview asked without an audience: the form comes back as typed (400)."""
    token = await csrf(bot.client, "/admin/notices")
    form = [("csrf_token", token), ("text", "お知らせ")]
    form += [("team_id", team_id) for team_id in team_ids]
    response = await bot.client.post("/admin/notices/preview", data=form)
    return response.status, await response.text()


async def test_a_notice_sent_back_with_odd_team_ids_is_shown_again_not_a_500(bot: Bot) -> None:
    ids = await many_teams(bot)
    await staff_signed_in(bot, "city-staff")
    # ² and ١ pass str.isdigit; twenty nines no database integer holds.
    odd = ["²", "١٢", "9" * 20, "-1", "%", ""]
    status, page = await notice_sent_back(bot, [*odd, str(ids[-1])])
    assert status == 400
    assert ticked(page) == {ids[-1]}, "the team ticked beyond the first hundred stays ticked"


async def test_the_team_search_of_a_notice_sent_back_opens(bot: Bot) -> None:
    ids = await many_teams(bot)
    await staff_signed_in(bot, "city-staff")
    status, page = await notice_sent_back(bot, [str(ids[0])])
    assert status == 400
    search = re.search(r'<form method="get"[^>]*class="inline team-search"[^>]*>', page)
    assert search is not None, "the picker says how many teams and offers their search"
    action = re.search(r'action="([^"]*)"', search.group(0))
    # A form without an action goes back where the page came from: the preview, POST only.
    path = action.group(1) if action else "/admin/notices/preview"
    found = await bot.client.get(path, params={"team_q": "町会105"})
    assert found.status == 200
    assert f'value="{ids[-1]}"' in await found.text()


async def test_odd_team_searches_find_what_they_say(bot: Bot) -> None:
    ids = await many_teams(bot)
    async with bot.repos() as repos:
        wild = (await repos.teams.create("50%_町会\\", 1, 9, bot.clock.now())).id
    await staff_signed_in(bot, "city-staff")
    for path in ("/admin/notices", "/admin/rollcalls", "/admin/partners", "/admin/desk"):
        for search, found in (
            ("%", {wild}),
            ("_", {wild}),
            ("\\", {wild}),
            ("\x00", set(ids[:100])),
        ):
            # A NUL is no character of a name (and PostgreSQL refuses it in text): not searched.
            page = await (await bot.client.get(path, params={"team_q": search})).text()
            listed = team_choices_in(page)
            assert listed == found, (path, search)
        huge = await bot.client.get(path, params={"team_q": "町" * 800, "team": "²"})
        assert huge.status == 200, path


async def test_a_withdrawal_leaves_the_months_line_messages_as_line_counted_them(
    bot: Bot,
) -> None:
    """退会 takes her LINE id out of the messages already sent to her and others; LINE had
    counted them against the month all the same (/metrics' quota_used)."""
    now = bot.clock.now()
    month = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    async with bot.repos() as repos:
        sent = await repos.outbox.add(
            kind="multicast", recipients=["Uleaving", "Ustaying"], tellings=[],
            purpose="checkin", now=now,
        )  # fmt: skip
        await repos.outbox.mark_sent(sent, now)
        before = (await repos.stats.service_health(month))["quota_used"]
        await repos.outbox.scrub_about(999_999, ["Uleaving"])
        after = (await repos.stats.service_health(month))["quota_used"]
    assert before == 2
    assert after == before
