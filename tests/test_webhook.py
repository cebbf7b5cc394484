"""POST /callback: LINE's signature, bad bodies, duplicates, unknown and malformed events."""

from __future__ import annotations

import io
import json

from storage.database import to_db
from tests import line_webhook as hook
from tests.conftest import SECRET, Bot
from tests.fake_line import message_text, postbacks_in
from tests.wording import says, t


async def members(bot: Bot) -> int:
    async with bot.repos() as repos:
        row = await repos.conn.fetch_one("SELECT COUNT(*) FROM members")
    return row[0]


async def raw_post(bot: Bot, payload: bytes, headers: dict[str, str]) -> tuple[int, str]:
    response = await bot.client.post("/callback", data=io.BytesIO(payload), headers=headers)
    await bot.settle()
    return response.status, await response.text()


async def test_connection_test_from_the_console_gets_200(bot: Bot) -> None:
    payload = hook.body()
    status, _ = await raw_post(bot, payload, {"X-Line-Signature": hook.sign(payload, SECRET)})
    assert status == 200


async def test_signature_is_checked_before_anything(bot: Bot) -> None:
    bot.line.add_profile(hook.user_id("a"), "a")
    payload = hook.body(hook.follow(hook.user_id("a"), bot.clock.now()))
    good = hook.sign(payload, SECRET)
    for headers in (
        {},
        {"X-Line-Signature": ""},
        {"X-Line-Signature": hook.sign(payload, "another-secret")},
        {"X-Line-Signature": good[:-4] + "AAA="},
        {"X-Line-Signature": "not base64 at all"},
    ):
        status, text = await raw_post(bot, payload, headers)
        assert status == 400, headers
        assert "signature" in text.lower()
    assert await members(bot) == 0
    assert bot.line.calls == []

    # The header name is case-insensitive, as LINE sends it.
    status, _ = await raw_post(bot, payload, {"x-line-signature": good})
    assert status == 200
    assert await members(bot) == 1


async def test_signed_but_tampered_body_is_refused(bot: Bot) -> None:
    payload = hook.body(hook.follow(hook.user_id("a"), bot.clock.now()))
    signature = hook.sign(payload, SECRET)
    tampered = payload.replace(b'"follow"', b'"unfollow"', 1)
    status, _ = await raw_post(bot, tampered, {"X-Line-Signature": signature})
    assert status == 400
    assert await members(bot) == 0


async def test_malformed_json_gets_400_and_changes_nothing(bot: Bot) -> None:
    for payload in (b"{not json", b'{"events": "nope"}', b"[]", b'{"destination": "x"}'):
        status, _ = await raw_post(bot, payload, {"X-Line-Signature": hook.sign(payload, SECRET)})
        assert status == 400, payload
    assert await members(bot) == 0


async def test_huge_body_is_refused(bot: Bot) -> None:
    payload = b'{"events": [], "padding": "' + b"x" * (1024 * 1024 + 1) + b'"}'
    status, _ = await raw_post(bot, payload, {"X-Line-Signature": hook.sign(payload, SECRET)})
    assert status == 413


async def test_unknown_and_malformed_events_are_skipped_not_500(bot: Bot) -> None:
    uid = hook.user_id("someone")
    bot.line.add_profile(uid, "someone")
    now = bot.clock.now()
    unknown = {**hook.follow(uid, now), "type": "messageEdited"}
    broken = hook.follow(uid, now)
    del broken["source"]
    no_id = hook.follow(uid, now)
    del no_id["webhookEventId"]
    good = hook.follow(uid, now)
    payload = json.dumps(
        {"destination": hook.BOT_USER_ID, "events": [unknown, broken, no_id, "junk", good]}
    ).encode()
    status, _ = await raw_post(bot, payload, {"X-Line-Signature": hook.sign(payload, SECRET)})
    assert status == 200
    assert await members(bot) == 1, "the one good event was handled"
    assert len(bot.line.replies) == 1


