"""POST /callback: verify LINE's signature on the raw body, record, answer at once."""

from __future__ import annotations

import json
import logging
from typing import Any

from aiohttp import web
from linebot.v3.exceptions import InvalidSignatureError
from linebot.v3.webhook import WebhookParser

from bot.dispatch import DISPATCHER
from care.services import SERVICES

PARSER = web.AppKey("parser", WebhookParser)

log = logging.getLogger("mimamori.webhook")


async def callback(request: web.Request) -> web.Response:
    app = request.app
    signature = request.headers.get("X-Line-Signature")
    if not signature:
        return _refuse(400, "missing X-Line-Signature")
    limit = app[SERVICES].settings.max_webhook_body
    if request.content_length is not None and request.content_length > limit:
        return _refuse(413, "body too large")
    body = await _read_limited(request, limit)
    if body is None:
        return _refuse(413, "body too large")
    text = body.decode("utf-8", errors="replace")
    try:
        _verify(app[PARSER], text, signature)
    except InvalidSignatureError:
        return _refuse(400, "invalid signature")
    try:
        payload = json.loads(text)
        raw_events = payload["events"]
        if not isinstance(raw_events, list):
            raise TypeError("events is not a list")
    except (ValueError, KeyError, TypeError) as error:
        return _refuse(400, f"malformed body: {error}")
    fresh = await _record(app, raw_events)
    if fresh:
        app[DISPATCHER].submit(fresh)
    return web.json_response({"status": "ok"})


def _verify(parser: WebhookParser, body: str, signature: str) -> None:
    # The SDK's validator compares in constant time; parsing itself is done per event later,
    # so one malformed event cannot sink the others.
    if not parser.signature_validator.validate(body, signature):
        raise InvalidSignatureError(f"Invalid signature. signature={signature}")


async def _record(app: web.Application, raw_events: list[Any]) -> list[tuple[str, dict[str, Any]]]:
    """Store new events (deduplicated by webhookEventId) before answering: a crash after
    the 200 cannot lose them, they are replayed at start-up."""
    fresh = []
    async with app[SERVICES].unit_of_work() as work:
        repos, now = work.repos, work.now
        for raw in raw_events:
            event_id = raw.get("webhookEventId") if isinstance(raw, dict) else None
            if not isinstance(event_id, str) or not event_id:
                log.warning("event without webhookEventId skipped: %.200s", raw)
                continue
            if await repos.inbox.record(event_id, json.dumps(raw, ensure_ascii=False), now):
                fresh.append((event_id, raw))
            else:
                log.info("duplicate event %s ignored", event_id)
    return fresh


async def _read_limited(request: web.Request, limit: int) -> bytes | None:
    chunks = []
    size = 0
    async for chunk in request.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _refuse(status: int, reason: str) -> web.Response:
    log.warning("webhook refused (%d): %s", status, reason)
    return web.json_response({"error": reason}, status=status)
