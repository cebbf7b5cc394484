"""POST /callback: verify LINE's signature on the raw body, store the events, answer.

Concurrent requests share one durable transaction (group commit): each answers 200 only once
its events are on disk, and a request that comes while a commit is under way waits for the next
one, which takes everything that came meanwhile. A lone request is written at once. Events land
apart from the service's tables (`Services.arrivals`), so the answer never waits for a batch
being handled.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from aiohttp import web
from linebot.v3.exceptions import InvalidSignatureError
from linebot.v3.webhook import WebhookParser

from bot.dispatch import DISPATCHER
from bot.forwarding import FORWARDER
from care.services import SERVICES, Services
from ground import json_codec
from storage.database import to_db
from storage.webhook_events import Arrival

log = logging.getLogger("mimamori.webhook")

PARSER = web.AppKey("parser", WebhookParser)
ACKNOWLEDGED = b'{"status": "ok"}'

Identified = list[tuple[str, dict[str, Any]]]


class Landing:
    """Writes webhook events to the database in shared transactions."""

    def __init__(self, services: Services) -> None:
        self._services = services
        self._waiting: list[tuple[list[Any], asyncio.Future[list[Arrival]]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def record(self, raw_events: list[Any]) -> list[Arrival]:
        """Store new events (deduplicated by webhookEventId); -> the ones not seen before."""
        future: asyncio.Future[list[Arrival]] = asyncio.get_running_loop().create_future()
        self._waiting.append((raw_events, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.get_running_loop().create_task(self._write())
        return await future

    async def _write(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting, []
            requests = [
                [(i, _storable(raw)) for i, raw in _identified(events)] for events, _ in batch
            ]
            stored = [pair for request in requests for pair in request]
            now = self._services.clock.now()
            try:
                async with self._services.arrivals() as arrivals:
                    new = await arrivals.land(stored, now) if stored else set()
            except Exception as error:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(error)
                continue
            stamp = to_db(now)
            for (_, future), request in zip(batch, requests, strict=True):
                fresh = [Arrival(i, payload, stamp) for i, payload in request if i in new]
                for event_id, _ in request:
                    if event_id not in new:
                        log.info("duplicate event %s ignored", event_id)
                if not future.done():
                    future.set_result(fresh)


def _identified(raw_events: list[Any]) -> Identified:
    """The events that carry a webhookEventId, in the order they happened: the dispatcher
    takes them in the order they were stored."""
    found = []
    for raw in sorted(raw_events, key=_timestamp):
        event_id = raw.get("webhookEventId") if isinstance(raw, dict) else None
        if not isinstance(event_id, str) or not event_id:
            # Only its type: an event's text holds user ids and what people wrote.
            kind = raw.get("type") if isinstance(raw, dict) else type(raw).__name__
            log.warning("event without webhookEventId skipped (type %r)", kind)
            continue
        found.append((event_id, raw))
    return found


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _storable(raw: Any) -> str:
    """An event as stored. JSON may spell a lone surrogate (\\ud800) that no database can
    hold as text; it becomes U+FFFD, so that one event cannot sink the batch it came with."""
    return _LONE_SURROGATE.sub("\ufffd", json_codec.written(raw))


def _timestamp(raw: Any) -> int:
    value = raw.get("timestamp") if isinstance(raw, dict) else None
    return value if isinstance(value, int) else 0


LANDING = web.AppKey("landing", Landing)


async def callback(request: web.Request) -> web.Response:
    app = request.app
    signature = request.headers.get("X-Line-Signature")
    if not signature:
        return _refuse(400, "missing X-Line-Signature")
    limit = app[SERVICES].settings.max_webhook_body
    if request.content_length is not None and request.content_length > limit:
        return _refuse(413, "body too large")
    try:
        # The app's client_max_size is the same limit: a body without a length that grows
        # past it is cut off here.
        body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        return _refuse(413, "body too large")
    text = body.decode("utf-8", errors="replace")
    try:
        _verify(app[PARSER], text, signature)
    except InvalidSignatureError:
        return _refuse(400, "invalid signature")
    try:
        payload = json_codec.read(text)
        raw_events = payload["events"]
        if not isinstance(raw_events, list):
            raise TypeError("events is not a list")
    except RecursionError:
        return _refuse(400, "malformed body: nested too deeply")
    except (ValueError, KeyError, TypeError) as error:
        return _refuse(400, f"malformed body: {error}")
    if (forwarder := app.get(FORWARDER)) is not None:
        forwarder.saw(payload.get("destination") if isinstance(payload, dict) else None)
    # Stored before the answer: a crash after the 200 cannot lose them.
    if raw_events and (landed := await app[LANDING].record(raw_events)):
        app[DISPATCHER].submit(landed)
    return web.Response(body=ACKNOWLEDGED, content_type="application/json")


def _verify(parser: WebhookParser, body: str, signature: str) -> None:
    # The SDK's validator compares in constant time; parsing itself is done per event later,
    # so one malformed event cannot sink the others.
    if not parser.signature_validator.validate(body, signature):
        raise InvalidSignatureError(f"Invalid signature. signature={signature}")


def _refuse(status: int, reason: str) -> web.Response:
    log.warning("webhook refused (%d): %s", status, reason)
    return web.json_response({"error": reason}, status=status)
