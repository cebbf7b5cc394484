"""The Ministry of the Environment's heat feeds, polled (only when the city's 府県予報区 codes
are set), as the JMA feed is (scheduler/quakes.py): over https, from the hosts the city
allows, never following a redirect, with a size limit. The alert files (熱中症警戒アラート /
熱中症特別警戒アラート, one per issuing hour: alert_{YYYYMMDD}_{HH}.csv at 05, 10, 14 and 17
JST) that speak of today are read each poll: yesterday's 17:00 and today's hours passed. A
file not there yet (404: a few minutes after its hour, or out of the season) is asked for
again at the next poll and not recorded. A file, like each observation point's WBGT
forecast, may be published again at the same URL with new contents, so each version is read
once (its URL and a digest of its body); one that cannot be read is skipped and recorded, a
test file is recorded and starts nothing."""

from __future__ import annotations

import hashlib
import logging
from urllib.parse import urlsplit

import aiohttp

from care.broadcasts import heat
from care.services import Services
from ground.transactions import outside_only
from scheduler.documents import NotYet, Unreadable, read_bounded

log = logging.getLogger("mimamori.heat")

MAX_ALERT_BYTES = 512 * 1024
MAX_WBGT_BYTES = 256 * 1024
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


class HeatPoller:
    def __init__(self, services: Services) -> None:
        self._services = services
        self._settings = services.settings

    def _allowed(self, url: str) -> bool:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if parts.scheme == "https" and host in self._settings.heat_hosts:
            return True
        return parts.scheme in ("http", "https") and host in _LOOPBACK  # a stand-in

    async def poll(self) -> list[str]:
        """Read the alert files that speak of today and each point's forecast; -> what each
        new version did (alert, special, none, drill, forecast, skipped)."""
        settings = self._settings
        done: list[str] = []
        feeds: list[tuple[str, str, int]] = [
            ("alert", heat.alert_file_url(settings.heat_alert_base, day, hour), MAX_ALERT_BYTES)
            for day, hour in heat.alert_files_due(self._services.clock.now())
        ]
        for point in settings.heat_points:
            feeds.append(("wbgt", settings.heat_wbgt_url.format(point=point), MAX_WBGT_BYTES))
        timeout = aiohttp.ClientTimeout(total=20)
        trace = outside_only("heat", settings.strict_transactions)
        async with aiohttp.ClientSession(timeout=timeout, trace_configs=[trace]) as session:
            for kind, url, limit in feeds:
                try:
                    action = await self._one(session, kind, url, limit)
                except (aiohttp.ClientError, TimeoutError) as error:
                    # A network failure or a 5xx may pass: read again at the next poll.
                    log.warning("heat feed %s not read now: %r", url, error)
                    continue
                except NotYet:
                    log.info("heat alert file %s not published yet", url)
                    continue
                if action is not None:
                    done.append(action)
        return done

    async def _one(
        self, session: aiohttp.ClientSession, kind: str, url: str, limit: int
    ) -> str | None:
        try:
            if not self._allowed(url):
                raise Unreadable("not on an allowed host")
            body, _ = await read_bounded(session, url, limit, later_if_missing=True)
        except NotYet:
            if kind == "alert":
                raise
            return await self._skip(kind, url, "HTTP 404")  # a fixed URL: the point is wrong
        except Unreadable as why:
            return await self._skip(kind, url, str(why))
        document = f"{url}#{hashlib.sha256(body).hexdigest()[:16]}"
        async with self._services.reading_repositories() as repos:
            if await repos.heat.seen(document):
                return None
        try:
            text = body.decode("utf-8-sig")
            parsed = heat.parse_alert_file(text) if kind == "alert" else heat.parse_wbgt(text)
        except (ValueError, IndexError) as error:  # UnicodeDecodeError is a ValueError
            return await self._skip(kind, document, f"not readable: {error}")
        async with self._services.unit_of_work() as work:
            if isinstance(parsed, heat.AlertFile):
                return await heat.on_alert_file(work, document, parsed)
            return await heat.on_forecast(work, document, parsed)

    async def _skip(self, kind: str, document: str, why: str) -> str | None:
        async with self._services.reading_repositories() as repos:
            if await repos.heat.seen(document):
                return None  # recorded once: a feed still missing is not a new line each poll
        log.warning("heat document %s skipped: %s", document, why)
        async with self._services.unit_of_work() as work:
            await work.repos.heat.record(document, kind, "skipped", None, why, work.now)
            await work.repos.admin.audit("環境省", "heat_skipped", f"{document}: {why}", work.now)
        return "skipped"

    async def poll_safely(self) -> None:
        try:
            if not await self._services.db.lead():
                return  # the planning instance reads the feeds
            for action in await self.poll():
                log.warning("heat feed: %s", action)
        except Exception:
            log.exception("the heat feeds could not be read; the next poll tries again")
