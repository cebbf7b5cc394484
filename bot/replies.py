"""The answers to handled events, sent as LINE's free replies once their batch has committed.

A reply is kept with its event (webhook_events.reply) in the transaction that handles it, and
cleared in a later transaction once LINE has it. So an instance that dies between the commit
and LINE leaves its replies to another (or to itself, restarted), which sends them while the
reply token is still good. LINE takes a token once: a reply sent twice this way (the first try
got through, its clearing did not) is refused the second time, never shown twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from care.services import Services
from ground import json_codec
from ground.channels import Outcome
from ground.messages import Message

log = logging.getLogger("mimamori.replies")

REPLY_LIMIT = 5  # messages in one reply
# LINE's reply token is good for about a minute from the webhook: a kept reply older than this
# is not tried (LINE would refuse it) and leaves the store.
TOKEN_LIFE = timedelta(seconds=60)
# A reply LINE did not take (429 at its 2,000-a-second limit, 5xx, no answer) is tried again
# while its token may still be good: first after a quarter second, then twice as long each
# time. The token makes this safe: LINE accepts it once, and refuses a second use ("Invalid
# reply token") should an unanswered try have got through after all.
FIRST_RETRY_SECONDS = 0.25
PATIENCE_SECONDS = 30.0
_RETRIED = (Outcome.RETRY, Outcome.RATE_LIMITED)


@dataclass(frozen=True)
class Reply:
    event_id: str
    chat: str  # the group, the room or the person's own chat it shows in
    token: str
    messages: list[Message]
    orphaned: bool = False  # left by an instance that stopped: it may have been sent

    def kept(self) -> str:
        """As kept with the event until sent."""
        return json_codec.written(self.messages)

    @classmethod
    def orphan(cls, event_id: str, payload: str, kept: str) -> Reply | None:
        """A kept reply another instance (or this one, before a restart) left unsent."""
        try:
            event: Any = json_codec.read(payload)
            token = event["replyToken"]
            chat = _chat_of(event.get("source") or {})
            return cls(event_id, chat, token, json_codec.read(kept), orphaned=True)
        except (ValueError, KeyError, TypeError, AttributeError):
            return None


def _chat_of(source: dict[str, Any]) -> str:
    """The chat a reply shows in, from an event's source: the group, the room, the person."""
    for chat in ("groupId", "roomId", "userId"):
        if found := source.get(chat):
            return str(found)
    return ""


class ReplySender:
    def __init__(self, services: Services) -> None:
        self._services = services
        self._tasks: set[asyncio.Task[None]] = set()
        # Each chat's last reply under way: the next one to that chat waits for it, so that a
        # person's answers show in the order of their taps (one retried is not overtaken).
        self._last: dict[str, asyncio.Task[None]] = {}
        self._done: list[str] = []  # events whose reply LINE has (or refused): to clear

    def send(self, replies: list[Reply]) -> None:
        """Send in the background, in order within each chat: a batch does not wait for LINE."""
        loop = asyncio.get_running_loop()
        for reply in replies:
            task = loop.create_task(self._send(reply, self._last.get(reply.chat)))
            self._last[reply.chat] = task
            self._tasks.add(task)
            task.add_done_callback(self._finished(reply.chat))

    @property
    def busy(self) -> bool:
        return bool(self._tasks)

    async def idle(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def done(self) -> list[str]:
        """Events whose reply is settled, to be cleared (`cleared` once they are)."""
        return list(self._done)

    def settled(self, event_ids: list[str]) -> None:
        """These events' replies need no sending (any more): clear them with the rest."""
        self._done.extend(event_ids)

    def cleared(self, event_ids: list[str]) -> None:
        gone = set(event_ids)
        self._done = [event_id for event_id in self._done if event_id not in gone]

    def _finished(self, chat: str) -> Callable[[asyncio.Task[None]], None]:
        def finished(task: asyncio.Task[None]) -> None:
            self._tasks.discard(task)
            if self._last.get(chat) is task:
                del self._last[chat]

        return finished

    async def _send(self, reply: Reply, after: asyncio.Task[None] | None) -> None:
        if after is not None:
            await asyncio.wait([after])  # however it ended: this one goes next
        if len(reply.messages) > REPLY_LIMIT:
            log.warning("reply cut from %d to %d messages", len(reply.messages), REPLY_LIMIT)
        loop = asyncio.get_running_loop()
        give_up = loop.time() + PATIENCE_SECONDS
        pause = FIRST_RETRY_SECONDS
        tried = 0
        while True:
            result = await self._services.line.reply(reply.token, reply.messages[:REPLY_LIMIT])
            tried += 1
            self._services.metrics.replies.labels(result.outcome.value).inc()
            if result.outcome not in _RETRIED or loop.time() + pause > give_up:
                break
            log.info("reply not taken (%s), tried again in %.2f s", result.outcome, pause)
            await asyncio.sleep(pause)
            pause *= 2
        # Settled either way: delivered, refused (a spent or expired token), or given up while
        # the token aged. Kept any longer, it would only be tried again with a dead token.
        self._done.append(reply.event_id)
        if result.outcome is Outcome.DELIVERED:
            return
        if (tried > 1 or reply.orphaned) and result.outcome is Outcome.REJECTED:
            # An earlier try (this instance's, or the stopped one's) may have reached LINE
            # although its answer did not reach the sender.
            log.info("reply refused (sent before, or expired): %s", result.detail)
            return
        log.warning("reply not delivered (%s): %s", result.outcome, result.detail)
