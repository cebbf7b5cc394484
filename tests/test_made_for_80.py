"""Made for a resident of 80: her LINE text size on every card, answer buttons a shaking hand
can hit, 助けてほしい apart from the rest (and taken back with one tap), and a relative's next
step on the reply they were given."""

from __future__ import annotations

from typing import Any

from care.protocol import Stage, stage_of
from ground.messages import HELP_COLOUR, OK_COLOUR
from tests.conftest import Bot
from tests.drivers import (
    CHECKIN,
    alerted,
    button,
    member_of,
    run_to,
    tokyo,
    watched_resident,
)
from tests.fake_line import message_text
from tests.wording import says, t


def _reply_button(bot: Bot, label: str) -> str:
    for action in bot.last_reply_postbacks():
        if action["label"] == label:
            return str(action["data"])
    raise AssertionError(f"no {label!r} in the last reply")


def _components(node: Any) -> list[dict[str, Any]]:
    """Every Flex component in a message, depth first."""
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if node.get("type") in ("text", "button", "separator", "box", "image", "icon"):
            found.append(node)
        for value in node.values():
            found += _components(value)
    elif isinstance(node, list):
        for value in node:
            found += _components(value)
    return found


def _every_flex_scales(messages: list[dict[str, Any]]) -> int:
    flex = [m for m in messages if m.get("type") == "flex"]
    for message in flex:
        for part in _components(message["contents"]):
            if part["type"] in ("text", "button"):
                assert part.get("scaling") is True, part
    return len(flex)


async def test_every_card_follows_her_text_size_and_help_stands_apart(bot: Bot) -> None:
    resident, (son,) = await alerted(bot, ["son"])
    checkin = next(
        m for m in bot.line.messages_to(resident) if message_text(m).startswith(CHECKIN)
    )
    buttons = [p for p in _components(checkin["contents"]["footer"]) if p["type"] == "button"]
    assert [b["action"]["label"] for b in buttons] == [
        t("checkin.ok_button"),
        t("checkin.unwell_button"),
        t("checkin.help_button"),
    ]
    assert all(b["height"] == "md" for b in buttons), "full height, every answer"
    ok, unwell, help_ = buttons
    assert (ok["color"], help_["color"]) == (OK_COLOUR, HELP_COLOUR)
    assert "color" not in unwell and unwell["style"] == "secondary"
    footer = checkin["contents"]["footer"]["contents"]
    # 助けてほしい is last, under a separator, well apart from the others.
    assert footer[-2]["type"] == "separator" and footer[-1] is help_ and help_["margin"] == "xxl"

    await bot.tap(son, button(bot, son, t("alert.take_button")))
    sent = [
        m
        for call in bot.line.calls
        if call.status == 200 and isinstance(call.body, dict)
        for m in call.body.get("messages", [])
    ]
    assert _every_flex_scales(sent) >= 3, "check-ins, the alert and the reply card"
    assert bot.line.schema_errors == []


async def test_help_pressed_by_mistake_tells_the_managers_and_the_alert_stays(bot: Bot) -> None:
    resident, (son, daughter) = await watched_resident(bot, "resident", ["son", "daughter"])
    await run_to(bot, tokyo(11, 24, 9))
    await bot.tap(resident, button(bot, resident, t("checkin.help_button")))
    assert says(bot.line.reply_texts()[-1], "checkin.help_sent", names="son、daughter")
    mistake = _reply_button(bot, t("checkin.mistake_button"))
    await bot.tap(resident, mistake)
    assert says(bot.line.reply_texts()[-1], "checkin.mistake_told")
    for manager in (son, daughter):
        assert says(bot.line.texts_to(manager)[-1], "alert.mistake_notice", name="resident")
    member = await member_of(bot, resident)
    async with bot.repos() as repos:
        checkin = await repos.rounds.open_round(member.id)
    assert stage_of(checkin) is Stage.HELP, "still theirs to close"

    # A second tap tells nobody twice.
    told_before = len(bot.line.texts_to(son))
    await bot.tap(resident, mistake)
    assert says(bot.line.reply_texts()[-1], "checkin.mistake_late")
    assert len(bot.line.texts_to(son)) == told_before

    # The son calls, and closes it himself from the reply to 対応します.
    await bot.tap(son, button(bot, son, t("alert.take_button")))
    await bot.tap_reply_button(son, t("alert.safe_button"))
    assert says(bot.line.reply_texts()[-1], "alert.confirmed_you", name="resident")
    assert says(bot.line.texts_to(daughter)[-1], "alert.confirmed_notice", taker="son")
    async with bot.repos() as repos:
        assert await repos.rounds.open_round(member.id) is None


async def test_a_mistake_button_from_another_round_or_person_tells_nobody(bot: Bot) -> None:
    resident, (son,) = await watched_resident(bot, "resident", ["son"])
    await run_to(bot, tokyo(11, 24, 9))
    await bot.tap(resident, button(bot, resident, t("checkin.help_button")))
    mistake = _reply_button(bot, t("checkin.mistake_button"))
    await bot.tap(resident, button(bot, resident, t("checkin.ok_button")))
    told_before = len(bot.line.texts_to(son))
    await bot.tap(resident, mistake)  # the alert closed with her OK
    assert says(bot.line.reply_texts()[-1], "checkin.mistake_late")
    await bot.tap(son, mistake)  # not his call for help
    assert says(bot.line.reply_texts()[-1], "checkin.mistake_late")
    assert len(bot.line.texts_to(son)) == told_before
