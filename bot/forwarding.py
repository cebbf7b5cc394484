"""Forwarding to the city's system (MIMAMORI_FORWARD_URL): the events that are not mimamori's go
on as LINE sent them, in a body signed with the channel secret exactly as LINE signs it, so
the city's system keeps working unchanged behind mimamori.

Each event was stored in the transaction that decided it was the city's (`bot.batch`); here it
is sent, a chat's waiting events in one body and in order, until the city's system answers
2xx. One that does not is tried again with a growing pause (the chat's later events wait
behind it, so the order holds); a try after the first says so as LINE does when it redelivers
(`deliveryContext.isRedelivery`). After a day an event is given up on, logged and counted.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
from datetime import datetime, timedelta

import aiohttp
from aiohttp import web

from care.services import Services
from ground.transactions import outside_only
from storage.forwards import Forward, ForwardRepository

log = logging.getLogger("mimamori.forwarding")

CHATS = 100  # chats per claim
EVENTS_PER_BODY = 100
TIMEOUT = aiohttp.ClientTimeout(total=10)
GIVE_UP_AFTER = timedelta(days=1)
# LINE's own webhook requests say who they are; some systems check it.
USER_AGENT = "LineBotWebhook/2.0"


def sign(body: bytes, secret: str) -> str:
    """X-Line-Signature: base64 of the body's HMAC-SHA256 with the channel secret."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def headers_for(body: bytes, secret: str) -> dict[str, str]:
    """The headers of a webhook request as LINE sends them (the forwarded events, the setup
    check's empty body)."""
    return {
        "Content-Type": "application/json; charset=utf-8",
        "X-Line-Signature": sign(body, secret),
        "User-Agent": USER_AGENT,
    }


def backoff(attempts: int) -> timedelta:
    """The pause after `attempts` failed tries: 5 s, doubling, 5 minutes at most."""
    return timedelta(seconds=min(5 * 2 ** min(attempts, 10), 300))


def body_of(destination: str, events: list[Forward]) -> bytes:
    """The webhook body the city's system receives: LINE's shape, the events as LINE sent
    them, marked as redelivered when tried before."""
    raw_events = []
    for forward in events:
        raw = json.loads(forward.payload)
        if forward.attempts > 0:
            context = raw.get("deliveryContext")
            raw["deliveryContext"] = {
                **(context if isinstance(context, dict) else {}),
                "isRedelivery": True,
            }
        raw_events.append(raw)
    payload = {"destination": destination, "events": raw_events}
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class Forwarder:
    def __init__(self, services: Services) -> None:
        self._services = services
        url = services.settings.forward_url
        assert url is not None, "a forwarder needs MIMAMORI_FORWARD_URL"
        self._url = url
        self._session: aiohttp.ClientSession | None = None
        self._destination: str | None = None
        self._task: asyncio.Task[None] | None = None
        self._wanted = False

    def saw(self, destination: object) -> None:
        """The `destination` of a body LINE sent (the account's user id), kept for the bodies
        forwarded: the same as LINE's."""
        if isinstance(destination, str) and destination:
            self._destination = destination

    def wake(self) -> None:
        """Forward what waits, in the background (after a batch stored some, after a sweep)."""
        self._wanted = True
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._forward_wanted())

    async def _forward_wanted(self) -> None:
        while self._wanted:
            self._wanted = False
            try:
                await self.forward_due()
            except Exception:
                log.exception("forwarding failed; the next sweep tries again")

    async def idle(self) -> None:
        while self._task is not None and not self._task.done():
            await self._task

    async def stop(self) -> None:
        await self.idle()
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def forward_due(self) -> int:
        """Forward every chat whose waiting events are due. -> events the city's system took.
        Called by one task at a time (`wake`), so a chat is never sent by two passes."""
        taken = 0
        services = self._services
        while True:
            async with services.claims() as work:
                chats = await work.repos.forwards.claim_due(
                    services.clock.now(),
                    CHATS,
                    services.instance,
                    services.settings.claim_lease,
                )
            if not chats:
                return taken
            destination = await self._destination_now()
            results = await asyncio.gather(*(self._chat(destination, c) for c in chats))
            taken += sum(results)
            if not any(results):
                return taken  # all failed: their pauses decide when to try again

    async def _destination_now(self) -> str:
        if self._destination is None:
            self._destination = await self._services.line.bot_user_id()
        return self._destination or ""

    async def _chat(self, destination: str, events: list[Forward]) -> int:
        """A chat's waiting events, in bodies of a hundred, in order; the first failure stops
        the chat (its later events wait behind it). -> events taken."""
        taken = 0
        for start in range(0, len(events), EVENTS_PER_BODY):
            part = events[start : start + EVENTS_PER_BODY]
            error = await self._post(body_of(destination, part))
            now = self._services.clock.now()
            metrics = self._services.metrics
            async with self._services.unit_of_work() as work:
                forwards = work.repos.forwards
                if error is None:
                    await forwards.sent([f.id for f in part], now)
                else:
                    await self._failed(forwards, events[start:], now, error)
            if error is not None:
                metrics.forwarded.labels("failed").inc(len(part))
                log.warning("forwarding to the city's system failed: %s", error)
                return taken
            metrics.forwarded.labels("taken").inc(len(part))
            taken += len(part)
        return taken

    async def _failed(
        self, forwards: ForwardRepository, waiting: list[Forward], now: datetime, error: str
    ) -> None:
        """The chat's events wait again (a pause that grows with each try); those a day old
        are given up on, so that one dead chat cannot hold its events for ever."""
        old = [f.id for f in waiting if now - f.created_at >= GIVE_UP_AFTER]
        if old:
            log.error("%d events given up on after a day of failures: %s", len(old), error)
            self._services.metrics.forwarded.labels("given_up").inc(len(old))
            await forwards.give_up(old, now, error)
        given_up = set(old)
        rest = [f.id for f in waiting if f.id not in given_up]
        if rest:
            await forwards.retry(rest, now + backoff(waiting[0].attempts), error)

    async def _post(self, body: bytes) -> str | None:
        """-> None when the city's system took the body (2xx); else what went wrong. A
        redirect is not followed (it would send her words and the signature to another
        host): a 3xx fails like any other answer that is not 2xx, and is tried again."""
        if self._session is None:
            strict = self._services.settings.strict_transactions
            self._session = aiohttp.ClientSession(
                timeout=TIMEOUT, trace_configs=[outside_only("the city's system", strict)]
            )
        headers = headers_for(body, self._services.settings.channel_secret)
        try:
            async with self._session.post(
                self._url, data=body, headers=headers, allow_redirects=False
            ) as response:
                if 200 <= response.status < 300:
                    return None
                if 300 <= response.status < 400:
                    where = response.headers.get("Location", "")
                    return f"HTTP {response.status} redirect to {where[:200]!r}, not followed"
                return f"HTTP {response.status}"
        except (aiohttp.ClientError, TimeoutError) as error:
            return f"{type(error).__name__}: {error}"


FORWARDER = web.AppKey("forwarder", Forwarder)
