"""The JMA earthquake feed, polled (only when the city's area codes are configured): each new
震度速報 or 震源・震度に関する情報 document is read once and handed to the service layer."""

from __future__ import annotations

from care.broadcasts import quake
from care.broadcasts.reach import GroupSizes
from care.services import Services, UnitOfWork
from scheduler.jma_feed import FeedPoller
from storage.repositories import Repositories


class QuakePoller(FeedPoller):
    titles = quake.TITLES
    what = "JMA earthquake report"

    def __init__(self, services: Services) -> None:
        settings = services.settings
        super().__init__(services, settings.jma_feed_url)
        self.settings = quake.QuakeSettings(
            settings.jma_areas, settings.jma_threshold, settings.jma_window, settings.jma_drills
        )

    def parse(self, text: str) -> quake.QuakeReport | None:
        return quake.parse_report(text)

    async def seen(self, repos: Repositories, document: str) -> bool:
        return await repos.quakes.seen(document)

    async def act(
        self,
        work: UnitOfWork,
        document: str,
        report: quake.QuakeReport,
        quota_left: int | None,
        sizes: GroupSizes,
    ) -> str:
        """started, aftershock, below, elsewhere or drill."""
        return await quake.on_report(work, document, report, self.settings, quota_left, sizes)

    async def record_skipped(self, work: UnitOfWork, document: str, why: str) -> None:
        await work.repos.quakes.record(document, "", why, None, "skipped", None, work.now)
        await work.repos.admin.audit("気象庁", "jma_skipped", f"{document}: {why}", work.now)
