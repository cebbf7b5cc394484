"""The check-in engine: one APScheduler sweep over the database, which is the schedule."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import NamedTuple, Protocol

from aiohttp import web
from apscheduler.job import Job
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from care.broadcasts import by_phone as rollcall_calls
from care.broadcasts import heat, rollcall
from care.desk import cases as desk
from care.desk import visits
from care.groups import rounds as group_rounds
from care.members import schedules
from care.privacy import retention
from care.rounds import alerts, checkins, devices, due, reassurance, taking
from care.rounds.ladder import WAITS
from care.services import Services, UnitOfWork
from scheduler import rich_menus
from scheduler.delivery import OutboxDelivery
from scheduler.heat import HeatPoller
from scheduler.quakes import QuakePoller
from scheduler.storms import StormPoller

log = logging.getLogger("mimamori.engine")

SWEEP_JOB_ID = "mimamori-sweep"
JMA_JOB_ID = "mimamori-jma"
STORM_JOB_ID = "mimamori-jma-warnings"
HEAT_JOB_ID = "mimamori-heat"
PURGE_JOB_ID = "mimamori-purge"
PURGE_CATCH_UP_ID = "mimamori-purge-catch-up"
BATCH = 1000
# Rounds given their message per transaction: many multicasts of 500 each.
MESSAGE_BATCH = 5_000
# Members whose check-in opens (and is recorded) per transaction at the 07:00 wave.
WAVE_BATCH = 5_000
HANDLED_KEPT = timedelta(days=7)


class Poller(Protocol):
    """A feed's poller (the earthquakes', the warnings', the heat alerts'): reads what is
    new, and never raises into the scheduler."""

    async def poll_safely(self) -> None: ...


class FeedJob(NamedTuple):
    poller: Poller
    job_id: str
    interval: timedelta
    at_once: bool  # read at start, not only after the first interval


async def _wave(work: UnitOfWork) -> int:
    # Each batch's check-ins are recorded with its rounds: the first multicasts leave
    # while the rest of the wave is still being planned.
    return await checkins.open_due_rounds(work, WAVE_BATCH)


async def _ladder_steps(work: UnitOfWork) -> int:
    """Each rung of the ladder past the first message, and what follows an alert."""
    # An alert day's heat check at the city's hour first: a regular round it names climbs
    # with the heat day's waits from this very step of the ladder.
    asked = await heat.open_heat_checks(work, BATCH)
    resent = await checkins.resend_unanswered(work, BATCH)
    # The heat rounds just asked again get the heat check's words, before the regular
    # re-sends are written (engine.plan_due) in the usual words.
    resent = max(resent, await heat.ask_again(work, BATCH))
    alerted = await checkins.alert_unanswered(work, BATCH)
    realerted = await alerts.tell_next_turn(work, BATCH)
    realerted = max(realerted, await alerts.realert_untaken(work, BATCH))
    realerted = max(realerted, await desk.escalate_to_the_desk(work, BATCH))
    realerted = max(realerted, await taking.ask_takers(work, BATCH))
    realerted = max(realerted, await taking.untake_silent(work, BATCH))
    realerted = max(realerted, await alerts.remind_open(work, BATCH))
    realerted = max(realerted, await rollcall.resend_to_the_silent(work, BATCH))
    realerted = max(realerted, await rollcall_calls.call_again(work, BATCH))
    noted = await reassurance.send_daily_notes(work, BATCH)
    reminded = await schedules.remind_open_pauses(work, BATCH)
    # A case closed by the person's OK or a manager: the partners asked hear it too.
    called_off = await visits.call_off_after_closing(work, BATCH)
    return max(asked, resent, alerted, realerted, noted, reminded, called_off)


async def _group_steps(work: UnitOfWork) -> int:
    posted = await group_rounds.open_due_group_rounds(work, BATCH)
    return max(posted, await group_rounds.report_due_group_rounds(work, BATCH))


class CheckinEngine:
    """The scheduler surface: it reads what is due and asks the service layer to act on it."""

    def __init__(
        self,
        services: Services,
        delivery: OutboxDelivery,
        quakes: QuakePoller | None = None,
        storms: StormPoller | None = None,
        heat_feeds: HeatPoller | None = None,
    ) -> None:
        self._services = services
        self._delivery = delivery
        self._quakes = quakes
        self._storms = storms
        self._heat = heat_feeds
        self._sweep_lock = asyncio.Lock()
        self._scheduler: AsyncIOScheduler | None = None
        self._delivery_task: asyncio.Task[None] | None = None
        self._delivery_wanted = False
        self._after_sweep: list[Callable[[], None]] = []
        # Whatever a unit of work writes to the outbox leaves as soon as it has committed.
        services.deliveries.listen(self.request_delivery)
        services.sweeps.listen(self.sweep_now)

    @property
    def quakes(self) -> QuakePoller | None:
        """The JMA feed's poller, when the city's areas are configured."""
        return self._quakes

    @property
    def storms(self) -> StormPoller | None:
        """The JMA warnings' poller, when the city's municipality codes are configured."""
        return self._storms

    def after_sweep(self, callback: Callable[[], None]) -> None:
        """Called after every sweep (the dispatcher looks for stored events left by an
        instance that died)."""
        self._after_sweep.append(callback)

    async def sweep(self) -> None:
        """Act on everything due now: open rounds, re-send, alert, then send the outbox.

        With several instances on one database, one of them plans (the one holding the
        planner's lock; another takes over at its next sweep if that one dies) and every one
        of them sends what the outbox holds, each row claimed by one."""
        async with self._sweep_lock:
            leading = await self._services.db.lead()
            with self._services.metrics.sweep.time():
                if leading:
                    await self.plan_due()
                await self._delivery.deliver_due()
            if leading:
                await self._link_rich_menus()
            for callback in self._after_sweep:
                callback()
            await self._wake_for_next_due()

    async def _link_rich_menus(self) -> None:
        # After the ladder's work, and never in its way: a failure waits for the next sweep.
        try:
            await rich_menus.link_due(self._services)
        except Exception:
            log.exception("linking rich menus failed; the next sweep tries again")

    async def plan_due(self) -> None:
        """Record what is due (rounds and their messages); the outbox sends it."""
        await self._in_batches(_wave, WAVE_BATCH)
        await self._in_batches(_ladder_steps)
        # Re-sends; and check-ins of rounds an earlier version opened without theirs.
        for resend in (False, True):
            record = functools.partial(
                checkins.record_checkin_messages, resend=resend, limit=MESSAGE_BATCH
            )
            await self._in_batches(record, MESSAGE_BATCH)
        await self._in_batches(_group_steps)
        # A device that answers her check-ins and went quiet: she and her managers hear it.
        await self._in_batches(functools.partial(devices.tell_quiet, limit=BATCH))
        retention = self._services.settings.group_retention
        async with self._services.unit_of_work() as work:
            await work.repos.handled.forget_processed_before(work.now - HANDLED_KEPT)
            await work.repos.forwards.forget_sent(work.now - HANDLED_KEPT)
            await work.repos.groups.purge_left_before(work.now - retention)

    async def _in_batches(
        self, step: Callable[[UnitOfWork], Awaitable[int]], batch: int = BATCH
    ) -> None:
        """Run `step` in transactions of its own until it handles less than a full batch:
        a large wave never holds the database for long, and webhooks get their turn."""
        while True:
            async with self._services.unit_of_work() as work:
                handled = await step(work)
            if handled < batch:
                return

    async def deliver(self) -> None:
        await self._delivery.deliver_due()

    def request_delivery(self) -> None:
        """Send what was just recorded, without waiting for the next sweep. Requests that
        come while a delivery runs are served by one more pass, not by a task each."""
        self._delivery_wanted = True
        if self._delivery_task is None or self._delivery_task.done():
            self._delivery_task = asyncio.get_running_loop().create_task(self._deliver_wanted())

    async def _deliver_wanted(self) -> None:
        while self._delivery_wanted:
            self._delivery_wanted = False
            try:
                await self._delivery.deliver_due()
            except Exception:
                log.exception("delivery failed; the next sweep retries from the database")

    async def idle(self) -> None:
        """Wait for deliveries started by `request_delivery` (shutdown, tests)."""
        while self._delivery_task is not None and not self._delivery_task.done():
            await self._delivery_task

    def feed_jobs(self) -> list[FeedJob]:
        """The feeds this deployment polls, each a job of its own. The Ministry's heat files
        are read at start (a restart on an alert day's morning does not wait its interval);
        the JMA feeds at their first interval."""
        settings = self._services.settings
        feeds = [
            (self._quakes, JMA_JOB_ID, settings.jma_interval, False),
            (self._storms, STORM_JOB_ID, settings.jma_interval, False),
            (self._heat, HEAT_JOB_ID, settings.heat_interval, True),
        ]
        return [FeedJob(p, job, every, now) for p, job, every, now in feeds if p is not None]

    def start(self) -> None:
        self._scheduler = AsyncIOScheduler(timezone=UTC)
        self._scheduler.add_job(
            self._scheduled_sweep,
            "interval",
            seconds=self._services.settings.sweep_interval.total_seconds(),
            id=SWEEP_JOB_ID,
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
            next_run_time=datetime.now(UTC),  # catch up at once after a restart
        )
        for feed in self.feed_jobs():
            # Without next_run_time the trigger sets the first run (None would pause the job).
            first = {"next_run_time": datetime.now(UTC)} if feed.at_once else {}
            self._scheduler.add_job(
                feed.poller.poll_safely,
                "interval",
                seconds=feed.interval.total_seconds(),
                id=feed.job_id,
                replace_existing=True,
                coalesce=True,
                max_instances=1,
                misfire_grace_time=None,
                **first,
            )
        # The daily purge, at night in the deployment's time zone; and once at start-up when
        # none finished in the last day (the server was down that night, or stopped mid-purge:
        # every batch committed stays done, the rest is what is left).
        self._scheduler.add_job(
            self._scheduled_purge,
            CronTrigger(hour=self._services.settings.purge_hour, timezone=self._services.timezone),
            id=PURGE_JOB_ID,
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
        )
        self._scheduler.add_job(
            self._scheduled_purge,
            kwargs={"only_if_due": True},
            id=PURGE_CATCH_UP_ID,
            replace_existing=True,
            next_run_time=datetime.now(UTC) + timedelta(minutes=1),
        )
        self._scheduler.start()

    async def purge(self) -> dict[str, int] | None:
        """Delete what is past its retention (care/privacy/retention.py), on the planning instance
        only. -> rows per kind, None when another instance plans."""
        if not await self._services.db.lead():
            return None
        return await retention.purge(self._services)

    async def _scheduled_purge(self, only_if_due: bool = False) -> None:
        try:
            if only_if_due and not await retention.due(self._services):
                return
            await self.purge()
        except Exception:
            log.exception("the purge failed; tomorrow's (or a restart's) goes on from there")

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

    @property
    def purge_job(self) -> Job | None:
        return self._scheduler.get_job(PURGE_JOB_ID) if self._scheduler else None

    async def _scheduled_sweep(self) -> None:
        try:
            await self.sweep()
        except Exception:
            log.exception("sweep failed; the next one retries from the database")

    async def next_due(self) -> datetime | None:
        """The earliest moment something falls due: a check-in or group post, an escalation
        of the protocol (asked of its rule), or an outbox row to retry."""
        timings = self._services.timings
        async with self._services.reading() as work:
            repos = work.repos
            notes = await repos.members.daily_note_count()
            tz = self._services.timezone
            candidates = [
                reassurance.next_note_at(work.now, tz) if notes else None,
                await repos.members.earliest_due(),
                await repos.members.earliest_pause_reminder(),
                await repos.rollcalls.earliest_due(),
                await repos.groups.earliest_due(),
                await repos.outbox.earliest_pending(),
                await heat.next_check_at(work),
            ]
            for step in timings.steps:
                wait = WAITS[step]
                if wait.table == "checkin_rounds":
                    # Each round by its own waits (a heat day's are shorter).
                    candidates.append(await due.next_due_at(work, step))
                    continue
                since = await repos.groups.earliest_waiting(wait.state, wait.since)
                candidates.append(timings.due_at(step, since) if since else None)
        found = [moment for moment in candidates if moment is not None]
        return min(found) if found else None

    def sweep_now(self) -> None:
        """Something fell due at once (a call that settled nothing): the scheduler's next sweep
        comes now rather than at its interval (without a scheduler, the caller sweeps)."""
        if self._scheduler is not None and self.sweep_job is not None:
            self._scheduler.modify_job(SWEEP_JOB_ID, next_run_time=datetime.now(UTC))

    async def _wake_for_next_due(self) -> None:
        """Move the sweep earlier when something falls due before its next interval run."""
        if self._scheduler is None:
            return
        due = await self.next_due()
        job = self.sweep_job
        if due is None or job is None or job.next_run_time is None:
            return
        wait = max(due - self._services.clock.now(), timedelta(0))
        wake_at = datetime.now(UTC) + wait
        if wake_at < job.next_run_time:
            self._scheduler.modify_job(SWEEP_JOB_ID, next_run_time=wake_at)


ENGINE = web.AppKey("engine", CheckinEngine)
