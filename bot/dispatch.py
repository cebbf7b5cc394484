"""From a stored webhook event to handlers and one reply, with one error hook."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from aiohttp import web
from linebot.v3.webhooks import Event, PostbackEvent

from bot.context import REPLY_LIMIT, EventContext
from bot.refusals import refusal_message
from bot.router import Router, from_person
from care import people
from care.errors import Refused
from care.services import Services
from ground import messages
from ground.line_api import Outcome
from storage.models import Member

log = logging.getLogger("mimamori.dispatch")


class EventDispatcher:
    def __init__(self, services: Services, router: Router) -> None:
        self._services = services
        self._router = router
        self._tasks: set[asyncio.Task[None]] = set()

    def submit(self, events: list[tuple[str, dict[str, Any]]]) -> None:
        """Handle events in the background, in order, so the webhook answers at once."""
        task = asyncio.get_running_loop().create_task(self._handle_all(events))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def idle(self) -> None:
        """Wait until every submitted event is handled (shutdown, tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def replay_unprocessed(self) -> int:
        """Events received but not handled before the process stopped are handled now."""
        async with self._services.unit_of_work() as work:
            pending = await work.repos.inbox.unprocessed()
        if pending:
            log.info("replaying %d webhook events left from before the restart", len(pending))
            self.submit([(event_id, json.loads(payload)) for event_id, payload in pending])
        return len(pending)

    async def _handle_all(self, events: list[tuple[str, dict[str, Any]]]) -> None:
        for event_id, raw in sorted(events, key=lambda item: item[1].get("timestamp", 0)):
            try:
                await self.handle(event_id, raw)
            except Exception:
                log.exception("event %s could not be handled", event_id)

    async def handle(self, event_id: str, raw: dict[str, Any]) -> None:
        event = _parse(event_id, raw)
        ctx = EventContext(services=self._services, event=event) if event is not None else None
        if ctx is not None:
            await self._route(ctx, event_id)
            await self._send_reply(ctx)
        async with self._services.unit_of_work() as work:
            await work.repos.inbox.mark_processed(event_id, work.now)

    async def _route(self, ctx: EventContext, event_id: str) -> None:
        try:
            if from_person(ctx):
                ctx.member = await self._person(ctx)
            if isinstance(ctx.event, PostbackEvent):
                ctx.postback = self._services.postbacks.decode(ctx.event.postback.data)
            if not await self._router.dispatch(ctx):
                log.info("event %s (%s) not handled", event_id, ctx.event.type)
        except Refused as refused:
            # The rules said no (and the unit of work changed nothing): say why.
            ctx.replies = [refusal_message(ctx.locale, refused)]
        except Exception:
            # The one error hook: log with context and apologise rather than stay silent.
            log.exception(
                "handler failed for event %s (%s from %s)",
                event_id,
                ctx.event.type,
                getattr(ctx.event.source, "type", "?"),
            )
            ctx.replies = [messages.text(ctx.t("error.apology"))]

    async def _person(self, ctx: EventContext) -> Member | None:
        """The member behind a 1:1 event, registered on first contact (a follow, or a message
        from someone who followed before the bot kept records)."""
        user_id = ctx.event.source.user_id
        async with self._services.unit_of_work() as work:
            member = await work.repos.members.by_line_id(user_id)
        if ctx.event.type == "unfollow" or (member is not None and ctx.event.type != "follow"):
            return member
        profile = await self._services.line.profile(user_id)
        language = self._services.locale(profile.language if profile else None).language
        name = profile.display_name if profile else ""
        async with self._services.unit_of_work() as work:
            return await people.register(work, user_id, name, language)

    async def _send_reply(self, ctx: EventContext) -> None:
        token = getattr(ctx.event, "reply_token", None)
        if not ctx.replies or not token:
            return
        if len(ctx.replies) > REPLY_LIMIT:
            log.warning("reply cut from %d to %d messages", len(ctx.replies), REPLY_LIMIT)
        result = await self._services.line.reply(token, ctx.replies[:REPLY_LIMIT])
        if result.outcome is not Outcome.DELIVERED:
            # A reply token lives about a minute and cannot be retried: log and move on.
            log.warning("reply not delivered (%s): %s", result.outcome, result.detail)


def _parse(event_id: str, raw: dict[str, Any]) -> Event | None:
    """The SDK's event, or None for an event of a type it does not know (LINE adds types)
    or one that does not match LINE's schema: such events are logged and skipped."""
    try:
        return Event.from_dict(raw)
    except Exception as error:
        log.warning("event %s (type %r) skipped: %s", event_id, raw.get("type"), str(error)[:300])
        return None


DISPATCHER = web.AppKey("dispatcher", EventDispatcher)
