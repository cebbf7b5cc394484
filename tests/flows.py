"""Chat flows a person goes through, reused by several tests."""

from __future__ import annotations

import re

from tests.conftest import Bot
from tests.wording import EN, JA, says, t

CODE = re.compile(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}")


def invite_codes_in(texts: list[str]) -> dict[str, str]:
    """{'user': code, 'manager': code} from the invite messages of the last replies."""
    found: dict[str, str] = {}
    for text in texts:
        match = CODE.search(text)
        if not match:
            continue
        for role in ("user", "manager"):
            for locale in (JA, EN):
                role_name = locale.t(f"role_name.{role}")
                for key in ("invite.share", "invite.share_without_link"):
                    if says(text, key, locale, role=role_name, code=match.group()):
                        found[role] = match.group()
    return found


async def create_team(bot: Bot, uid: str, name: str, as_user: bool) -> dict[str, str]:
    """Menu -> チームを作る -> name -> role; returns the team's invite codes."""
    await bot.tap_action(uid, "team_new")
    await bot.say(uid, name)
    await bot.tap_reply_button(uid, t("team.as_user") if as_user else t("team.as_manager"))
    return invite_codes_in(bot.line.reply_texts()[-6:])


async def join(bot: Bot, uid: str, code: str) -> None:
    """Send the code, then confirm on the card that explains the role."""
    await bot.say(uid, t("invite.prefill", code=code))
    await bot.tap_reply_button(uid, t("invite.accept"))


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
