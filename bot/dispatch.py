"""From stored webhook events to handlers and replies: the drain, in batches, each event once.

The webhook lands events before it answers LINE. Here they are drained in batches: LINE is
asked what the batch needs (profiles, names), then the batch is applied in one transaction
(`bot.batch`), and its replies go out after it commits (`bot.replies`) while the next batch is
handled; the events leave the arrivals. A crash before the commit leaves the whole batch to be
handled again, nothing of it applied; after the commit, taking them again finds them taken, so
nothing is handled twice, and the replies kept with them are sent by whoever comes next.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from datetime import datetime

from aiohttp import web

from bot.batch import BatchApplier, parse
from bot.forwarding import Forwarder
from bot.lookups import Lookups
from bot.replies import TOKEN_LIFE, Reply, ReplySender
from bot.router import Router
from care import set_aside
from care.services import Services
from storage.webhook_events import Arrival

log = logging.getLogger("mimamori.dispatch")

# Events in one transaction: a burst of taps costs one commit per hundred. While webhook
# requests wait to store their events, batches are smaller, so that their replies leave sooner;
# LINE's answers (2 s at most) are not held up meanwhile, since a batch gives the loop back
# between two events (bot/batch.py). Fifty rather than a dozen: each batch has its own BEGIN,
# COMMIT and reads of its people, a sixth of an event's CPU at a dozen (bench/taps.py).
BATCH = 100
BATCH_GIVING_WAY = 50
# An event that fails outside its handlers (the database, say) is kept and tried again; after
# this many failures in a row it is set aside, logged, so that it cannot block the others.
ATTEMPTS = 3
RETRY_AFTER_SECONDS = 5.0
# Handled events leave the arrivals together, this many at most, or when nothing waits.
FORGOTTEN_TOGETHER = 500


class EventDispatcher:
    def __init__(
        self, services: Services, router: Router, forwarder: Forwarder | None = None
    ) -> None:
        self._services = services
        self._batch = BatchApplier(services, router)
        self._forwarder = forwarder  # the city's system, on a shared account (in front)
        self._replies = ReplySender(services)
        self._wanted = False
        self._task: asyncio.Task[None] | None = None
        self._failures: dict[str, int] = {}  # events that failed outside their handlers
        # Handled (their transaction committed), still to leave the arrivals.
        self._handled: list[str] = []
        # Events the webhook handed over as it stored them, and whether to read the store
        # instead (at start-up, after a failure, after each sweep, and always on PostgreSQL).
        self._landed: deque[Arrival] = deque()
        self._from_store = True
        self._retry: asyncio.TimerHandle | None = None  # a drain due after a failure
        # Whether the next drain looks for replies a stopped instance left unsent: at each
        # heartbeat (`after_beat`), not at every drain (that would cost every webhook a query).
        self._orphans_due = False
        # Events put back from the console (those set aside) wait in the store.
        services.events.listen(self.submit)

    def after_beat(self) -> None:
        """The heartbeat's call: another instance may have died with replies unsent (its
        claims lapse within a lease); the drain looks, and handles what waits meanwhile."""
        if not self._services.db.single_instance:
            self._orphans_due = True
        self.submit()

    def submit(self, landed: list[Arrival] | None = None) -> None:
        """Handle what is stored and not yet handled, in the background: the webhook answers
        at once. Submissions while a drain runs are served by that drain, not a task each.

        `landed`: events the webhook has just stored. Where they land apart (SQLite, one
        process) they are handled as handed over, without reading them back; otherwise the
        drain reads, or on PostgreSQL claims, what waits in the store."""
        if landed and self._services.db.arrivals_apart:
            self._landed.extend(landed)
        else:
            self._from_store = True
        self._wanted = True
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._drain())

    async def idle(self) -> None:
        """Wait until every stored event is handled and replied to, and what is for the city's
        system is forwarded or waits for its next try (shutdown, tests)."""
        while (self._task is not None and not self._task.done()) or self._replies.busy:
            if self._task is not None and not self._task.done():
                await self._task
            await self._replies.idle()
            if self._forwarder is not None:
                await self._forwarder.idle()
        try:
            await self._clear_replies()
        except Exception:
            log.exception("sent replies not cleared; cleared with the next batch")

    async def stop(self) -> None:
        """Shutdown: finish what is under way; a retry still pending is left to the next
        start, which reads what waits in the store."""
        if self._retry is not None:
            self._retry.cancel()
            self._retry = None
        await self.idle()

    async def backlog(self) -> tuple[int, datetime | None]:
        """(events stored and not yet handled, when the oldest of them came), for /metrics."""
        async with self._services.arrivals() as arrivals:
            return await arrivals.backlog(list(self._handled))

    async def replay_unprocessed(self) -> None:
        """Events received but not handled before the process stopped are handled now, and
        replies it kept but had not sent go out while their tokens may be good."""
        if self._services.db.single_instance:
            # Alone on the database: what it had claimed before it stopped is its own again.
            async with self._services.claims() as work:
                await work.repos.outbox.release_claims()
                await work.repos.handled.release_claims()
                await work.repos.forwards.release_claims()
        self._orphans_due = True  # its own, from before it stopped, or another's
        if self._services.db.arrivals_apart:
            # Events an earlier version landed in webhook_events and did not handle.
            async with self._services.reading() as work:
                left = await work.repos.handled.unhandled()
            if left:
                log.info("%d events landed by an earlier version moved to the arrivals", len(left))
                async with self._services.arrivals() as arrivals:
                    await arrivals.carry(left)
        self.submit()

    async def _drain(self) -> None:
        while self._wanted:
            self._wanted = False
            if self._orphans_due:
                self._orphans_due = False
                try:
                    await self._orphaned_replies()
                except Exception:
                    log.exception("replies left by another instance not read; read next beat")
            while True:
                size = BATCH_GIVING_WAY if self._services.db.contended() else BATCH
                try:
                    stored = await self._next_batch(size)
                except Exception:
                    # The arrivals cannot be read or cleared for now (a disk fault): what
                    # waits stays stored, and is read from there when it passes.
                    log.exception("the waiting events cannot be read; tried again soon")
                    self._try_again_later()
                    return
                if not stored:
                    try:
                        await self._clear_replies()
                    except Exception:
                        log.exception("sent replies not cleared; cleared with the next batch")
                    break
                if not await self._handle_batch(stored):
                    self._try_again_later()
                    return

    def _try_again_later(self) -> None:
        """Drain again after a pause, from the store: one retry pending at a time, however
        many webhooks met the fault meanwhile."""
        self._from_store = True
        if self._retry is None:
            self._retry = asyncio.get_running_loop().call_later(
                RETRY_AFTER_SECONDS, self._retry_now
            )

    @property
    def retry_pending(self) -> bool:
        """A passing fault left events stored for a drain a little later."""
        return self._retry is not None

    def _retry_now(self) -> None:
        self._retry = None
        self.submit()

    async def _next_batch(self, size: int) -> list[Arrival]:
        """Up to `size` events to handle next: those handed over, or what waits in the store.
        The ones handled so far leave the arrivals on the way."""
        if not self._from_store:
            batch = [self._landed.popleft() for _ in range(min(size, len(self._landed)))]
            if not batch or len(self._handled) >= FORGOTTEN_TOGETHER:
                async with self._services.arrivals() as arrivals:
                    await arrivals.forget(self._handled)
                self._handled = []
            return batch
        # What was handed over is in the store too (it landed before it was handed over).
        self._landed.clear()
        async with self._services.arrivals() as arrivals:
            if self._handled:
                await arrivals.forget(self._handled)
            stored = await arrivals.waiting(
                size,
                self._services.instance,
                self._services.settings.claim_lease,
                self._services.clock.now(),
            )
        self._handled = []
        if not stored:
            self._from_store = not self._services.db.arrivals_apart
        return stored

    async def _handle_batch(self, stored: list[Arrival]) -> bool:
        """-> False when an event could not be handled for now: it stays stored, the others
        go on, and the drain stops and tries again a little later (a passing fault must lose
        nothing)."""
        try:
            await self.handle_events(stored)
            return True
        except Exception:
            # The batch's transaction failed as a whole (not a handler: those have their own
            # savepoints). Handle its events one by one, so one cannot hold up the others.
            log.exception("a batch of %d events failed; handling them one by one", len(stored))
        kept = False
        for arrival in stored:
            event_id = arrival.event_id
            try:
                await self.handle_events([arrival])
                self._failures.pop(event_id, None)
            except Exception as error:
                failures = self._failures[event_id] = self._failures.get(event_id, 0) + 1
                if failures < ATTEMPTS:
                    log.exception(
                        "event %s failed (%d); kept, tried again soon", event_id, failures
                    )
                    kept = True
                    continue
                log.exception("event %s failed %d times; it is set aside", event_id, failures)
                try:
                    await self._set_aside(arrival, error)
                    self._handled.append(event_id)
                except Exception:
                    log.exception("event %s cannot even be set aside; kept", event_id)
                    kept = True
                    continue
                self._failures.pop(event_id, None)
        return not kept

    async def _set_aside(self, arrival: Arrival, error: Exception) -> None:
        """Taken, so that it holds up no other event, and kept with why: a person's tap or
        words that the console lists, counts and puts back (care/set_aside.py)."""
        failure = set_aside.failure_of(error, arrival.payload)
        async with self._services.repositories() as repos:
            await repos.handled.set_aside(arrival, self._services.clock.now(), failure)
        kind = set_aside.kind_of(arrival.payload)
        self._services.metrics.events.labels(kind, "set_aside").inc()

    async def handle_events(self, stored: list[Arrival]) -> None:
        """Handle landed events in one transaction (`bot.batch`), then send their replies."""
        with self._services.metrics.handling.time():
            parsed = [(arrival, parse(arrival.event_id, arrival.payload)) for arrival in stored]
            lookups = Lookups(self._services)
            await lookups.prefetch([event for _, event in parsed if event is not None])
            sent = self._replies.done()
            handled = await self._batch.apply(parsed, lookups, sent)
            self._replies.cleared(sent)
            self._handled += [arrival.event_id for arrival in stored]
        if self._batch.forwarded and self._forwarder is not None:
            self._batch.forwarded = False
            self._forwarder.wake()
        counted = self._services.metrics.events
        unreadable = sum(1 for _, event in parsed if event is None)
        if unreadable:
            counted.labels("unknown", "unreadable").inc(unreadable)
        for one in handled:
            counted.labels(str(getattr(one.ctx.event, "type", "unknown")), one.ctx.outcome).inc()
        self._replies.send([reply for one in handled if (reply := one.reply())])

    async def _clear_replies(self) -> None:
        """Replies LINE has leave the store: with the next batch, or here when none comes."""
        sent = self._replies.done()
        if sent:
            async with self._services.unit_of_work(brief=True) as work:
                await work.repos.handled.replies_sent(sent)
            self._replies.cleared(sent)

    async def _orphaned_replies(self) -> None:
        """Replies kept with handled events and never cleared: their instance died (or this
        one, before it restarted) between the commit and LINE. Sent now, while the token may
        be good; older ones are let go."""
        now = self._services.clock.now()
        async with self._services.claims() as work:
            left = await work.repos.handled.orphaned_replies(
                self._services.instance, self._services.settings.claim_lease, now, now - TOKEN_LIFE
            )
        replies = [r for row in left if (r := Reply.orphan(*row)) is not None]
        if left:
            log.info("%d replies left unsent by a stopped instance: sent now", len(replies))
            readable = {reply.event_id for reply in replies}
            # One that cannot be read is let go; the others are cleared once sent.
            self._replies.settled([row[0] for row in left if row[0] not in readable])
            self._replies.send(replies)


DISPATCHER = web.AppKey("dispatcher", EventDispatcher)
