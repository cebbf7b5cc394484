"""Rich menus: made once at LINE (`mimamori richmenu`), then linked to each person as their
role changes: a resident who is watched gets 元気です first; someone who only watches gets
見守り中の方. The database says who has which; the sweep links the difference.

On a city's shared account (MIMAMORI_MENUS): `tab` makes one menu, reached from the city's
own menu through the alias `mimamori` (a richmenuswitch area the city adds) and leading back
to the city's alias; nothing is made default and nobody is linked, so the city's menu stays
as it is. `none` touches no menu at all."""

from __future__ import annotations

import logging
from collections import defaultdict

from care.services import Services
from ground.branding import load_branding
from ground.channels import Outcome
from ground.line_api import RICH_MENU_LINK_LIMIT, LineCallFailed
from ground.rich_menu import TAB_ALIAS, MenuKind, RichMenuError, definition, image, tiles

log = logging.getLogger("mimamori.richmenu")

LINKS_PER_SWEEP = 5 * RICH_MENU_LINK_LIMIT


async def install(services: Services) -> dict[str, str]:
    """Make both menus at LINE (drawn in the brand), the resident's as everyone's default, and
    record them; the menus they replace are deleted at LINE. -> kind: rich menu id.
    On a shared account, the tab instead (or nothing: RichMenuError says why)."""
    settings = services.settings
    if settings.menus == "none":
        raise RichMenuError("MIMAMORI_MENUS=none: mimamori touches no rich menu on this account")
    if settings.menus == "tab":
        return await _install_tab(services)
    made: dict[str, str] = {}
    try:
        for kind in (MenuKind.USER, MenuKind.WATCHER):
            made[kind.value] = await _make(services, kind)
        # Someone the sweep has not linked yet (a new follower) sees the resident's menu: most
        # who add the account are the ones to be watched, and its 元気です asks nothing of a
        # watcher who taps it.
        await services.line.set_default_rich_menu(made[MenuKind.USER.value])
    except LineCallFailed:
        for menu_id in made.values():  # nothing half-made is left at LINE
            await _delete_quietly(services, menu_id)
        raise
    await _record(services, made)
    return made


async def _make(services: Services, kind: MenuKind) -> str:
    """One menu of `kind` made at LINE, drawn in the brand. -> its id."""
    settings = services.settings
    locale = services.locale(None)
    menu_tiles = tiles(
        kind, locale, services.postbacks.encode, services.my_page_url, settings.city_menu_alias
    )
    picture = image(kind, locale, menu_tiles, load_branding(settings.branding), settings.branding)
    return await services.line.create_rich_menu(definition(kind, locale, menu_tiles), picture)


async def _record(services: Services, made: dict[str, str]) -> None:
    """The menus made are the ones recorded; those they replace are deleted at LINE."""
    async with services.unit_of_work() as work:
        old = await work.repos.rich_menus.installed()
        await work.repos.rich_menus.replace(made, work.now)
    for menu_id in old.values():
        await _delete_quietly(services, menu_id)


async def link_due(services: Services) -> int:
    """Link the menu each person's role calls for, in LINE's batches. -> people linked.
    On a shared account nobody is linked: a linked menu would hide the city's."""
    if services.settings.menus != "own":
        return 0
    async with services.unit_of_work() as work:
        menus = await work.repos.rich_menus.installed()
        if not menus:
            return 0
        due = await work.repos.rich_menus.to_link(LINKS_PER_SWEEP)
    by_kind: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for member_id, user_id, kind in due:
        by_kind[kind].append((member_id, user_id))
    linked = 0
    for kind, people in by_kind.items():
        for start in range(0, len(people), RICH_MENU_LINK_LIMIT):
            batch = people[start : start + RICH_MENU_LINK_LIMIT]
            result = await services.line.link_rich_menu(menus[kind], [u for _, u in batch])
            if result.outcome is not Outcome.DELIVERED:
                # Left as it is: the next sweep tries again.
                log.warning("rich menu link not done (%s): %s", result.outcome, result.detail)
                return linked
            async with services.unit_of_work() as work:
                await work.repos.rich_menus.linked([m for m, _ in batch], kind)
            linked += len(batch)
    return linked


async def _delete_quietly(services: Services, menu_id: str) -> None:
    try:
        await services.line.delete_rich_menu(menu_id)
    except LineCallFailed as failure:
        log.warning("old rich menu %s not deleted: %s", menu_id, failure)


async def _install_tab(services: Services) -> dict[str, str]:
    """The tab: one menu, the alias `mimamori` pointed at it (made, or moved from the tab it
    replaces, which is then deleted). The city's menus, its default and its aliases are
    left as they are."""
    city_alias = services.settings.city_menu_alias
    aliases = await services.line.rich_menu_aliases()
    if city_alias not in aliases:
        raise RichMenuError(
            f"the city's menu has no alias {city_alias!r} at LINE: the tab's way"
            " back needs it (ask the city's vendor for the alias of its menu)"
        )
    made = await _make(services, MenuKind.TAB)
    try:
        await services.line.set_rich_menu_alias(TAB_ALIAS, made, TAB_ALIAS in aliases)
    except LineCallFailed:
        await _delete_quietly(services, made)
        raise
    await _record(services, {MenuKind.TAB.value: made})
    return {MenuKind.TAB.value: made}


async def remove(services: Services) -> list[str]:
    """mimamori's menus and its alias leave LINE; nothing else is touched (the city's menus,
    default and aliases stay). -> the menus deleted."""
    async with services.reading() as work:
        menus = await work.repos.rich_menus.installed()
    aliases = await services.line.rich_menu_aliases()
    if aliases.get(TAB_ALIAS) in menus.values():
        await services.line.delete_rich_menu_alias(TAB_ALIAS)
    for menu_id in menus.values():
        await _delete_quietly(services, menu_id)
    async with services.unit_of_work() as work:
        await work.repos.rich_menus.replace({}, work.now)
    return list(menus.values())
