"""The chat's handlers are handed the batch's transaction; they never open one of their own."""

from __future__ import annotations

import pytest

from care.services import NestedUnitOfWork
from tests import line_webhook as hook
from tests.conftest import Bot


async def test_a_unit_of_work_inside_another_is_refused(bot: Bot) -> None:
    """No silent joining: code inside a transaction uses the one it was handed."""
    async with bot.services.unit_of_work() as outer:
        with pytest.raises(NestedUnitOfWork):
            async with bot.services.unit_of_work():
                pass
        # The outer one is untouched by the refusal and still works.
        assert await outer.repos.members.by_line_id(hook.user_id("nobody")) is None
    async with bot.services.unit_of_work():  # and, once it is closed, a new one opens
        pass


async def test_an_unknown_persons_unfollow_reaches_no_person_handler(bot: Bot) -> None:
    """A person's handler always has its member: someone never seen who blocks the bot is
    nobody to stop; nothing is registered, nothing is said."""
    stranger = hook.user_id("stranger")
    await bot.post(hook.unfollow(stranger, bot.clock.now()))
    async with bot.repos() as repos:
        assert await repos.members.by_line_id(stranger) is None
    assert bot.line.replies == [] and bot.line.pushes == []
