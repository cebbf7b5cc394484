"""JMA's Atom feeds of 気象庁防災情報XML, polled: each new document of the titles a poller
reads is fetched once (https, from the feed's own host, size-limited) and handed to the service
layer; one that cannot be read is skipped and recorded, and the ones after it are read all the
same. The earthquake feed (scheduler/quakes.py) and the warnings' (scheduler/storms.py) are
two pollers of this one kind."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from defusedxml import DefusedXmlException, ElementTree

from care.broadcasts import budget, reach
from care.broadcasts.reach import GroupSizes
from care.services import Services, UnitOfWork
from ground.transactions import outside_only
from scheduler.documents import Unreadable, read_bounded
from storage.repositories import Repositories

log = logging.getLogger("mimamori.jma")

ATOM = "{http://www.w3.org/2005/Atom}"
MAX_FEED_BYTES = 2 * 1024 * 1024
MAX_DOCUMENT_BYTES = 1024 * 1024


class FeedPoller:
    """One JMA feed. A subclass names the feed's titles it reads and says how a document is
    parsed, what it does, and where it is recorded."""

    titles: tuple[str, ...] = ()
    what = "JMA document"  # for the logs

    def __init__(self, services: Services, feed: str) -> None:
        self._services = services
        self._feed = feed

    # What a subclass says.
    def parse(self, text: str) -> Any:
        """The document as a value; None for one to pass over; ValueError when unreadable."""
        raise NotImplementedError

    async def seen(self, repos: Repositories, document: str) -> bool:
        raise NotImplementedError

    async def act(
        self,
        work: UnitOfWork,
        document: str,
        report: Any,
        quota_left: int | None,
        sizes: GroupSizes,
    ) -> str:
        raise NotImplementedError

    async def record_skipped(self, work: UnitOfWork, document: str, why: str) -> None:
        raise NotImplementedError

    # The polling, the same for every feed.
    async def poll(self) -> list[str]:
        """Read the feed; -> what each new document did. A network failure or a 5xx leaves
        the document to the next poll; one that cannot be read is skipped for good."""
        timeout = aiohttp.ClientTimeout(total=20)
        done = []
        strict = self._services.settings.strict_transactions
        trace = outside_only("JMA", strict)
        async with aiohttp.ClientSession(timeout=timeout, trace_configs=[trace]) as session:
            feed = await _read(session, self._feed, MAX_FEED_BYTES)
            for document in entries(feed, self.titles):
                async with self._services.reading_repositories() as repos:
                    if await self.seen(repos, document):
                        continue
                try:
                    report = await self._report(session, document)
                except Unreadable as why:
                    done.append(await self._skip(document, str(why)))
                    continue
                except (aiohttp.ClientError, TimeoutError) as error:
                    log.warning("%s %s not read now: %r", self.what, document, error)
                    continue
                if report is None:
                    continue
                # LINE, before the transaction: the quota, and every group's size.
                left = await budget.quota_left(self._services)
                sizes = await reach.group_sizes(self._services)
                async with self._services.unit_of_work() as work:
                    done.append(await self.act(work, document, report, left, sizes))
        return done

    async def _report(self, session: aiohttp.ClientSession, document: str) -> Any:
        if not same_origin(document, self._feed):
            raise Unreadable("not on the feed's host")
        text = await _read(session, document, MAX_DOCUMENT_BYTES)
        try:
            return self.parse(text)
        except (ValueError, KeyError, DefusedXmlException, ElementTree.ParseError) as error:
            raise Unreadable(f"not a report: {type(error).__name__}") from None

    async def _skip(self, document: str, why: str) -> str:
        log.warning("%s %s skipped: %s", self.what, document, why)
        async with self._services.unit_of_work() as work:
            await self.record_skipped(work, document, why)
        return "skipped"

    async def poll_safely(self) -> None:
        try:
            if not await self._services.db.lead():
                return  # the planning instance reads the feed; one roll-call per event
            for action in await self.poll():
                log.warning("%s: %s", self.what, action)
        except Exception:
            log.exception("the JMA feed could not be read; the next poll tries again")


async def _read(session: aiohttp.ClientSession, url: str, limit: int) -> str:
    """The text of `url`, refused past `limit` bytes (a feed or a report is a few hundred KB
    at most; anything bigger is not what JMA publishes)."""
    body, charset = await read_bounded(session, url, limit)
    return body.decode(charset or "utf-8", errors="replace")


def same_origin(url: str, feed: str) -> bool:
    """Only the configured feed's host is fetched, by the feed's scheme (https, but for a
    stand-in on loopback): a feed entry cannot send the server anywhere else."""
    document, origin = urlsplit(url), urlsplit(feed)
    return (document.scheme, document.netloc) == (origin.scheme, origin.netloc)


def entries(feed: str, titles: tuple[str, ...]) -> list[str]:
    """The documents of the feed's entries with these titles, oldest first."""
    found = []
    for entry in ElementTree.fromstring(feed).iter(f"{ATOM}entry"):
        title = (entry.findtext(f"{ATOM}title") or "").strip()
        link = entry.find(f"{ATOM}link")
        if title in titles and link is not None and link.get("href"):
            found.append(link.get("href", ""))
    return list(reversed(found))
