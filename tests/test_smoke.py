from __future__ import annotations

from tests.conftest import Bot
from tests.flows import watched_resident


async def test_follow_and_team(bot: Bot) -> None:
    uid, managers = await watched_resident(bot, "resident-a", ["manager-a"])
    print(bot.line.reply_texts())
    print([c.path for c in bot.line.calls])
    assert managers
