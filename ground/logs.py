"""Log lines: one per record, text or JSON, and never a secret or a person's details.

The access log names the route (``/invites/{code}.png``), never the path that was asked for:
an invite code in a URL is a key to a person's team. Any message that still carries something
shaped like a token, an ID token or a phone number is masked before it is written.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

_MASKS = (
    # JWTs (LIFF ID tokens, LINE Login tokens): three base64url parts, the first a JSON header.
    re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"),
    re.compile(r"(?i)bearer\s+[A-Za-z0-9._~+/=-]{8,}"),
    # Japanese phone numbers, with or without hyphens.
    re.compile(r"(?<!\d)0\d{1,4}-?\d{1,4}-?\d{3,4}(?!\d)"),
    # LINE user, group and room ids.
    re.compile(r"(?<![A-Za-z0-9])[UCR][0-9a-f]{32}(?![A-Za-z0-9])"),
)


def mask(text: str) -> str:
    for pattern in _MASKS:
        text = pattern.sub("[redacted]", text)
    return text


class MaskingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line, the shape log collectors (Loki, Cloud Logging) read."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup_logging(level: str = "INFO", as_json: bool = False) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if as_json else logging.Formatter(TEXT_FORMAT))
    handler.addFilter(MaskingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # One line per sweep is noise; APScheduler's warnings and errors still show.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    # aiosqlite's DEBUG lines carry every SQL parameter: names, phone numbers, memos.
    logging.getLogger("aiosqlite").setLevel(logging.INFO)
    # A line per request is the reverse proxy's job; at the 07:00 rush writing it cost a tenth
    # of the webhook's time. MIMAMORI_LOG_LEVEL=DEBUG brings it back.
    if root.getEffectiveLevel() > logging.DEBUG:
        logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


class RouteAccessLogger(AbstractAccessLogger):
    """``GET /invites/{code}.png 200 3.1ms``: the route's pattern, not the URL asked for."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info(
            "%s %s %s %.1fms", request.method, route_of(request), response.status, time * 1000
        )

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)


def route_of(request: web.BaseRequest) -> str:
    match_info = getattr(request, "match_info", None)
    route = getattr(match_info, "route", None)
    resource = getattr(route, "resource", None)
    if resource is None:
        # Not routed (404, or refused before routing): the path says nothing worth keeping.
        return "(unrouted)"
    # A sub-app's resources carry its prefix already (add_subapp adds it).
    return str(resource.canonical)
