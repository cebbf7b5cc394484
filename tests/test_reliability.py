"""Nothing lost, nothing doubled: restarts, downtime, LINE failures, the 07:00 wave."""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from bot.batch import BatchApplier, parse
from bot.features import build_router
from bot.lookups import Lookups
from care.rounds import checkins
from care.rounds.schedule import Schedule, first_due
from care.services import Services
from ground.telling import Telling
from storage.arrivals import arrivals_path
from storage.database import POSTGRESQL, to_db
from storage.models import Role
from storage.repositories import Repositories, unit_of_work
from storage.webhook_events import Arrival
from tests import line_webhook as hook
from tests.conftest import Bot
from tests.drivers import (
    ALERT,
    CHECKIN,
    RESEND,
    checkins_to,
    disk_fault,
    ok_data,
    passing_fault,
    passing_fault_ends,
    run_to,
    tokyo,
    watched_resident,
)
from tests.wording import EN, JA, says, when

PUSH = "/v2/bot/message/push"
MULTICAST = "/v2/bot/message/multicast"


def accepted_per_key(bot: Bot) -> Counter[str]:
    return Counter(c.retry_key for c in bot.line.pushes + bot.line.multicasts)


async def test_restart_mid_ladder_continues(start_bot: Callable[..., Awaitable[Bot]]) -> None:
    bot = await start_bot()
    resident, (manager,) = await watched_resident(bot, "resident", ["son"])
    await run_to(bot, tokyo(11, 24, 9))

    bot = await start_bot()  # a new process on the same database file
    await run_to(bot, tokyo(11, 25, 9))
    bot = await start_bot()
    await run_to(bot, tokyo(11, 25, 12))
    sent = checkins_to(bot, resident)
    assert [s[:6] for s in sent] == [CHECKIN[:6], RESEND[:6]]
    assert [ALERT in t for t in bot.line.texts_to(manager)] == [True]

    bot = await start_bot()
    await bot.tap(resident, ok_data(bot, resident, 0))
    assert says(bot.line.texts_to(manager)[-1], "safe.body", name="resident")
    assert max(accepted_per_key(bot).values()) == 1


async def test_downtime_catches_up_once(start_bot: Callable[..., Awaitable[Bot]]) -> None:
    bot = await start_bot()
    resident, _ = await watched_resident(bot, "resident", ["son"])
    await run_to(bot, tokyo(11, 24, 9))
    await bot.tap(resident, ok_data(bot, resident))

    # Down from 11/24 evening until 11/27 10:00: three daily slots missed.
    bot.clock.set(tokyo(11, 27, 10))
    bot = await start_bot()
    await bot.sweep()
    assert len(checkins_to(bot, resident)) == 2, "one check-in, not one per missed day"
    await bot.tap(resident, ok_data(bot, resident))
    thanks = bot.line.reply_texts()[-1]
    assert says(thanks, "checkin.thanks", next=when(tokyo(11, 28, 9))), "the cadence holds"


