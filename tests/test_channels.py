"""The seam for a second channel: care/ says what to tell whom, and the row's channel renders
and sends it. A stand-in text gateway (tests/fake_texting.py) is plugged in as a renderer and
a sender, and nothing in care/ knows it: the ladder, the alert and a roll-call reach a person
through it, while LINE keeps everyone else, the retry key and the quota counting."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import timedelta

from ground.telling import Choice, Form, Link, Telling
from tests.conftest import Bot
from tests.drivers import ALERT, Page, checkins_to, run_to, tokyo, watched_resident
from tests.fake_texting import FakeTexting
from tests.wording import JA, said, t

PHONE = "+81-90-0000-0001"  # a stand-in address: the gateway is a fake


async def reached_by_texting(bot: Bot, uid: str, channel: str = "texting") -> int:
    async with bot.repos() as repos:
        member = await repos.members.by_line_id(uid)
        assert member is not None
        await repos.members.set_channel(member.id, channel, PHONE)
        return member.id


async def texting_row(bot: Bot) -> tuple[str, str]:
    """(state, last error) of the one outbox row written for the gateway."""
    async with bot.repos() as repos:
        row = await repos.conn.fetch_one(
            "SELECT state, last_error FROM outbox WHERE channel = 'texting'", ()
        )
    assert row is not None
    return row[0], row[1]


async def test_the_ladder_reaches_a_person_through_another_channel(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    texting = FakeTexting()
    bot = await start_bot(channels=[texting])
    resident, (son,) = await watched_resident(bot, "resident", ["son"])
    await reached_by_texting(bot, resident)

    # The check-in: through the gateway, as words and numbered choices; nothing to her LINE.
    await run_to(bot, tokyo(11, 24, 9))
    (checkin,) = texting.to(PHONE)
    assert checkin.form is Form.CHECKIN and checkin.title == t("checkin.title")
    assert [c.answer for c in checkin.choices] == ["ok", "unwell", "help"]
    assert [c.label for c in checkin.choices] == [
        t("checkin.ok_button"),
        t("checkin.unwell_button"),
        t("checkin.help_button"),
    ]
    assert checkin.quote and checkin.quote in texting.texts_to(PHONE)[0]
    assert checkins_to(bot, resident) == []

    # No answer: the re-send the same way, and the alert to her son, who is on LINE.
    await run_to(bot, tokyo(11, 25, 9))
    assert [x.title for x in texting.to(PHONE)] == [t("checkin.title"), t("checkin.resend_title")]
    await run_to(bot, tokyo(11, 25, 12))
    assert any(ALERT in text for text in bot.line.texts_to(son))
    assert not any(ALERT in text for text in texting.texts_to(PHONE))

    # Her answer comes back with the choice's token, whatever surface carries it (the chat
    # is the one there is today): the alert closes and her son hears she is safe.
    ok = checkin.choices[0]
    await bot.tap(resident, ok.data)
    assert said(bot.line.texts_to(son), "safe.body", name="resident")


async def test_a_failing_channel_is_tried_again_with_the_same_retry_key(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    texting = FakeTexting(failures=1)
    bot = await start_bot(channels=[texting])
    resident, _ = await watched_resident(bot, "resident", ["son"])
    await reached_by_texting(bot, resident)

    await run_to(bot, tokyo(11, 24, 9))
    assert len(texting.attempts) == 1 and texting.sent == {}
    state, last_error = await texting_row(bot)
    assert state == "pending" and "gateway" in last_error

    await bot.advance(timedelta(seconds=10))
    first, again = texting.attempts
    assert first == again, "the same retry key: the gateway can drop a repeat"
    assert len(texting.sent) == 1
    # The round's clock starts when the channel took the check-in, as with LINE: the re-send
    # comes a day after that, not a day after the failed attempt.
    async with bot.repos() as repos:
        (delivered,) = await repos.conn.fetch_one("SELECT sent_at FROM checkin_rounds", ())
    assert delivered is not None


async def test_the_quota_counts_what_line_carried_and_nothing_else(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    texting = FakeTexting()
    bot = await start_bot(channels=[texting])
    on_line, _ = await watched_resident(bot, "resident", ["son"])
    by_text, _ = await watched_resident(bot, "neighbour", ["daughter"])
    await reached_by_texting(bot, by_text)

    async def quota_used() -> int:
        async with bot.repos() as repos:
            health = await repos.stats.service_health(tokyo(11, 1, 0))
        return int(health["quota_used"])

    before = await quota_used()
    await run_to(bot, tokyo(11, 24, 9))
    assert len(checkins_to(bot, on_line)) == 1 and len(texting.to(PHONE)) == 1
    assert await quota_used() == before + 1, "one push on LINE; the text costs LINE nothing"


async def test_a_person_set_to_a_channel_this_deployment_lacks_is_reached_on_line(
    bot: Bot,
) -> None:
    resident, _ = await watched_resident(bot, "resident", ["son"])
    await reached_by_texting(bot, resident)
    await run_to(bot, tokyo(11, 24, 9))
    assert len(checkins_to(bot, resident)) == 1
    async with bot.repos() as repos:
        channels = await repos.conn.fetch_all("SELECT DISTINCT channel FROM outbox", ())
    assert [row[0] for row in channels] == ["line"]


async def test_a_row_for_a_missing_channel_waits_for_an_instance_that_has_it(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    texting = FakeTexting(failures=1)
    bot = await start_bot(channels=[texting])
    resident, _ = await watched_resident(bot, "resident", ["son"])
    await reached_by_texting(bot, resident)
    await run_to(bot, tokyo(11, 24, 9))  # written for texting; its first try failed

    bot = await start_bot()  # an instance without the channel
    await bot.advance(timedelta(minutes=5))
    state, last_error = await texting_row(bot)
    assert state == "pending" and "texting" in last_error
    assert checkins_to(bot, resident) == []

    bot = await start_bot(channels=[texting])
    await bot.advance(timedelta(minutes=15))
    assert [x.title for x in texting.to(PHONE)] == [t("checkin.title")]


async def test_withdrawal_takes_the_channel_address_out_of_what_was_sent(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    texting = FakeTexting()
    bot = await start_bot(channels=[texting])
    resident, _ = await watched_resident(bot, "resident", ["son"])
    await reached_by_texting(bot, resident)
    await run_to(bot, tokyo(11, 24, 9))
    assert texting.to(PHONE)
    page = Page(bot, resident, "resident")
    await page.accept_terms()
    assert (await page.call("POST", "/liff/api/me/withdraw", {"confirm": True}))[0] == 200
    async with bot.repos() as repos:
        rows = await repos.conn.fetch_all(
            "SELECT recipients, tellings FROM outbox WHERE state != 'pending'", ()
        )
    assert rows and not any(PHONE in row[0] for row in rows)
    assert not any(JA.t("checkin.title") in row[1] for row in rows)


def test_a_telling_is_stored_and_read_back_as_it_was() -> None:
    choices = [Choice("ok", "OK", "d1"), Choice("help", "助けてほしい", "d2")]
    for telling in (
        Telling.sentence("ja", "ことば"),
        Telling.card("en", "Title", "Body", choices, [Link("My page", "https://example.org/")]),
        Telling.checkin("ja", "お元気ですか？", "今日のことば", "押してください", choices),
    ):
        assert Telling.from_json(json.loads(json.dumps(telling.to_json()))) == telling
