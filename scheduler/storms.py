"""The JMA feed of weather warnings (extra.xml), polled only when the city's municipality
codes are configured: each new 気象警報・注意報（Ｒ０６） for 大雨, 土砂災害 and 高潮, and each
指定河川洪水予報 (氾濫), is read once and handed to the service layer."""

from __future__ import annotations

from care.broadcasts import storm
from care.broadcasts.reach import GroupSizes
from care.services import Services, UnitOfWork
from scheduler.jma_feed import FeedPoller
from storage.repositories import Repositories


class StormPoller(FeedPoller):
    titles = tuple(storm.TITLES)
    what = "JMA warning"

    def __init__(self, services: Services) -> None:
        settings = services.settings
        super().__init__(services, settings.storm_feed_url)
        self.settings = storm.StormSettings(
            settings.storm_areas, settings.storm_levels, settings.jma_drills
        )

    def parse(self, text: str) -> storm.StormReport | None:
        return storm.parse_report(text)

    async def seen(self, repos: Repositories, document: str) -> bool:
        return await repos.storms.seen(document)

    async def act(
        self,
        work: UnitOfWork,
        document: str,
        report: storm.StormReport,
        quota_left: int | None,
        sizes: GroupSizes,
    ) -> str:
        """started, already, below, elsewhere, drill or cancelled."""
        return await storm.on_report(work, document, report, self.settings, quota_left, sizes)

    async def record_skipped(self, work: UnitOfWork, document: str, why: str) -> None:
        await work.repos.storms.record(document, why[:200], "", None, "skipped", None, work.now)
        await work.repos.admin.audit("気象庁", "storm_skipped", f"{document}: {why}", work.now)