async def test_crash_between_record_and_send_sends_once(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    bot = await start_bot()
    resident, _ = await watched_resident(bot, "resident", ["son"])
    bot.clock.set(tokyo(11, 24, 9))
    # Recorded by a process that dies before sending: its services have nobody to deliver.
    dying = Services.build(
        bot.settings,
        bot.services.db,
        bot.services.line,
        bot.clock,
        list(bot.services.channels.values()),
    )
    async with dying.unit_of_work() as work:
        await checkins.open_due_rounds(work, 1000)
    assert checkins_to(bot, resident) == []

    bot = await start_bot()
    await bot.sweep()
    await bot.sweep()
    assert len(checkins_to(bot, resident)) == 1


async def test_line_500_then_success_sends_each_message_once(bot: Bot) -> None:
    resident, (manager,) = await watched_resident(bot, "resident", ["son"])
    bot.line.clear()
    bot.line.fail_next(PUSH, 500, times=2)
    await run_to(bot, tokyo(11, 24, 9))
    assert checkins_to(bot, resident) == []
    attempts = [c for c in bot.line.calls if c.path == PUSH]
    assert [c.status for c in attempts] == [500]

    await bot.sweep()  # the back-off has not passed: nothing is sent again yet
    assert len([c for c in bot.line.calls if c.path == PUSH]) == 1
    await bot.advance(timedelta(seconds=5))
    await bot.advance(timedelta(seconds=10))
    attempts = [c for c in bot.line.calls if c.path == PUSH]
    assert [c.status for c in attempts] == [500, 500, 200]
    assert len({c.retry_key for c in attempts}) == 1, "every attempt carries the same key"
    assert len(checkins_to(bot, resident)) == 1


async def test_accepted_but_answer_lost_is_not_sent_twice(bot: Bot) -> None:
    resident, _ = await watched_resident(bot, "resident", ["son"])
    bot.line.clear()
    bot.line.fail_next(PUSH, 500, accept=True)  # LINE took it, the answer was an error
    await run_to(bot, tokyo(11, 24, 9))
    await bot.advance(timedelta(seconds=5))
    statuses = [c.status for c in bot.line.calls if c.path == PUSH]
    assert statuses == [500, 409]
    await bot.advance(timedelta(minutes=10))
    assert [c.status for c in bot.line.calls if c.path == PUSH] == [500, 409]
    # 409 counts as delivered: the ladder's clock started, the re-send comes 24 h later.
    await run_to(bot, tokyo(11, 25, 9, 1))
    assert len([c for c in bot.line.calls if c.path == PUSH and c.status == 200]) == 1


async def test_rate_limit_and_quota_back_off(bot: Bot) -> None:
    resident, _ = await watched_resident(bot, "resident", ["son"])
    bot.line.fail_next(PUSH, 429, body={"message": "Too many requests"})
    await run_to(bot, tokyo(11, 24, 9))
    await bot.advance(timedelta(seconds=1))
    assert checkins_to(bot, resident) == []
    await bot.advance(timedelta(seconds=2))
    assert len(checkins_to(bot, resident)) == 1

    await bot.tap(resident, ok_data(bot, resident))
    bot.line.fail_next(PUSH, 429, body={"message": "You have reached your monthly limit."})
    await run_to(bot, tokyo(11, 25, 9))
    await bot.advance(timedelta(minutes=59))
    assert len(checkins_to(bot, resident)) == 1, "the quota does not come back in minutes"
    await bot.advance(timedelta(minutes=2))
    assert len(checkins_to(bot, resident)) == 2, "kept, and sent once the quota allows"


async def test_redelivered_webhook_is_handled_once(bot: Bot) -> None:
    resident, _ = await watched_resident(bot, "resident", ["son"])
    await run_to(bot, tokyo(11, 24, 9))
    tap = hook.postback(resident, ok_data(bot, resident), bot.clock.now())
    await bot.post(tap)
    replies = len(bot.line.replies)
    await bot.post(hook.redelivered(tap))
    await bot.post(tap)
    assert len(bot.line.replies) == replies


REPLY = "/v2/bot/message/reply"


async def test_a_reply_refused_at_lines_limit_is_sent_again_once(bot: Bot) -> None:
    resident, _ = await watched_resident(bot, "resident", ["son"])
    await run_to(bot, tokyo(11, 24, 9))
    bot.line.fail_next(REPLY, 429, times=2, body={"message": "Too many requests"})
    await bot.tap(resident, ok_data(bot, resident))
    tries = [c for c in bot.line.calls if c.path == REPLY]
    assert [c.status for c in tries[-3:]] == [429, 429, 200]
    assert len({c.body["replyToken"] for c in tries[-3:]}) == 1
    assert says(bot.line.reply_texts()[-1], "checkin.thanks")


async def test_a_reply_taken_whose_answer_was_lost_is_not_shown_twice(bot: Bot) -> None:
    resident, _ = await watched_resident(bot, "resident", ["son"])
    await run_to(bot, tokyo(11, 24, 9))
    replies = len(bot.line.replies)
    bot.line.fail_next(REPLY, 500, accept=True)  # LINE showed it; its answer was an error
    await bot.tap(resident, ok_data(bot, resident))
    tries = [c for c in bot.line.calls if c.path == REPLY]
    # Tried again with the same token, which LINE refuses as used: nothing shown twice.
    assert [c.status for c in tries[-2:]] == [500, 400]
    assert len(bot.line.replies) == replies


async def test_a_reply_with_a_spent_token_is_not_tried_again(bot: Bot) -> None:
    resident, _ = await watched_resident(bot, "resident", ["son"])
    await run_to(bot, tokyo(11, 24, 9))
    bot.line.fail_next(REPLY, 400, body={"message": "Invalid reply token"})
    await bot.tap(resident, ok_data(bot, resident))
    tries = [c for c in bot.line.calls if c.path == REPLY]
    assert tries[-1].status == 400
    assert len([c for c in tries if c.body["replyToken"] == tries[-1].body["replyToken"]]) == 1


async def test_a_persons_answers_show_in_the_order_of_their_taps(bot: Bot) -> None:
    """Two taps in one batch: the first reply is retried, and the second waits for it."""
    resident, _ = await watched_resident(bot, "resident", ["son"])
    await run_to(bot, tokyo(11, 24, 9))
    before = len(bot.line.replies)
    bot.line.fail_next(REPLY, 500)
    now = bot.clock.now()
    await bot.post(
        hook.postback(resident, ok_data(bot, resident), now),
        hook.postback(resident, ok_data(bot, resident), now),
    )
    texts = [c.body["messages"][0]["text"] for c in bot.line.replies[before:]]
    assert len(texts) == 2
    assert says(texts[0], "checkin.thanks") and says(texts[1], "checkin.already")


async def test_the_seven_oclock_wave_goes_out_as_multicasts(bot: Bot) -> None:
    db = bot.services.db
    schedule = Schedule(1, 7)
    now = bot.clock.now()
    due = first_due(schedule, now, bot.settings.timezone)
    async with unit_of_work(db) as repos:
        for number in range(1203):
            language = "en" if number % 400 == 0 else "ja"
            member, _ = await repos.members.register(
                hook.user_id(f"wave-{number}"), f"resident {number}", language, now
            )
            await repos.members.set_schedule(member.id, 1, 7, due)
    await run_to(bot, due)
    sizes = sorted(len(c.body["to"]) for c in bot.line.multicasts)
    assert sizes == [4, 199, 500, 500]  # 1199 in Japanese by 500s, 4 in English together
    assert bot.line.pushes == []
    assert sum(sizes) == 1203

    # The OK button is the same for everyone; each tap resolves the tapper's own round.
    first, second = hook.user_id("wave-1"), hook.user_id("wave-2")
    await bot.tap(first, ok_data(bot, first))
    assert says(bot.line.reply_texts()[-1], "checkin.thanks")
    await bot.tap(first, ok_data(bot, second))
    assert says(bot.line.reply_texts()[-1], "checkin.already")
    await run_to(bot, due + timedelta(hours=24))
    resent = [
        c
        for c in bot.line.multicasts
        if any(
            title in str(c.body["messages"])
            for title in (JA.t("checkin.resend_title"), EN.t("checkin.resend_title"))
        )
    ]
    assert sum(len(c.body["to"]) for c in resent) == 1203 - 1
    assert first not in [uid for c in resent for uid in c.body["to"]]
    # The next day's check-in reaches only the one who answered: the others' rounds are open.
    sent = [c for c in bot.line.multicasts + bot.line.pushes if c not in resent]
    assert sorted(len(c.recipients) for c in sent) == [1, 4, 199, 500, 500]
    assert [c.recipients for c in sent if len(c.recipients) == 1] == [[first]]


async def test_a_refusal_in_a_batch_changes_nothing_of_its_own_and_spares_the_others(
    bot: Bot,
) -> None:
    """One webhook, three events, one transaction: the middle one is refused (a revoked code),
    the others' OKs stand."""
    first, _ = await watched_resident(bot, "first", ["son"])
    async with bot.repos() as repos:
        team = await repos.teams.create("another", 1, 9, bot.clock.now(), kept=True)
        revoked = await repos.teams.create_invite(
            team.id, Role.USER, "ABCD-EFGH-JKMN-PQRS", bot.clock.now()
        )
        await repos.teams.revoke_invites(team.id, None, bot.clock.now())
    second = await bot.follow("second")
    await bot.tap_action(second, "sched_set", i=1, h=9)
    await run_to(bot, tokyo(11, 24, 9))
    replies_before = len(bot.line.replies)
    now = bot.clock.now()
    events = [
        hook.postback(first, ok_data(bot, first), now),
        hook.postback(second, bot.codec.encode("join", c=revoked.code), now),
        hook.postback(second, ok_data(bot, second), now),
        hook.postback(first, ok_data(bot, first), now),  # twice in one batch: once counted
    ]
    await bot.post(*events)
    # Each event's reply by its token: replies leave together and may reach LINE in any order.
    replies = bot.line.replies[replies_before:]
    assert [len(c.body["messages"]) for c in replies] == [1] * len(events)
    answered = {c.body["replyToken"]: c.body["messages"][0]["text"] for c in replies}
    texts = [answered[event["replyToken"]] for event in events]
    assert says(texts[0], "checkin.thanks") and texts[1] == JA.t("invite.unknown")
    assert says(texts[2], "checkin.thanks") and says(texts[3], "checkin.already")
    async with bot.repos() as repos:
        states = [
            r.state.value for r in await repos.rounds._many("SELECT * FROM checkin_rounds", ())
        ]
        joiner = await repos.members.by_line_id(second)
        assert joiner is not None and await repos.teams.teams_of(joiner.id) == []
    assert states == ["answered", "answered"]


async def test_the_same_event_twice_in_one_body_is_handled_once(bot: Bot) -> None:
    resident, (son,) = await watched_resident(bot, "resident", ["son"])
    await run_to(bot, tokyo(11, 24, 9))
    tap = hook.postback(resident, ok_data(bot, resident), bot.clock.now())
    replies_before = len(bot.line.replies)
    await bot.post(tap, tap, validate=False)
    assert len(bot.line.replies) == replies_before + 1


async def test_an_event_that_fails_outside_its_handler_is_kept_and_tried_again(
    bot: Bot,
) -> None:

    resident, (son,) = await watched_resident(bot, "resident", ["son"])
    await run_to(bot, tokyo(11, 24, 9))
    tap = hook.postback(resident, ok_data(bot, resident), bot.clock.now())
    newcomer = hook.follow(hook.user_id("newcomer"), bot.clock.now())
    bot.line.add_profile(newcomer["source"]["userId"], "newcomer")
    # The database refuses to mark this one event handled (a passing fault, as a full disk).
    async with bot.repos() as repos:
        for statement in passing_fault(repos.conn.dialect, tap["webhookEventId"]):
            await repos.conn.execute(statement)
    await bot.post(tap, newcomer)
    async with bot.repos() as repos:
        handled = await handled_events(repos)
        open_round = await repos.rounds.open_round(1)
        registered = await repos.members.by_line_id(newcomer["source"]["userId"])
    assert tap["webhookEventId"] not in handled, "kept, not lost"
    assert newcomer["webhookEventId"] in handled
    assert open_round is not None, "nothing of it applied"
    assert registered is not None, "the other event of the batch went through"

    await passing_fault_ends(bot)
    async with bot.repos() as repos:
        assert tap["webhookEventId"] in await handled_events(repos)
        assert await repos.rounds.open_round(1) is None
    assert says(bot.line.reply_texts()[-1], "checkin.thanks")


async def test_while_the_waiting_events_cannot_be_read_they_wait_and_none_is_lost(
    bot: Bot,
) -> None:
    """A fault where events wait to be handled (the arrivals file on SQLite, the claim on
    PostgreSQL): LINE is still answered, the drain does not die, and when the fault passes
    every event is handled, once."""
    from bot.dispatch import DISPATCHER

    resident, (son,) = await watched_resident(bot, "resident", ["son"])
    await run_to(bot, tokyo(11, 24, 9))
    tap = hook.postback(resident, ok_data(bot, resident), bot.clock.now())
    newcomer = hook.follow(hook.user_id("newcomer"), bot.clock.now())
    bot.line.add_profile(newcomer["source"]["userId"], "newcomer")
    replies_before = len(bot.line.replies)
    async with bot.repos() as repos:
        dialect = repos.conn.dialect
        if dialect == POSTGRESQL:
            for statement in disk_fault(
                dialect, "waiting_fault", "BEFORE UPDATE OF claimed_by ON webhook_events"
            ):
                await repos.conn.execute(statement)
    if dialect != POSTGRESQL:
        # Handled events cannot leave the arrivals file, nor can what waits there be read
        # after: the drain has to go back to the file once the first clear-out fails.
        with sqlite3.connect(arrivals_path(bot.settings.database)) as arrivals:
            for statement in disk_fault(dialect, "waiting_fault", "BEFORE DELETE ON arrivals"):
                arrivals.execute(statement)

    first = await bot.post(tap)  # settles: the drain's failure does not escape
    second = await bot.post(newcomer)
    assert first.status == second.status == 200, "LINE is answered: the events are stored"
    async with bot.repos() as repos:
        assert newcomer["webhookEventId"] not in await handled_events(repos), "it waits"

    if dialect == POSTGRESQL:
        async with bot.repos() as repos:
            await repos.conn.execute("DROP TRIGGER waiting_fault ON webhook_events")
    else:
        with sqlite3.connect(arrivals_path(bot.settings.database)) as arrivals:
            arrivals.execute("DROP TRIGGER waiting_fault")
    bot.app[DISPATCHER].submit()  # the retry the dispatcher scheduled, brought forward
    await bot.settle()
    async with bot.repos() as repos:
        handled = await handled_events(repos)
        assert {tap["webhookEventId"], newcomer["webhookEventId"]} <= handled
        assert await repos.rounds.open_round(1) is None
        assert await repos.members.by_line_id(newcomer["source"]["userId"]) is not None
    assert len(bot.line.replies) == replies_before + 2, "each event answered once"
    thanked = [says(text, "checkin.thanks") for text in bot.line.reply_texts()]
    assert thanked.count(True) == 1
    if dialect != POSTGRESQL:
        with sqlite3.connect(arrivals_path(bot.settings.database)) as arrivals:
            assert arrivals.execute("SELECT count(*) FROM arrivals").fetchone() == (0,)


async def handled_events(repos: Repositories) -> set[str]:
    rows = await repos.conn.fetch_all(
        "SELECT event_id FROM webhook_events WHERE processed_at IS NOT NULL"
    )
    return {row[0] for row in rows}


async def test_a_claim_left_by_a_dead_instance_is_taken_over_and_sent_once(bot: Bot) -> None:
    """Another instance claimed a message, LINE accepted it, and that instance died before it
    could record so. The row waits out the claim (no instance sends it meanwhile), then this
    one sends it again with the same retry key: LINE drops the repeat (409), the row is sent."""
    resident, _ = await watched_resident(bot, "resident", ["son"])
    bot.line.clear()
    services = bot.services
    async with services.unit_of_work() as work:
        member = await work.repos.members.by_line_id(resident)
        assert member is not None
        await work.repos.outbox.add(
            kind="push",
            recipients=[resident],
            tellings=[Telling.sentence("ja", "x")],
            purpose="test",
            # Due a second from now: this instance's own delivery, rung as the unit of work
            # commits, must not take it before the dying instance does.
            now=work.now + timedelta(seconds=1),
        )
    lease = services.settings.claim_lease
    async with services.claims() as work:
        (row,) = await work.repos.outbox.claim_due(
            work.now + timedelta(seconds=1), 10, "a-dead-instance", lease
        )
    # The dead instance's send, accepted by LINE; its answer never recorded.
    sent = await services.line.push(
        row.recipients[0], [{"type": "text", "text": "x"}], row.retry_key
    )
    assert sent.outcome.value == "delivered"

    await bot.sweep()
    assert [c.status for c in bot.line.calls if c.path == PUSH] == [200], "still claimed"
    await bot.advance(lease + timedelta(seconds=1))
    assert [c.status for c in bot.line.calls if c.path == PUSH] == [200, 409]
    async with services.unit_of_work() as work:
        (state,) = await work.repos.conn.fetch_one(
            "SELECT state FROM outbox WHERE id = ?", (row.id,)
        )
    assert state == "sent"
    assert len(bot.line.pushes) == 1, "the person got it once"


async def _handled_by_a_process_that_dies(bot: Bot, event: dict[str, Any]) -> None:
    """The event landed, handled and committed, its reply kept; then the process died before
    LINE had the reply (its services have no reply sender running)."""
    dying = Services.build(
        bot.settings,
        bot.services.db,
        bot.services.line,
        bot.clock,
        list(bot.services.channels.values()),
    )
    arrival = Arrival(event["webhookEventId"], json.dumps(event), to_db(bot.clock.now()))
    lookups = Lookups(dying)
    applier = BatchApplier(dying, build_router())
    await applier.apply([(arrival, parse(arrival.event_id, arrival.payload))], lookups, [])


async def test_a_reply_committed_but_not_sent_goes_out_after_a_restart_once(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    bot = await start_bot()
    resident, (son,) = await watched_resident(bot, "resident", ["son"])
    await run_to(bot, tokyo(11, 24, 9))
    tap = hook.postback(resident, ok_data(bot, resident), bot.clock.now())
    await _handled_by_a_process_that_dies(bot, tap)
    assert tries_of(bot, tap["replyToken"]) == []

    bot = await start_bot()  # within the token's minute
    await bot.settle()
    (reply,) = [c for c in bot.line.replies if c.body["replyToken"] == tap["replyToken"]]
    assert says(reply.body["messages"][0]["text"], "checkin.thanks")
    bot = await start_bot()  # sent, cleared: not tried again
    await bot.settle()
    assert len(tries_of(bot, tap["replyToken"])) == 1
    async with bot.repos() as repos:
        rounds = await repos.rounds._many("SELECT * FROM checkin_rounds", ())
    assert [r.state.value for r in rounds] == ["answered"], "handled once, by the one that died"


async def test_a_kept_reply_whose_token_has_died_is_let_go(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    bot = await start_bot()
    resident, _ = await watched_resident(bot, "resident", ["son"])
    await run_to(bot, tokyo(11, 24, 9))
    tap = hook.postback(resident, ok_data(bot, resident), bot.clock.now())
    await _handled_by_a_process_that_dies(bot, tap)
    bot.clock.advance(timedelta(minutes=2))  # down longer than a reply token lives
    bot = await start_bot()
    await bot.settle()
    assert tries_of(bot, tap["replyToken"]) == []


def tries_of(bot: Bot, token: str) -> list[Any]:
    """Every reply LINE was asked to take with this token, taken or not."""
    return [c for c in bot.line.calls if c.path == REPLY and c.body["replyToken"] == token]
