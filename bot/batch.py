"""Applying a batch of stored webhook events: one transaction takes them (records them handled),
hands itself to each event's handlers with the event's context, keeps each event's reply, and
commits.

Each event's changes are first applied as they come; should any handler refuse or fail, that
transaction is undone and the batch is applied again with a savepoint per event, so the others'
changes stand and the failed one's do not (which is why a handler must do nothing a redo would
repeat: `bot.context`).
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Any

from linebot.v3.webhooks import Event, PostbackEvent

from bot.context import EventContext, GroupContext, PersonContext
from bot.features.follow import first_steps
from bot.hot_events import read_hot
from bot.lookups import Lookups
from bot.refusals import refusal_message
from bot.replies import Reply
from bot.router import Router
from bot.shared_account import Known, Owner, chat_of, opens_our_tab, our_words, owner
from care.errors import Refused
from care.members import people
from care.services import Services, UnitOfWork
from ground import invite_codes, json_codec, link_codes, messages
from ground.rich_menu import TAB_BACK
from storage.models import Member
from storage.webhook_events import Arrival

log = logging.getLogger("mimamori.dispatch")
REPLY_LIMIT = 5  # messages in one LINE reply


@dataclass(frozen=True)
class Handled:
    event_id: str
    ctx: EventContext

    def reply(self) -> Reply | None:
        token = getattr(self.ctx.event, "reply_token", None)
        if not self.ctx.replies or not token:
            return None
        source = self.ctx.event.source
        # The chat it shows in: the group, the room, or the person's own chat.
        chat = (
            getattr(source, "group_id", None)
            or getattr(source, "room_id", None)
            or getattr(source, "user_id", None)
            or ""
        )
        return Reply(self.event_id, chat, token, self.ctx.replies)


class BatchApplier:
    def __init__(self, services: Services, router: Router) -> None:
        self._services = services
        self._router = router
        self._members: dict[str, Member] = {}  # the batch's senders, read once
        self.forwarded = False  # a batch stored events for the city's system
        self.newcomers: set[str] = set()  # registered by this batch (not by a follow)

    async def apply(
        self,
        landed: list[tuple[Arrival, Event | None]],
        lookups: Lookups,
        replies_sent: list[str],
    ) -> list[Handled]:
        """Apply the events in one transaction; `replies_sent`: events whose reply LINE has,
        cleared from the store in the same transaction. -> the events handled."""
        try:
            return await self._apply(landed, lookups, replies_sent, careful=False)
        except _Redo:
            return await self._apply(landed, lookups, replies_sent, careful=True)

    async def _apply(
        self,
        landed: list[tuple[Arrival, Event | None]],
        lookups: Lookups,
        replies_sent: list[str],
        careful: bool,
    ) -> list[Handled]:
        handled: list[Handled] = []
        # Brief: each event reads and writes its person's rows by key.
        async with self._services.unit_of_work(brief=True) as work:
            if replies_sent:
                await work.repos.handled.replies_sent(replies_sent)
            # Only the events nobody has taken: not one handled before a crash, nor one LINE
            # sent again, nor one another instance got to while its claim ran out.
            taken = await work.repos.handled.take([arrival for arrival, _ in landed], work.now)
            for arrival, _ in landed:
                if arrival.event_id not in taken:
                    log.info("event %s was handled before; ignored", arrival.event_id)
            parsed = [(a, event) for a, event in landed if a.event_id in taken]
            # The people of the batch in one read; a person's second event in the same batch
            # reads them again (the first may have changed them).
            senders = [
                e.source.user_id
                for _, e in parsed
                if e is not None and from_source_user(e) and e.source.user_id
            ]
            self._members = await work.repos.members.by_line_ids(senders) if senders else {}
            for number, (arrival, event) in enumerate(parsed):
                if number:
                    # A brief transaction's statements do not leave the loop's thread: between
                    # two events, LINE's webhook requests waiting on the loop are answered.
                    await asyncio.sleep(0)
                done = await self._one(work, arrival, event, lookups, careful)
                if done is not None:
                    handled.append(done)
            _greet_no_one_joining(handled)
            kept = [(reply.event_id, reply.kept()) for h in handled if (reply := h.reply())]
            if kept:
                await work.repos.handled.keep_replies(kept)
        return handled

    async def _one(
        self,
        work: UnitOfWork,
        arrival: Arrival,
        event: Event | None,
        lookups: Lookups,
        careful: bool,
    ) -> Handled | None:
        """One event of the batch, inside its unit of work: forwarded where the city's system
        shares the account, then handled (None: nothing the SDK could read)."""
        event_id = arrival.event_id
        whose = await self._owner(work, event)
        if whose is not Owner.OURS and self._services.settings.forward_url:
            await work.repos.forwards.add(
                event_id, chat_of(json.loads(arrival.payload)), arrival.payload, work.now
            )
            self.forwarded = True
        if event is None:
            return None
        if whose is Owner.THEIRS:
            # The city's system's: mimamori neither acts on it nor answers it.
            ctx = EventContext(services=self._services, event=event, lookups=lookups, work=work)
            ctx.outcome = "forwarded" if self._services.settings.forward_url else "theirs"
            return Handled(event_id, ctx)
        if careful:
            ctx = await self._handle(work, event, lookups, event_id)
        else:
            try:
                ctx = await self._context(work, event, lookups)
                await self._route(ctx, event_id)
            except Exception as error:
                raise _Redo from error
        if whose is Owner.BOTH:
            ctx.replies = []  # the city's system answers it: a reply token is good once
        return Handled(event_id, ctx)

    async def _owner(self, work: UnitOfWork, event: Event | None) -> Owner:
        """Whose the event is: always mimamori's on its own account; on a shared one, as
        `bot.shared_account` says (an event the SDK cannot read is the city's system's)."""
        services = self._services
        if not services.settings.shared_account:
            return Owner.OURS
        if event is None:
            return Owner.THEIRS
        source = event.source
        source_type = getattr(source, "type", "") or ""
        if source_type in ("group", "room"):
            chat_id = getattr(source, "group_id", None) or getattr(source, "room_id", None)
            group = await work.repos.groups.by_chat_id(chat_id) if chat_id else None
            known = Known(our_group=group is not None and group.left_at is None)
            return owner(event.type, source_type, known)
        user_id = getattr(source, "user_id", None)
        member = self._members.get(user_id) if user_id else None
        if member is None and user_id:
            member = await work.repos.members.by_line_id(user_id)
        postback = (
            services.postbacks.decode(event.postback.data)
            if isinstance(event, PostbackEvent)
            else None
        )
        text = text_in(event)
        busy = member is not None and (
            member.dialog is not None or await work.repos.rounds.open_round(member.id) is not None
        )
        known = Known(
            # The tab's way back to the city's menu is the city's to see, and enrols nobody.
            our_postback=postback is not None and postback.action != TAB_BACK,
            our_tab=isinstance(event, PostbackEvent) and opens_our_tab(event.postback.params),
            member=member is not None,
            blocked=member is not None and member.status == "blocked",
            busy=busy,
            our_words=our_words(text, services.i18n, member.language if member else None),
        )
        return owner(event.type, source_type, known)

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
        self._greet_newcomer(ctx)

    def _greet_newcomer(self, ctx: EventContext) -> None:
        """On a shared account a person may first reach mimamori through its menu tab or an
        invite rather than 「見守り」: whatever they did, they hear what mimamori is and their
        会員ID first (on its own account the follow greeted them)."""
        if not (self._services.settings.shared_account and isinstance(ctx, PersonContext)):
            return
        user_id = ctx.member.line_user_id
        if user_id not in self.newcomers or ctx.event.type == "follow":
            return
        self.newcomers.discard(user_id)
        if joins_by_code(text_in(ctx.event)):
            # A relative (or a 民生委員, a partner) who came by an invite link, a QR code or the
            # desk's code: the join comes first, never the resident's start.
            return
        greeting = ctx.t("shared.greeting", member_id=ctx.member.id)
        said = any(greeting in (r.get("text") or r.get("altText") or "") for r in ctx.replies)
        if not said and len(ctx.replies) < REPLY_LIMIT:
            ctx.replies.insert(0, first_steps(ctx, ctx.member, "shared.greeting"))

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
        if self._services.settings.shared_account:
            self.newcomers.add(user_id)
        return await people.register(work, user_id, name, language)


class _Redo(Exception):
    """A handler refused or failed in a batch applied without savepoints: undo, do again."""


def _greet_no_one_joining(handled: list[Handled]) -> None:
    """A follow and an invite code in one batch (the invite link adds the account, then sends
    the code it fills in): the greeting, the resident's start, is not for someone joining a
    team; the join card answers them."""
    joining = {
        h.ctx.member.id
        for h in handled
        if isinstance(h.ctx, PersonContext) and joins_by_code(text_in(h.ctx.event))
    }
    for h in handled:
        if (
            h.ctx.event.type == "follow"
            and isinstance(h.ctx, PersonContext)
            and h.ctx.member.id in joining
            and h.ctx.member.interval_days is None
        ):
            h.ctx.replies = []


def joins_by_code(text: str | None) -> bool:
    """The text is an invite code (typed, or filled in by an invite link) or a partner's code:
    whoever sent it is joining someone, not starting to be watched."""
    if text is None:
        return False
    return invite_codes.find_code(text) is not None or link_codes.find_code(text) is not None


def text_in(event: Event) -> str | None:
    message = getattr(event, "message", None)
    return getattr(message, "text", None) if getattr(message, "type", None) == "text" else None


def from_source_user(event: Event) -> bool:
    return getattr(getattr(event, "source", None), "type", None) == "user"


def parse(event_id: str, payload: str) -> Event | None:
    """The SDK's event, or None for an event of a type it does not know (LINE adds types)
    or one that does not match LINE's schema: such events are logged and skipped. The rush's
    two kinds are read without the SDK's validation where their shape allows (`hot_events`)."""
    raw: Any = None
    try:
        raw = json_codec.read(payload)
        return read_hot(raw) or Event.from_dict(raw)
    except Exception as error:
        # The event id and type only: its text holds user ids and what people wrote.
        kind = raw.get("type") if isinstance(raw, dict) else None
        log.warning("event %s (type %r) skipped: %s", event_id, kind, type(error).__name__)
        return None
