"""A call for help is never closed by chatter: what the person writes during an alert reaches
the managers as their words and the alert stays open; words of distress start the help path."""

from __future__ import annotations

from datetime import timedelta

from care.rounds.protocol import Stage
from tests import line_webhook as hook
from tests.conftest import Bot
from tests.drivers import alerted, button, run_to, stage, tokyo, told_safe, watched_resident
from tests.wording import JA, said, says, t

DISTRESS = JA.t("distress.words").split(",")


async def test_help_then_a_message_and_a_sticker_keep_the_call_for_help_open(bot: Bot) -> None:
    """The defect as a resident met it: 助けてほしい, then 「転んで動けません。痛いです」 and
    a sticker closed the alert and told both managers she was safe."""
    resident, (son, daughter) = await watched_resident(bot, "resident", ["son", "daughter"])
    await run_to(bot, tokyo(11, 24, 9))
    await bot.tap(resident, button(bot, resident, t("checkin.help_button")))
    for manager in (son, daughter):
        assert t("alert.help_title") in bot.line.texts_to(manager)[-1]
    words = f"転んで{DISTRESS[3]}。{DISTRESS[2]}です"
    bot.clock.advance(timedelta(minutes=2))
    await bot.say(resident, words)
    await bot.post(hook.sticker(resident, bot.clock.now()))
    for manager in (son, daughter):
        texts = bot.line.texts_to(manager)
        assert told_safe(bot, manager) == [], "nobody is told she is safe"
        # Her words, quoted as written, in an urgent alert.
        assert t("alert.words", words=words) in texts[-2] and t("alert.help_title") in texts[-2]
        assert says(texts[-1], "words.sticker", name="resident")
    assert await stage(bot, resident) is Stage.HELP
    await bot.tap(son, button(bot, son, t("alert.take_button")))
    assert says(bot.line.reply_texts()[-1], "alert.taken_you", name="resident")
    assert await stage(bot, resident) is Stage.HELP_TAKEN, "taken, and still a call for help"


async def test_a_message_during_an_unanswered_alert_reaches_the_alerted_as_her_words(
    bot: Bot,
) -> None:
    resident, (son, daughter) = await alerted(bot, ["son", "daughter"])
    await bot.say(resident, "ごめんなさい、寝ていました")
    for manager in (son, daughter):
        last = bot.line.texts_to(manager)[-1]
        assert says(last, "words.body", name="resident", words="ごめんなさい、寝ていました")
        assert told_safe(bot, manager) == []
    assert says(bot.line.reply_texts()[-1], "words.passed", names="son、daughter")
    assert await stage(bot, resident) is Stage.ALERTED
    # 少し体調が悪い is not 元気 either: every manager hears it and the alert stays open.
    await bot.tap(resident, button(bot, resident, t("checkin.unwell_button")))
    assert says(bot.line.texts_to(son)[-1], "unwell.body", name="resident")
    assert await stage(bot, resident) is Stage.ALERTED
    # Her own OK closes it, and only then are the managers told she is safe.
    await bot.tap(resident, button(bot, resident, t("checkin.ok_button")))
    for manager in (son, daughter):
        assert len(said(bot.line.texts_to(manager), "safe.body")) == 1
    assert await stage(bot, resident) is Stage.SAFE


async def test_words_of_distress_with_no_check_in_waiting_alert_everyone_at_once(
    bot: Bot,
) -> None:
    resident, (son, daughter) = await watched_resident(bot, "resident", ["son", "daughter"])
    words = f"胸が{DISTRESS[-4]}"  # 苦しい
    await bot.say(resident, words)
    assert says(bot.line.reply_texts()[-1], "checkin.help_sent", names="son、daughter")
    for manager in (son, daughter):
        alert = bot.line.texts_to(manager)[-1]
        assert t("alert.help_title") in alert and t("alert.words", words=words) in alert
    assert await stage(bot, resident) is Stage.HELP


async def test_every_word_of_the_list_starts_the_help_path_and_a_phone_number_does_not(
    bot: Bot,
) -> None:
    from care.rounds.answers import distress_words, is_distress

    words = distress_words(bot.services.i18n, "ja")
    for word in DISTRESS:
        assert is_distress(f"あの、{word}…", words), word
    assert is_distress("１１９番して", words), "full-width digits too"
    assert not is_distress("電話は 03-1190-2222 です", words)
    # An invite code that holds 119 (it happened in a test run) is not a call for help.
    assert not is_distress("招待コード ABCD-K119-119X-2222 です", words)
    assert not is_distress("会いたいです", words)
    assert is_distress("HELP ME please", distress_words(bot.services.i18n, "en"))


async def test_help_with_nobody_watching_leaves_no_alert_open(bot: Bot) -> None:
    lonely = await bot.follow("lonely")
    await bot.say(lonely, DISTRESS[0])
    assert bot.line.reply_texts()[-1] == t("checkin.help_nobody")
    assert await stage(bot, lonely) is Stage.IDLE, "no alert left open that nobody can read"


async def test_a_second_call_for_help_in_the_same_instant_still_alerts(bot: Bot) -> None:
    """Found by the protocol's property test: help, 元気, then help again without the clock
    moving opened the second alert on the first one's moment, and the database refused it:
    the person was apologised to and nobody was alerted."""
    resident, (son,) = await watched_resident(bot, "resident", ["son"])
    await bot.tap_action(resident, "ok", t=0, v="help")
    await bot.tap_action(resident, "ok", t=0, v="ok")
    await bot.say(resident, f"胸が{DISTRESS[-4]}")
    assert says(bot.line.reply_texts()[-1], "checkin.help_sent", names="son")
    urgent = [text for text in bot.line.texts_to(son) if t("alert.help_title") in text]
    assert len(urgent) == 2
    assert await stage(bot, resident) is Stage.HELP
