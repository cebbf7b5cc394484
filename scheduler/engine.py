"""The check-in engine: one APScheduler sweep over the database, which is the schedule."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from apscheduler.job import Job
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.clock import Clock
from scheduler import checkins, group_rounds
from scheduler.checkins import CheckinContext
from scheduler.delivery import OutboxDelivery
from scheduler.ladder import LadderTimings
from storage.database import Database
from storage.repositories import Repositories, unit_of_work

log = logging.getLogger("mimamori.engine")

SWEEP_JOB_ID = "mimamori-sweep"
BATCH = 1000
# Rounds given their message per transaction: many multicasts of 500 each.
MESSAGE_BATCH = 5_000
INBOX_KEEP = timedelta(days=7)


class CheckinEngine:
    def __init__(
        self,
        db: Database,
        delivery: OutboxDelivery,
        clock: Clock,
        context: CheckinContext,
        timings: LadderTimings,
        sweep_interval: timedelta,
        group_report_after: timedelta = timedelta(hours=23),
        group_retention: timedelta = timedelta(days=30),
    ) -> None:
        self._db = db
        self._delivery = delivery
        self._clock = clock
        self.context = context
        self.timings = timings
        self._sweep_interval = sweep_interval
        self.group_report_after = group_report_after
        self._group_retention = group_retention
        self._sweep_lock = asyncio.Lock()
        self._scheduler: AsyncIOScheduler | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def sweep(self) -> None:
        """Act on everything due now: open rounds, re-send, alert, then send the outbox."""
        async with self._sweep_lock:
            await self.plan_due()
            await self._delivery.deliver_due()
            await self._wake_for_next_due()

    async def plan_due(self) -> None:
        """Record what is due (rounds and their messages) without sending anything yet."""
        now = self._clock.now()
        ctx, timings = self.context, self.timings

        async def ladder_steps(repos: Repositories) -> int:
            resent = await checkins.resend_unanswered(repos, timings, now, BATCH)
            return max(resent, await checkins.alert_unanswered(repos, ctx, timings, now, BATCH))

        async def group_steps(repos: Repositories) -> int:
            posted = await group_rounds.open_due_group_rounds(repos, ctx, now, BATCH)
            reported = await group_rounds.report_due_group_rounds(
                repos, ctx, self.group_report_after, now, BATCH
            )
            return max(posted, reported)

        await self._in_batches(lambda repos: checkins.open_due_rounds(repos, ctx, now, BATCH))
        await self._in_batches(ladder_steps)
        for resend in (False, True):
            await self._in_batches(
                lambda repos, resend=resend: checkins.record_checkin_messages(
                    repos, ctx, now, resend, MESSAGE_BATCH
                ),
                MESSAGE_BATCH,
            )
        await self._in_batches(group_steps)
        async with unit_of_work(self._db) as repos:
            await repos.inbox.forget_processed_before(now - INBOX_KEEP)
            await repos.groups.purge_left_before(now - self._group_retention)

    async def _in_batches(
        self, step: Callable[[Repositories], Awaitable[int]], batch: int = BATCH
    ) -> None:
        """Run `step` in transactions of its own until it handles less than a full batch:
        a large wave never holds the database for long, and webhooks get their turn."""
        while True:
            async with unit_of_work(self._db) as repos:
                handled = await step(repos)
            if handled < batch:
                return

    async def deliver(self) -> None:
        await self._delivery.deliver_due()

    def request_delivery(self) -> None:
        """Send what a webhook handler just recorded, without waiting for the next sweep."""
        task = asyncio.get_running_loop().create_task(self.deliver())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def idle(self) -> None:
        """Wait for deliveries started by `request_delivery` (shutdown, tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def start(self) -> None:
        self._scheduler = AsyncIOScheduler(timezone=UTC)
        self._scheduler.add_job(
            self._scheduled_sweep,
            "interval",
            seconds=self._sweep_interval.total_seconds(),
            id=SWEEP_JOB_ID,
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
            next_run_time=datetime.now(UTC),  # catch up at once after a restart
        )
        self._scheduler.start()

    async def stop(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        # Let a sweep in flight finish its transactions and sends rather than cut it off.
        async with self._sweep_lock:
            pass
        await self.idle()

    @property
    def sweep_job(self) -> Job | None:
        return self._scheduler.get_job(SWEEP_JOB_ID) if self._scheduler else None

    async def _scheduled_sweep(self) -> None:
        try:
            await self.sweep()
        except Exception:
            log.exception("sweep failed; the next one retries from the database")

    async def next_due(self) -> datetime | None:
        async with unit_of_work(self._db) as repos:
            sent, resent = await repos.rounds.earliest_started()
            posted = await repos.groups.earliest_posted()
            candidates = [
                await repos.members.earliest_due(),
                await repos.groups.earliest_due(),
                await repos.outbox.earliest_pending(),
                sent + self.timings.resend_after if sent else None,
                resent + self.timings.alert_after if resent else None,
                posted + self.group_report_after if posted else None,
            ]
        found = [moment for moment in candidates if moment is not None]
        return min(found) if found else None

    async def _wake_for_next_due(self) -> None:
        """Move the sweep earlier when something falls due before its next interval run."""
        if self._scheduler is None:
            return
        due = await self.next_due()
        job = self.sweep_job
        if due is None or job is None or job.next_run_time is None:
            return
        wait = max(due - self._clock.now(), timedelta(0))
        wake_at = datetime.now(UTC) + wait
        if wake_at < job.next_run_time:
            self._scheduler.modify_job(SWEEP_JOB_ID, next_run_time=wake_at)
