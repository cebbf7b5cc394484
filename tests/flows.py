"""Chat flows a person goes through, reused by several tests."""

from __future__ import annotations

import re

from tests.conftest import Bot

CODE = re.compile(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}")


def invite_codes_in(texts: list[str]) -> dict[str, str]:
    """{'user': code, 'manager': code} from the invite messages of the last replies."""
    found: dict[str, str] = {}
    for text in texts:
        match = CODE.search(text)
        if not match:
            continue
        if "利用者（見守られる方）として参加" in text or "as a user (watched over)" in text:
            found["user"] = match.group()
        elif "管理者（見守る方）として参加" in text or "as a manager (watching)" in text:
            found["manager"] = match.group()
    return found


async def create_team(bot: Bot, uid: str, name: str, as_user: bool) -> dict[str, str]:
    """Menu -> チームを作る -> name -> role; returns the team's invite codes."""
    await bot.tap_action(uid, "team_new")
    await bot.say(uid, name)
    await bot.tap_reply_button(uid, "見守られる方として" if as_user else "見守る方として")
    return invite_codes_in(bot.line.reply_texts()[-6:])


async def join(bot: Bot, uid: str, code: str) -> None:
    """Send the code, then confirm on the card that explains the role."""
    await bot.say(uid, f"招待コード {code}")
    await bot.tap_reply_button(uid, "参加する")


async def watched_resident(bot: Bot, resident: str, managers: list[str]) -> tuple[str, list[str]]:
    """A resident who creates a team as its user, with each manager joining it."""
    uid = await bot.follow(resident)
    codes = await create_team(bot, uid, f"{resident}の家族", as_user=True)
    manager_ids = []
    for manager in managers:
        mid = await bot.follow(manager)
        await join(bot, mid, codes["manager"])
        manager_ids.append(mid)
    return uid, manager_ids
