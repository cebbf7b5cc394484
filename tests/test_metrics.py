"""GET /metrics after a ladder: what happened, as Prometheus reads it, for the operator only."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from ipaddress import ip_network

from prometheus_client.parser import text_string_to_metric_families

from tests import line_webhook as hook
from tests.conftest import Bot
from tests.drivers import (
    MINUTE,
    ok_data,
    passing_fault,
    passing_fault_ends,
    run_to,
    tokyo,
    watched_resident,
)


async def scrape(bot: Bot, **headers: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await bot.client.get("/metrics", headers=headers)
    assert response.status == 200 and response.content_type == "text/plain"
    samples = {}
    for family in text_string_to_metric_families(await response.text()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


async def test_metrics_after_a_ladder(bot: Bot) -> None:
    await watched_resident(bot, "resident", ["daughter"])
    await run_to(bot, tokyo(11, 24, 9))
    await run_to(bot, tokyo(11, 25, 9))
    await run_to(bot, tokyo(11, 25, 12))
    bot.clock.advance(30 * MINUTE)

    seen = await scrape(bot)
    assert seen[("mimamori_open_alerts", ())] == 1
    assert seen[("mimamori_oldest_open_alert_seconds", ())] == 30 * 60
    assert seen[("mimamori_checkin_rounds", (("state", "alerted"),))] == 1
    for step, count in (("opened", 1), ("resent", 1), ("alerted", 1), ("answered", 0)):
        assert seen[("mimamori_checkin_round_steps", (("step", step),))] == count, step
    assert seen[("mimamori_outbox_pending", ())] == 0
    assert seen[("mimamori_outbox_oldest_pending_seconds", ())] == 0
    sent = ("mimamori_line_messages_total", (("answer", "delivered"), ("purpose", "checkin")))
    assert seen[sent] == 1
    assert (
        seen[("mimamori_line_messages_total", (("answer", "delivered"), ("purpose", "alert")))]
        == 1
    )
    assert seen[("mimamori_quota_used_month", ())] >= 3, "check-in, re-send, alert"
    follows = ("mimamori_webhook_events_total", (("outcome", "handled"), ("type", "follow")))
    assert seen[follows] == 2
    assert seen[("mimamori_sweep_seconds_count", ())] >= 3
    assert seen[("mimamori_webhook_batch_seconds_count", ())] >= 1


async def test_metrics_show_a_stuck_outbox(bot: Bot) -> None:
    await watched_resident(bot, "resident", ["daughter"])
    # LINE is down: the outbox grows and its oldest row ages.
    for path in ("/v2/bot/message/push", "/v2/bot/message/multicast"):
        bot.line.fail_next(path, 500, times=20)
    await run_to(bot, tokyo(11, 24, 9))
    bot.clock.advance(timedelta(minutes=10))
    seen = await scrape(bot)
    assert seen[("mimamori_outbox_pending", ())] >= 1
    assert seen[("mimamori_outbox_oldest_pending_seconds", ())] >= 600
    retry = ("mimamori_line_messages_total", (("answer", "retry"), ("purpose", "checkin")))
    assert seen[retry] >= 1


async def test_metrics_are_not_public(start_bot: Callable[..., Awaitable[Bot]]) -> None:
    bot = await start_bot(metrics_networks=(ip_network("10.0.0.0/8"),))
    assert (await bot.client.get("/metrics")).status == 403, "loopback is not in the list"

    bot = await start_bot(metrics_token="scrape-secret")
    # Through a reverse proxy on the same machine the request comes from loopback too.
    behind_proxy = {"X-Forwarded-For": "203.0.113.9"}
    assert (await bot.client.get("/metrics", headers=behind_proxy)).status == 403
    wrong = {**behind_proxy, "Authorization": "Bearer guess"}
    assert (await bot.client.get("/metrics", headers=wrong)).status == 403
    right = {**behind_proxy, "Authorization": "Bearer scrape-secret"}
    assert await scrape(bot, **right)


async def test_metrics_show_events_waiting_to_be_handled(bot: Bot) -> None:
    """A passing fault keeps one OK from being handled: it shows as waiting, and ageing, until
    the fault passes."""
    resident, _ = await watched_resident(bot, "resident", ["daughter"])
    await run_to(bot, tokyo(11, 24, 9))
    waiting = ("mimamori_webhook_events_waiting", ())
    oldest = ("mimamori_webhook_events_oldest_waiting_seconds", ())
    seen = await scrape(bot)
    assert (seen[waiting], seen[oldest]) == (0, 0), "the follows were handled"

    tap = hook.postback(resident, ok_data(bot, resident), bot.clock.now())
    newcomer = hook.follow(hook.user_id("newcomer"), bot.clock.now())
    async with bot.repos() as repos:
        for statement in passing_fault(repos.conn.dialect, tap["webhookEventId"]):
            await repos.conn.execute(statement)
    await bot.post(tap, newcomer)
    bot.clock.advance(timedelta(minutes=10))
    seen = await scrape(bot)
    assert (seen[waiting], seen[oldest]) == (1, 600), "the OK waits; the follow was handled"

    await passing_fault_ends(bot)
    seen = await scrape(bot)
    assert (seen[waiting], seen[oldest]) == (0, 0)


async def test_metrics_count_replies_by_lines_answer(bot: Bot) -> None:

    resident, _ = await watched_resident(bot, "resident", ["daughter"])
    await run_to(bot, tokyo(11, 24, 9))
    before = await scrape(bot)
    bot.line.fail_next("/v2/bot/message/reply", 429, body={"message": "Too many requests"})
    await bot.tap(resident, ok_data(bot, resident))
    seen = await scrape(bot)

    def tries(answer: str) -> float:
        key = ("mimamori_line_replies_total", (("answer", answer),))
        return seen.get(key, 0) - before.get(key, 0)

    assert (tries("rate_limited"), tries("delivered")) == (1, 1), "refused once, then taken"
