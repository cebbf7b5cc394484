"""Sends what the outbox holds: each row once, with its own retry key, however often tried,
through the channel the row names (ground.channels)."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from care import health
from care.rounds import calls
from care.rounds.checkins import message_accepted
from care.services import Services
from ground.channels import VOICE, Outcome, Parcel, SendResult
from storage.calls import OWN_CHANNEL_PURPOSES
from storage.models import OutboxMessage

log = logging.getLogger("mimamori.delivery")

BATCH = 200


def backoff(outcome: Outcome, attempts: int) -> timedelta:
    """How long to wait before the next attempt of a row that has failed `attempts` times."""
    if outcome is Outcome.QUOTA:
        # The monthly quota will not come back in seconds; keep the row, try hourly.
        return timedelta(hours=1)
    if outcome is Outcome.UNAUTHORIZED:
        # The token comes back when the operator puts a good one in: soon after, not hourly.
        return timedelta(minutes=5)
    base = 2 if outcome is Outcome.RATE_LIMITED else 5
    return timedelta(seconds=min(base * 2 ** min(attempts, 10), 600))


class OutboxDelivery:
    def __init__(self, services: Services, concurrency: int = 16) -> None:
        self._services = services
        self._slots = asyncio.Semaphore(concurrency)
        self._lock = asyncio.Lock()

    async def deliver_due(self) -> int:
        """Send every row due now; returns how many rows were attempted."""
        attempted = 0
        async with self._lock:
            while True:
                async with self._services.claims() as work:
                    rows = await work.repos.outbox.claim_due(
                        work.now,
                        BATCH,
                        self._services.instance,
                        self._services.settings.claim_lease,
                    )
                if not rows:
                    return attempted
                await asyncio.gather(*(self._deliver(row) for row in rows))
                attempted += len(rows)

    async def _deliver(self, row: OutboxMessage) -> None:
        async with self._slots:
            result = await self._send(row)
        await self._record(row, result)

    async def _send(self, row: OutboxMessage) -> SendResult:
        channel = self._services.channels.get(row.channel)
        if channel is None:
            # Written by an instance that has the channel (or before it was taken away): kept,
            # and tried again, never dropped.
            return SendResult(Outcome.RETRY, f"no channel {row.channel!r} in this instance")
        if row.channel == VOICE:
            # Asked again as it is dialled: the countries allowed may have changed since the
            # call was recorded, and the number's calls of the day may be spent. Her own
            # check-in, re-send and roll-call calls (watched by phone alone) are not held by
            # that cap.
            own = row.purpose in OWN_CHANNEL_PURPOSES
            async with self._services.reading_repositories() as repos:
                refused = await calls.dial_refusal(
                    repos,
                    self._services,
                    row.recipients[0],
                    self._services.clock.now(),
                    row.id,
                    capped=not own,
                )
            if refused is not None:
                return SendResult(Outcome.REJECTED, f"{calls.NOT_PLACED}: {refused}")
        parcel = Parcel(row.kind, row.recipients, row.tellings, row.retry_key, row.messages)
        return await channel.send(parcel)

    async def _record(self, row: OutboxMessage, result: SendResult) -> None:
        self._services.metrics.sent.labels(row.purpose, result.outcome.value).inc()
        call_ended = False
        async with self._services.unit_of_work() as work:
            repos, now = work.repos, work.now
            await health.note_send(work, row.channel, result)
            if result.outcome is Outcome.DELIVERED:
                await repos.outbox.mark_sent(row.id, now)
            elif result.outcome is Outcome.REJECTED:
                log.error(
                    "LINE refused outbox %s (%s to %d): %s",
                    row.id,
                    row.purpose,
                    len(row.recipients),
                    result.detail,
                )
                await repos.outbox.mark_failed(row.id, now, result.detail)
                if result.detail.startswith(calls.NOT_PLACED) and row.round_id is not None:
                    # A call before the alert that was never placed holds the alert no longer.
                    call_ended = await calls.ended(work, row.round_id)
            else:
                delay = backoff(result.outcome, row.attempts)
                level = logging.ERROR if health.cause_of(result.outcome) else logging.WARNING
                log.log(
                    level,
                    "outbox %s (%s) not sent, retrying in %s: %s",
                    row.id,
                    row.purpose,
                    delay,
                    result.detail,
                )
                await repos.outbox.mark_retry(row.id, now + delay, result.detail)
                return
            await message_accepted(work, row.id)
        if call_ended:
            self._services.sweeps.ring()
