"""A look-up that only decorates a reply never fails an event: when LINE's bot info (the basic
id of invite links), a profile or a group's summary answers 500 or an answer that does not
parse, a follow is still greeted, an OK tap still answered, an invite still sent (without its
chat link), a group still greeted; nothing is set aside, and the failures are counted."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from logging import ERROR

import pytest

from bot.dispatch import DISPATCHER
from tests import line_webhook as hook
from tests.conftest import Bot
from tests.drivers import create_team, ok_data, run_to, tokyo, watched_resident
from tests.wording import says, t

GARBAGE = b"<html><body>502 Bad Gateway</body></html>"
WRONG_SHAPE = b'{"message": "ok"}'  # JSON, but not the answer asked for

ANSWERS = {
    "500": {"status": 500},
    "garbage": {"status": 200, "raw": GARBAGE},
    "wrong_shape": {"status": 200, "raw": WRONG_SHAPE},
}


def failed_lookups(bot: Bot, lookup: str) -> float:
    value = bot.services.metrics.registry.get_sample_value(
        "mimamori_line_lookups_failed_total", {"lookup": lookup}
    )
    return value or 0.0


def nothing_failed(bot: Bot, caplog: pytest.LogCaptureFixture) -> None:
    """No batch failed, no event is kept for another try or set aside."""
    assert not bot.app[DISPATCHER].retry_pending
    failed = [r for r in caplog.records if r.name == "mimamori.dispatch" and r.levelno >= ERROR]
    assert failed == [], [r.getMessage() for r in failed]


@pytest.mark.parametrize("answer", sorted(ANSWERS))
async def test_a_bot_info_that_fails_leaves_follows_and_ok_taps_handled(
    start_bot: Callable[..., Awaitable[Bot]], answer: str, caplog: pytest.LogCaptureFixture
) -> None:
    # A resident and her son, while LINE answers well; then the server restarts (nothing
    # known of the bot's basic id) and LINE's bot info answers badly from then on.
    bot = await start_bot()
    resident, _ = await watched_resident(bot, "resident", ["son"])
    await run_to(bot, tokyo(11, 24, 9))
    bot = await start_bot()
    bot.line.fail_next("/v2/bot/info", times=50, **ANSWERS[answer])  # type: ignore[arg-type]

    # Her OK tap is the first event after the restart: answered, her round closed.
    await bot.tap(resident, ok_data(bot, resident))
    assert says(bot.line.reply_texts()[-1], "checkin.thanks")
    assert any(c.path == "/v2/bot/info" for c in bot.line.calls), "the basic id was asked"

    # A stranger's follow after another restart: greeted.
    bot = await start_bot()
    stranger = await bot.follow("stranger")
    greeting = bot.reply_to(stranger)
    assert greeting is not None and greeting.status == 200
    # Her invite goes out without the chat link that needs the basic id.
    codes = await create_team(bot, stranger, "stranger の家族", as_user=True)
    assert set(codes) == {"user", "manager"}
    role = t("role_name.user")
    assert any(
        says(text, "invite.share_without_link", role=role, code=codes["user"])
        for text in bot.line.reply_texts()
    )
    nothing_failed(bot, caplog)
    assert failed_lookups(bot, "bot_info") >= 1


async def test_a_profile_that_does_not_parse_leaves_the_follow_greeted(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    uid = hook.user_id("resident")
    bot.line.add_profile(uid, "resident", "ja")
    bot.line.fail_next("/v2/bot/profile/{userId}", 200, raw=GARBAGE)
    await bot.post(hook.follow(uid, bot.clock.now()))
    greeting = bot.reply_to(uid)
    assert greeting is not None and greeting.status == 200
    nothing_failed(bot, caplog)
    assert failed_lookups(bot, "profile") == 1


async def test_a_group_summary_that_does_not_parse_leaves_the_join_answered(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    group = hook.group_id("neighbours")
    bot.line.fail_next("/v2/bot/group/{groupId}/summary", 200, raw=WRONG_SHAPE)
    event = hook.join(hook.in_group(group, None), bot.clock.now())
    await bot.post(event)
    assert any(c.body.get("replyToken") == event["replyToken"] for c in bot.line.replies)
    nothing_failed(bot, caplog)
    assert failed_lookups(bot, "group_name") == 1
