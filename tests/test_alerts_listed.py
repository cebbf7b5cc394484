"""The alerts page lists the week's answered alerts latest first, at most ANSWERED_LISTED of
them: a million residents' week had 48,000, a page of 7 MB (issue 42). 運用管理 is told how
many there were in all; 窓口, who reads only its own people, is told only that the list stops."""

from __future__ import annotations

import re
from datetime import timedelta

from admin.overview import ANSWERED_LISTED
from storage.database import to_db
from storage.models import StaffRole
from tests.conftest import Bot
from tests.drivers import add_admin, login
from tests.wording import t

MORE = 5


async def test_the_weeks_answered_alerts_are_listed_latest_first_up_to_a_bound(bot: Bot) -> None:
    now = bot.clock.now()
    count = ANSWERED_LISTED + MORE
    async with bot.repos() as repos:
        await repos.conn.executemany(
            "INSERT INTO members (line_user_id, display_name, language, registered_at)"
            " VALUES (?, ?, 'ja', ?)",
            [(f"U{n:032x}", f"alerted {n:04d}", to_db(now)) for n in range(count)],
        )
        rows = await repos.conn.fetch_all(
            "SELECT id FROM members WHERE display_name LIKE 'alerted %' ORDER BY id"
        )
        # The n-th closed n minutes before now: the first ones are the latest.
        await repos.conn.executemany(
            "INSERT INTO checkin_rounds (member_id, slot_at, state, opened_at, alerted_at,"
            " closed_at, close_reason, answer) VALUES (?, ?, 'answered', ?, ?, ?, 'ok', 'ok')",
            [
                (
                    member_id,
                    to_db(now - timedelta(days=1)),
                    to_db(now - timedelta(days=1)),
                    to_db(now - timedelta(hours=20)),
                    to_db(now - timedelta(minutes=n + 1)),
                )
                for n, (member_id,) in enumerate(rows)
            ],
        )
    await add_admin(bot, "city-staff", StaffRole.OPERATOR)
    assert await login(bot.client, "city-staff") == 200
    page = await (await bot.client.get("/admin/alerts")).text()
    listed = re.findall(r'<tr class="closed-alert"><td>\d+</td><td>(alerted \d{4})</td>', page)
    assert listed == [f"alerted {n:04d}" for n in range(ANSWERED_LISTED)]
    assert t("admin.alerts42.latest_of", shown=ANSWERED_LISTED, total=count) in page

    await add_admin(bot, "desk-staff", StaffRole.DESK)
    assert await login(bot.client, "desk-staff") == 200
    page = await (await bot.client.get("/admin/alerts")).text()
    assert "alerted 0" not in page, "none of them is the desk's"
    assert t("admin.alerts42.latest", shown=ANSWERED_LISTED) in page
    city_wide = t("admin.alerts42.latest_of", shown=ANSWERED_LISTED, total=count)
    assert city_wide not in page, "the city-wide count is 運用管理's"
