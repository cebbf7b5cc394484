"""Rich menus: made at LINE in the brand, linked to each person by role in LINE's batches,
and each tile doing what the chat menu does."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from ground.line_api import LineCallFailed
from ground.rich_menu import HEIGHT, MAX_IMAGE_BYTES, WIDTH, png_size
from scheduler import rich_menus
from server.app import RICH_MENUS_AT_START
from tests import line_webhook as hook
from tests.conftest import Bot
from tests.drivers import create_team, invite_codes_in, watched_resident
from tests.wording import said, t

BULK = "/v2/bot/richmenu/bulk/link"


def menu_labels(menu: dict) -> list[str]:
    return [area["action"]["label"] for area in menu["areas"]]


async def test_menus_are_made_in_the_brand_and_linked_by_role(bot: Bot) -> None:
    resident, (daughter,) = await watched_resident(bot, "resident", ["daughter"])
    made = await rich_menus.install(bot.services)
    line = bot.line
    assert not line.schema_errors, line.schema_errors
    # Someone new sees the resident's menu before the sweep links anything.
    assert set(made) == {"user", "watcher"} and line.default_rich_menu == made["user"]
    for menu_id in made.values():
        picture = line.rich_menu_images[menu_id]
        assert len(picture) <= MAX_IMAGE_BYTES and png_size(picture) == (WIDTH, HEIGHT)
    user_menu, watcher_menu = line.rich_menus[made["user"]], line.rich_menus[made["watcher"]]
    assert menu_labels(user_menu) == [
        t("richmenu.ok"),
        t("richmenu.pause"),
        t("richmenu.settings"),
        t("richmenu.my_page"),
        t("richmenu.help"),
    ]
    assert menu_labels(watcher_menu) == [
        t("richmenu.watching"),
        t("richmenu.my_page"),
        t("richmenu.invite"),
        t("richmenu.help"),
    ]
    assert user_menu["areas"][3]["action"]["uri"] == bot.services.my_page_url

    await bot.sweep()
    assert line.linked_rich_menus == {resident: made["user"], daughter: made["watcher"]}

    # 招待する: her one team's invite codes at once.
    invite_tile = line.rich_menu_of(daughter)["areas"][2]["action"]
    await bot.tap(daughter, invite_tile["data"])
    assert invite_codes_in(bot.line.reply_texts()[-6:]), "the team's invite codes"
    # Someone new, in no team yet, has the resident's menu.
    newcomer = await bot.follow("newcomer")
    await bot.sweep()
    assert line.linked_rich_menus[newcomer] == made["user"]
    calls = len([c for c in line.calls if c.path == BULK])
    await bot.sweep()
    assert len([c for c in line.calls if c.path == BULK]) == calls, "linked once, not again"

    # The daughter starts a team of her own as its user: her menu follows her role.
    await create_team(bot, daughter, "わたしの見守り", as_user=True)
    await bot.sweep()
    assert line.linked_rich_menus[daughter] == made["user"]

    # 元気です with no check-in waiting: a sign of life, and thanks.
    ok_tile = line.rich_menu_of(resident)["areas"][0]["action"]
    await bot.tap(resident, ok_tile["data"])
    assert said(bot.line.reply_texts(), "checkin.menu_ok")
    async with bot.repos() as repos:
        member = await repos.members.by_line_id(resident)
    assert member is not None and member.last_ok_at == bot.clock.now()

    # Made again: the old menus are deleted at LINE and everyone is linked anew.
    again = await rich_menus.install(bot.services)
    assert set(line.rich_menus) == set(again.values())
    await bot.sweep()
    assert line.linked_rich_menus[resident] == again["user"]


async def test_existing_friends_are_linked_in_batches_of_500(bot: Bot) -> None:
    async with bot.repos() as repos:
        for n in range(1200):
            friend = hook.user_id(f"friend-{n}")
            await repos.members.register(friend, f"friend {n}", "ja", bot.clock.now())
    await rich_menus.install(bot.services)
    await bot.sweep()
    sizes = [len(c.body["userIds"]) for c in bot.line.calls if c.path == BULK]
    assert sizes == [500, 500, 200]
    assert len(bot.line.linked_rich_menus) == 1200 and not bot.line.schema_errors


async def test_menus_can_be_made_at_start_up(start_bot: Callable[..., Awaitable[Bot]]) -> None:
    bot = await start_bot(rich_menu_at_start=True)
    await bot.app[RICH_MENUS_AT_START]
    assert len(bot.line.rich_menus) == 2 and bot.line.default_rich_menu
    bot = await start_bot(rich_menu_at_start=True)  # a restart: made once, not again
    await bot.app[RICH_MENUS_AT_START]
    assert len(bot.line.rich_menus) == 2


async def test_a_failure_at_line_leaves_nothing_half_made(bot: Bot) -> None:
    # Both menus made, then LINE fails to make one the default.
    bot.line.fail_next("/v2/bot/user/all/richmenu/{richMenuId}", 500)
    with pytest.raises(LineCallFailed):
        await rich_menus.install(bot.services)
    assert bot.line.rich_menus == {}
    async with bot.repos() as repos:
        assert await repos.rich_menus.installed() == {}
