"""The JMA earthquake feed, polled (only when the city's area codes are configured): each new
震度速報 or 震源・震度に関する情報 document is read once and handed to the service layer."""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ElementTree

import aiohttp

from care import budget, quake
from care.services import Services

log = logging.getLogger("mimamori.jma")

ATOM = "{http://www.w3.org/2005/Atom}"


class QuakePoller:
    def __init__(self, services: Services) -> None:
        self._services = services
        settings = services.settings
        self.settings = quake.QuakeSettings(
            settings.jma_areas, settings.jma_threshold, settings.jma_window
        )
        self._feed = settings.jma_feed_url

    async def poll(self) -> list[str]:
        """Read the feed; -> what each new report did (started, aftershock, below, elsewhere)."""
        timeout = aiohttp.ClientTimeout(total=20)
        done = []
        async with aiohttp.ClientSession(timeout=timeout) as session:
            async with session.get(self._feed) as response:
                response.raise_for_status()
                feed = await response.text()
            for document in _reports_in(feed):
                async with self._services.repositories() as repos:
                    if await repos.quakes.seen(document):
                        continue
                async with session.get(document) as response:
                    response.raise_for_status()
                    text = await response.text()
                report = quake.parse_report(text)
                if report is None:
                    continue
                left = await budget.quota_left(self._services)  # LINE, before the transaction
                async with self._services.unit_of_work() as work:
                    done.append(await quake.on_report(work, document, report, self.settings, left))
        return done

    async def poll_safely(self) -> None:
        try:
            if not await self._services.db.lead():
                return  # the planning instance reads the feed; one roll-call per quake
            for action in await self.poll():
                log.warning("JMA earthquake report: %s", action)
        except Exception:
            log.exception("the JMA feed could not be read; the next poll tries again")


def _reports_in(feed: str) -> list[str]:
    """The documents of the feed's earthquake reports, oldest first."""
    found = []
    for entry in ElementTree.fromstring(feed).iter(f"{ATOM}entry"):
        title = (entry.findtext(f"{ATOM}title") or "").strip()
        link = entry.find(f"{ATOM}link")
        if title in quake.TITLES and link is not None and link.get("href"):
            found.append(link.get("href", ""))
    return list(reversed(found))