async def test_duplicates_and_redeliveries_are_dropped(bot: Bot) -> None:
    uid = hook.user_id("someone")
    bot.line.add_profile(uid, "someone")
    event = hook.follow(uid, bot.clock.now())
    await bot.post(event)
    await bot.post(hook.redelivered(event))
    await bot.post(event, event)
    assert len(bot.line.replies) == 1


async def test_event_received_but_not_handled_is_replayed_after_restart(start_bot) -> None:  # noqa: ANN001
    bot = await start_bot()
    uid = hook.user_id("someone")
    bot.line.add_profile(uid, "someone")
    async with bot.services.arrivals() as arrivals:
        # What the webhook stores before answering 200, as if the process died right after.
        event = hook.follow(uid, bot.clock.now())
        await arrivals.land([(event["webhookEventId"], json.dumps(event))], bot.clock.now())
    bot = await start_bot()
    await bot.settle()
    assert await members(bot) == 1
    assert says(bot.line.reply_texts()[0], "follow.greeting")


async def test_an_event_an_earlier_version_stored_unhandled_is_handled_once(start_bot) -> None:  # noqa: ANN001
    bot = await start_bot()
    uid = hook.user_id("someone")
    bot.line.add_profile(uid, "someone")
    event = hook.follow(uid, bot.clock.now())
    async with bot.repos() as repos:
        # Earlier versions stored events in webhook_events itself before answering LINE.
        await repos.conn.execute(
            "INSERT INTO webhook_events (event_id, payload, received_at) VALUES (?, ?, ?)",
            (event["webhookEventId"], json.dumps(event), to_db(bot.clock.now())),
        )
    bot = await start_bot()
    await bot.settle()
    bot = await start_bot()
    await bot.settle()
    assert await members(bot) == 1
    assert len(bot.line.replies) == 1
    assert says(bot.line.reply_texts()[0], "follow.greeting")


async def test_follow_registers_with_profile_and_greets(bot: Bot) -> None:
    uid = await bot.follow("a resident")
    async with bot.repos() as repos:
        member = await repos.members.by_line_id(uid)
    assert member is not None
    assert (member.id, member.display_name, member.language) == (1, "a resident", "ja")
    assert member.registered_at == bot.clock.now()
    # One message: one tap to begin, or the family sets it; no menu of chips pushing it up.
    (greeting,) = bot.line.replies[-1].body["messages"]
    assert says(message_text(greeting), "follow.greeting", member_id=1)
    labels = [a["label"] for a in postbacks_in(greeting)]
    assert labels == [t("follow.start_button"), t("follow.family_button")]
    assert "quickReply" not in greeting

    second = await bot.follow("another", language="en")
    async with bot.repos() as repos:
        member = await repos.members.by_line_id(second)
    assert member is not None and (member.id, member.language) == (2, "en")


async def test_follow_without_profile_still_registers(bot: Bot) -> None:
    uid = hook.user_id("no-profile")  # the profile API answers 404
    await bot.post(hook.follow(uid, bot.clock.now()))
    assert await members(bot) == 1
    assert says(bot.line.reply_texts()[0], "follow.greeting", member_id=1)


async def test_healthz(bot: Bot) -> None:
    response = await bot.client.get("/healthz")
    assert response.status == 200
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    await bot.services.db.close()
    response = await bot.client.get("/healthz")
    assert response.status == 503


async def test_a_body_nested_too_deeply_gets_400(bot: Bot) -> None:
    payload = ('{"events": ' + "[" * 200_000 + "]" * 200_000 + "}").encode()
    response = await bot.client.post(
        "/callback", data=payload, headers={"X-Line-Signature": hook.sign(payload, SECRET)}
    )
    assert response.status == 400


async def test_one_odd_event_does_not_sink_the_others(bot: Bot, caplog) -> None:  # noqa: ANN001
    uid = hook.user_id("someone")
    bot.line.add_profile(uid, "someone")
    odd = hook.text(uid, "秘密の言葉", bot.clock.now())
    odd["timestamp"] = "soon"
    await bot.post(odd, hook.follow(uid, bot.clock.now()), validate=False)
    assert says(bot.line.reply_texts()[-1], "follow.greeting")
    assert "秘密の言葉" not in caplog.text and uid not in caplog.text, "no words, no ids in logs"
