"""The JMA earthquake feed, polled (only when the city's area codes are configured): each new
震度速報 or 震源・震度に関する情報 document is read once and handed to the service layer."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

import aiohttp
from defusedxml import DefusedXmlException, ElementTree

from care.broadcasts import budget, quake, reach
from care.services import Services
from ground.transactions import outside_only

log = logging.getLogger("mimamori.jma")

ATOM = "{http://www.w3.org/2005/Atom}"
MAX_FEED_BYTES = 2 * 1024 * 1024
MAX_DOCUMENT_BYTES = 1024 * 1024


class QuakePoller:
    def __init__(self, services: Services) -> None:
        self._services = services
        settings = services.settings
        self.settings = quake.QuakeSettings(
            settings.jma_areas, settings.jma_threshold, settings.jma_window, settings.jma_drills
        )
        self._feed = settings.jma_feed_url

    async def poll(self) -> list[str]:
        """Read the feed; -> what each new report did (started, aftershock, below, elsewhere,
        drill, skipped). One document that cannot be read is skipped and recorded (the admins
        see it); the documents after it are read all the same."""
        timeout = aiohttp.ClientTimeout(total=20)
        done = []
        strict = self._services.settings.strict_transactions
        trace = outside_only("JMA", strict)
        async with aiohttp.ClientSession(timeout=timeout, trace_configs=[trace]) as session:
            feed = await _read(session, self._feed, MAX_FEED_BYTES)
            for document in _reports_in(feed):
                async with self._services.reading_repositories() as repos:
                    if await repos.quakes.seen(document):
                        continue
                try:
                    report = await self._report(session, document)
                except Unreadable as why:
                    done.append(await self._skip(document, str(why)))
                    continue
                except (aiohttp.ClientError, TimeoutError) as error:
                    # A network failure or a 5xx may pass: read again at the next poll.
                    log.warning("JMA document %s not read now: %r", document, error)
                    continue
                if report is None:
                    continue
                # LINE, before the transaction: the quota, and every group's size.
                left = await budget.quota_left(self._services)
                sizes = await reach.group_sizes(self._services)
                async with self._services.unit_of_work() as work:
                    done.append(
                        await quake.on_report(work, document, report, self.settings, left, sizes)
                    )
        return done

    async def _report(
        self, session: aiohttp.ClientSession, document: str
    ) -> quake.QuakeReport | None:
        if not _same_origin(document, self._feed):
            raise Unreadable("not on the feed's host")
        text = await _read(session, document, MAX_DOCUMENT_BYTES)
        try:
            return quake.parse_report(text)
        except (ValueError, KeyError, DefusedXmlException, ElementTree.ParseError) as error:
            raise Unreadable(f"not a report: {type(error).__name__}") from None

    async def _skip(self, document: str, why: str) -> str:
        log.warning("JMA document %s skipped: %s", document, why)
        async with self._services.unit_of_work() as work:
            await work.repos.quakes.record(document, "", why, None, "skipped", None, work.now)
            await work.repos.admin.audit("気象庁", "jma_skipped", f"{document}: {why}", work.now)
        return "skipped"

    async def poll_safely(self) -> None:
        try:
            if not await self._services.db.lead():
                return  # the planning instance reads the feed; one roll-call per quake
            for action in await self.poll():
                log.warning("JMA earthquake report: %s", action)
        except Exception:
            log.exception("the JMA feed could not be read; the next poll tries again")


class Unreadable(Exception):
    """A document that will not become readable by asking again: recorded and skipped."""


async def _read(session: aiohttp.ClientSession, url: str, limit: int) -> str:
    """The body of `url`, refused past `limit` bytes (a feed or a report is a few hundred KB
    at most; anything bigger is not what JMA publishes)."""
    async with session.get(url, allow_redirects=False) as response:
        if response.status in (404, 410) or 300 <= response.status < 400:
            raise Unreadable(f"HTTP {response.status}")
        response.raise_for_status()
        if (response.content_length or 0) > limit:
            raise Unreadable(f"over {limit} bytes")
        body = await response.content.read(limit + 1)
        if len(body) > limit:
            raise Unreadable(f"over {limit} bytes")
        return body.decode(response.charset or "utf-8", errors="replace")


def _same_origin(url: str, feed: str) -> bool:
    """Only the configured feed's host is fetched, by the feed's scheme (https, but for a
    stand-in on loopback): a feed entry cannot send the server anywhere else."""
    document, origin = urlsplit(url), urlsplit(feed)
    return (document.scheme, document.netloc) == (origin.scheme, origin.netloc)


def _reports_in(feed: str) -> list[str]:
    """The documents of the feed's earthquake reports, oldest first."""
    found = []
    for entry in ElementTree.fromstring(feed).iter(f"{ATOM}entry"):
        title = (entry.findtext(f"{ATOM}title") or "").strip()
        link = entry.find(f"{ATOM}link")
        if title in quake.TITLES and link is not None and link.get("href"):
            found.append(link.get("href", ""))
    return list(reversed(found))
