"""From stored webhook events to handlers and replies: in batches, each event exactly once.

The webhook lands events before it answers LINE. Here they are drained in batches: LINE is
asked what the batch needs (profiles, names), then one transaction takes the events (records
them handled), runs every event's handlers, each in a savepoint of its own, and commits; the
replies go out after it commits, and the events leave the arrivals. A crash before the commit
leaves the whole batch to be handled again, nothing of it applied; after the commit, taking
them again finds them taken, so nothing is handled twice.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from collections.abc import Callable
from datetime import datetime
from typing import Any

from aiohttp import web
from linebot.v3.webhooks import Event, PostbackEvent

from bot.context import REPLY_LIMIT, EventContext, GroupContext, PersonContext
from bot.lookups import Lookups
from bot.refusals import refusal_message
from bot.router import Router
from care import people
from care.errors import Refused
from care.services import Services, UnitOfWork
from ground import messages
from ground.line_api import Outcome
from storage.inbox import Arrival
from storage.models import Member

log = logging.getLogger("mimamori.dispatch")

# Events in one transaction: a burst of taps costs one commit per hundred. While webhook
# requests wait to store their events, batches are small, so that LINE's answers (2 s at most)
# are not held up behind a long one; the replies follow a moment later.
BATCH = 100
BATCH_GIVING_WAY = 12
# An event that fails outside its handlers (the database, say) is kept and tried again; after
# this many failures in a row it is set aside, logged, so that it cannot block the others.
ATTEMPTS = 3
RETRY_AFTER_SECONDS = 5.0
# Handled events leave the arrivals together, this many at most, or when nothing waits.
FORGOTTEN_TOGETHER = 500
# A reply LINE did not take (429 at its 2,000-a-second limit, 5xx, no answer) is tried again
# while its token may still be good (about a minute): first after a quarter second, then
# twice as long each time. The token makes this safe: LINE accepts it once, and refuses a
# second use ("Invalid reply token") should an unanswered try have got through after all.
REPLY_FIRST_RETRY_SECONDS = 0.25
REPLY_PATIENCE_SECONDS = 30.0
_REPLY_RETRIED = (Outcome.RETRY, Outcome.RATE_LIMITED)


class EventDispatcher:
    def __init__(self, services: Services, router: Router) -> None:
        self._services = services
        self._router = router
        self._wanted = False
        self._task: asyncio.Task[None] | None = None
        self._replies: set[asyncio.Task[None]] = set()
        # Each chat's last reply under way: the next one to that chat waits for it, so that a
        # person's answers show in the order of their taps (one retried is not overtaken).
        self._last_reply: dict[str, asyncio.Task[None]] = {}
        self._members: dict[str, Member] = {}  # the batch's senders, read once
        self._failures: dict[str, int] = {}  # events that failed outside their handlers
        # Handled (their transaction committed), still to leave the arrivals.
        self._handled: list[str] = []
        # Events the webhook handed over as it stored them, and whether to read the store
        # instead (at start-up, after a failure, after each sweep, and always on PostgreSQL).
        self._landed: deque[Arrival] = deque()
        self._from_store = True
        self._retry: asyncio.TimerHandle | None = None  # a drain due after a failure

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
        """Wait until every stored event is handled and replied to (shutdown, tests)."""
        while (self._task is not None and not self._task.done()) or self._replies:
            if self._task is not None and not self._task.done():
                await self._task
            if self._replies:
                await asyncio.gather(*list(self._replies), return_exceptions=True)

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
        """Events received but not handled before the process stopped are handled now."""
        if self._services.db.single_instance:
            # Alone on the database: what it had claimed before it stopped is its own again.
            async with self._services.claims() as work:
                await work.repos.outbox.release_claims()
        if self._services.db.arrivals_apart:
            # Events an earlier version landed in webhook_events and did not handle.
            async with self._services.unit_of_work() as work:
                left = await work.repos.inbox.unhandled()
            if left:
                log.info("%d events landed by an earlier version moved to the arrivals", len(left))
                async with self._services.arrivals() as arrivals:
                    await arrivals.carry(left)
        self.submit()

    async def _drain(self) -> None:
        while self._wanted:
            self._wanted = False
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
            except Exception:
                failures = self._failures[event_id] = self._failures.get(event_id, 0) + 1
                if failures < ATTEMPTS:
                    log.exception(
                        "event %s failed (%d); kept, tried again soon", event_id, failures
                    )
                    kept = True
                    continue
                log.exception("event %s failed %d times; it is set aside", event_id, failures)
                try:
                    async with self._services.repositories() as repos:
                        await repos.inbox.take([arrival], self._services.clock.now())
                    self._handled.append(event_id)
                except Exception:
                    log.exception("event %s cannot even be set aside; kept", event_id)
                    kept = True
                    continue
                self._failures.pop(event_id, None)
        return not kept

    async def handle_events(self, stored: list[Arrival]) -> None:
        """Handle landed events in one transaction, then send their replies.

        Each event's changes are first applied as they come; should any handler refuse or
        fail, that transaction is undone and the batch is applied again with a savepoint per
        event, so the others' changes stand and the failed one's do not."""
        with self._services.metrics.handling.time():
            parsed = [(arrival, _parse(arrival.event_id, arrival.payload)) for arrival in stored]
            lookups = Lookups(self._services)
            await lookups.prefetch([event for _, event in parsed if event is not None])
            try:
                handled = await self._apply(parsed, lookups, careful=False)
            except _Redo:
                handled = await self._apply(parsed, lookups, careful=True)
            self._handled += [arrival.event_id for arrival in stored]
        counted = self._services.metrics.events
        unreadable = sum(1 for _, event in parsed if event is None)
        if unreadable:
            counted.labels("unknown", "unreadable").inc(unreadable)
        for ctx in handled:
            counted.labels(str(getattr(ctx.event, "type", "unknown")), ctx.outcome).inc()
        # The replies go while the next batch is handled: a batch does not wait for LINE.
        loop = asyncio.get_running_loop()
        for ctx in handled:
            if ctx.replies:
                chat = _chat_of(ctx.event)
                task = loop.create_task(self._send_reply(ctx, self._last_reply.get(chat)))
                self._last_reply[chat] = task
                self._replies.add(task)
                task.add_done_callback(self._reply_done(chat))

    def _reply_done(self, chat: str) -> Callable[[asyncio.Task[None]], None]:
        def done(task: asyncio.Task[None]) -> None:
            self._replies.discard(task)
            if self._last_reply.get(chat) is task:
                del self._last_reply[chat]

        return done

    async def _apply(
        self, landed: list[tuple[Arrival, Event | None]], lookups: Lookups, careful: bool
    ) -> list[EventContext]:
        handled: list[EventContext] = []
        async with self._services.unit_of_work() as work:
            # Only the events nobody has taken: not one handled before a crash, nor one LINE
            # sent again, nor one another instance got to while its claim ran out.
            taken = await work.repos.inbox.take([arrival for arrival, _ in landed], work.now)
            for arrival, _ in landed:
                if arrival.event_id not in taken:
                    log.info("event %s was handled before; ignored", arrival.event_id)
            parsed = [(a.event_id, event) for a, event in landed if a.event_id in taken]
            # The people of the batch in one read; a person's second event in the same batch
            # reads them again (the first may have changed them).
            senders = [
                e.source.user_id
                for _, e in parsed
                if e is not None and from_source_user(e) and e.source.user_id
            ]
            self._members = await work.repos.members.by_line_ids(senders) if senders else {}
            for event_id, event in parsed:
                if event is None:
                    continue
                if careful:
                    handled.append(await self._handle(work, event, lookups, event_id))
                    continue
                try:
                    ctx = await self._context(work, event, lookups)
                    await self._route(ctx, event_id)
                except Exception as error:
                    raise _Redo from error
                handled.append(ctx)
        return handled

    async def _handle(
        self, work: UnitOfWork, event: Event, lookups: Lookups, event_id: str
    ) -> EventContext:
        ctx = EventContext(services=self._services, event=event, lookups=lookups, work=work)
        try:
            async with work.repos.savepoint():
                ctx = await self._context(work, event, lookups)
                await self._route(ctx, event_id)
        except Refused as refused:
            # The rules said no, and the event's savepoint undid whatever it had begun.
            ctx.replies = [refusal_message(ctx.locale, refused)]
            ctx.outcome = "refused"
        except Exception:
            ctx.outcome = "failed"
            # The one error hook: log with context and apologise rather than stay silent.
            log.exception(
                "handler failed for event %s (%s from %s)",
                event_id,
                event.type,
                getattr(event.source, "type", "?"),
            )
            ctx.replies = [messages.text(ctx.t("error.apology"))]
        return ctx

    async def _context(self, work: UnitOfWork, event: Event, lookups: Lookups) -> EventContext:
        """The handlers' context: a person's (registered on first contact), a group's, or,
        for an event from neither (an unknown person's unfollow), a bare one."""
        postback = (
            self._services.postbacks.decode(event.postback.data)
            if isinstance(event, PostbackEvent)
            else None
        )
        common: dict[str, Any] = {
            "services": self._services,
            "event": event,
            "lookups": lookups,
            "work": work,
            "postback": postback,
        }
        source = event.source
        if from_source_user(event):
            member = await self._person(work, event, lookups)
            if member is not None:
                return PersonContext(member=member, **common)
        elif source is not None and source.type in ("group", "room"):
            chat_type = source.type
            chat_id = source.room_id if chat_type == "room" else source.group_id
            sender = getattr(source, "user_id", None)
            return GroupContext(chat_type=chat_type, chat_id=chat_id, sender=sender, **common)
        return EventContext(**common)

    async def _route(self, ctx: EventContext, event_id: str) -> None:
        if not await self._router.dispatch(ctx):
            ctx.outcome = "unhandled"
            log.info("event %s (%s) not handled", event_id, ctx.event.type)

    async def _person(self, work: UnitOfWork, event: Event, lookups: Lookups) -> Member | None:
        """The member behind a 1:1 event, registered on first contact (a follow, or a message
        from someone who followed before the bot kept records)."""
        user_id = event.source.user_id
        member = self._members.pop(user_id, None) or await work.repos.members.by_line_id(user_id)
        if event.type == "unfollow" or (member is not None and event.type != "follow"):
            return member
        profile = await lookups.profile(user_id)
        language = self._services.locale(profile.language if profile else None).language
        name = profile.display_name if profile else ""
        return await people.register(work, user_id, name, language)

    async def _send_reply(self, ctx: EventContext, after: asyncio.Task[None] | None) -> None:
        token = getattr(ctx.event, "reply_token", None)
        if not ctx.replies or not token:
            return
        if after is not None:
            await asyncio.wait([after])  # however it ended: this one goes next
        if len(ctx.replies) > REPLY_LIMIT:
            log.warning("reply cut from %d to %d messages", len(ctx.replies), REPLY_LIMIT)
        loop = asyncio.get_running_loop()
        give_up = loop.time() + REPLY_PATIENCE_SECONDS
        pause = REPLY_FIRST_RETRY_SECONDS
        tried = 0
        while True:
            result = await self._services.line.reply(token, ctx.replies[:REPLY_LIMIT])
            tried += 1
            self._services.metrics.replies.labels(result.outcome.value).inc()
            if result.outcome not in _REPLY_RETRIED or loop.time() + pause > give_up:
                break
            log.info("reply not taken (%s), tried again in %.2f s", result.outcome, pause)
            await asyncio.sleep(pause)
            pause *= 2
        if result.outcome is Outcome.DELIVERED:
            return
        if tried > 1 and result.outcome is Outcome.REJECTED:
            # An earlier try may have reached LINE although its answer did not reach us.
            log.warning("reply refused after %d tries (sent or expired): %s", tried, result.detail)
            return
        log.warning("reply not delivered (%s): %s", result.outcome, result.detail)


class _Redo(Exception):
    """A handler refused or failed in a batch applied without savepoints: undo, do again."""


def _chat_of(event: Event) -> str:
    """The chat a reply shows in: the group, the room, or the person's own chat."""
    source = getattr(event, "source", None)
    for chat in ("group_id", "room_id", "user_id"):
        if found := getattr(source, chat, None):
            return str(found)
    return ""


def from_source_user(event: Event) -> bool:
    return getattr(getattr(event, "source", None), "type", None) == "user"


def _parse(event_id: str, payload: str) -> Event | None:
    """The SDK's event, or None for an event of a type it does not know (LINE adds types)
    or one that does not match LINE's schema: such events are logged and skipped."""
    raw: Any = None
    try:
        raw = json.loads(payload)
        return Event.from_dict(raw)
    except Exception as error:
        # The event id and type only: its text holds user ids and what people wrote.
        kind = raw.get("type") if isinstance(raw, dict) else None
        log.warning("event %s (type %r) skipped: %s", event_id, kind, type(error).__name__)
        return None


DISPATCHER = web.AppKey("dispatcher", EventDispatcher)
