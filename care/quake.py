"""Earthquake reports from the Japan Meteorological Agency (気象庁防災情報XML: 震度速報, 震源・震度
に関する情報), read as pure values, and what a report does: a roll-call of everyone when the
city's areas shook at or above the set intensity, or, within the window after one, word to the
admins instead (an aftershock is asked about before anyone is sent again)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from defusedxml import ElementTree

from care import rollcall
from care.notices import Audience
from care.reach import GroupSizes
from care.services import UnitOfWork

TITLES = ("震度速報", "震源・震度に関する情報")
SCALE = ("1", "2", "3", "4", "5-", "5+", "6-", "6+", "7")


@dataclass(frozen=True)
class QuakeReport:
    event_id: str
    title: str
    reported_at: datetime
    intensities: dict[str, str]  # area, city and prefecture codes -> the intensity observed
    status: str = "通常"  # Control/Status: 通常, or 訓練 (a drill) and 試験 (a test)

    def strongest_in(self, codes: frozenset[str]) -> str | None:
        found = [self.intensities[code] for code in codes if code in self.intensities]
        return max(found, key=SCALE.index) if found else None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def parse_report(text: str) -> QuakeReport | None:
    """A 震度速報 or 震源・震度に関する情報 document; None for anything else (or a 取消).
    Parsed with defusedxml: entities and DTDs from the network are refused, not expanded.
    Raises ValueError (defusedxml's errors included) for a document that is not one."""
    root = ElementTree.fromstring(text)
    values: dict[str, str] = {}
    for element in root.iter():
        name = _local(element.tag)
        wanted = ("Title", "EventID", "ReportDateTime", "InfoType", "Status")
        if name in wanted and name not in values:
            values[name] = (element.text or "").strip()
    if values.get("Title") not in TITLES or values.get("InfoType") == "取消":
        return None
    intensities: dict[str, str] = {}
    for element in root.iter():
        if _local(element.tag) not in ("Pref", "Area", "City"):
            continue
        code = max_int = None
        for child in element:
            if _local(child.tag) == "Code":
                code = (child.text or "").strip()
            elif _local(child.tag) == "MaxInt":
                max_int = (child.text or "").strip()
        if code and max_int in SCALE:
            intensities[code] = max_int
    return QuakeReport(
        event_id=values.get("EventID", ""),
        title=values["Title"],
        reported_at=datetime.fromisoformat(values["ReportDateTime"]),
        intensities=intensities,
        status=values.get("Status", "通常"),
    )


@dataclass(frozen=True)
class QuakeSettings:
    areas: frozenset[str]  # the city's area, city or prefecture codes
    threshold: str  # e.g. "5-" (震度5弱)
    window: timedelta  # a second report within it does not start another roll-call
    drills: bool = False  # 訓練 and 試験 reports start roll-calls too (a city's own drill day)


async def on_report(
    work: UnitOfWork,
    document: str,
    report: QuakeReport,
    settings: QuakeSettings,
    quota_left: int | None = None,
    sizes: GroupSizes | None = None,
) -> str:
    """What the report does; -> started, aftershock, below or elsewhere. Each document once."""
    strongest = report.strongest_in(settings.areas)
    roll_call_id = None
    if report.status != "通常" and not settings.drills:
        action = "drill"  # a 訓練 or 試験 report: recorded, starts nothing
    elif strongest is None:
        action = "elsewhere"
    elif SCALE.index(strongest) < SCALE.index(settings.threshold):
        action = "below"
    elif await work.repos.quakes.started_since(work.now - settings.window):
        # SECOM's rule: a strong quake within hours of the last is asked about first.
        action = "aftershock"
    else:
        action = "started"
        plan = await rollcall.plan(work, Audience("everyone"), with_groups=True, sizes=sizes)
        roll_call_id = await rollcall.start(
            work,
            plan,
            f"気象庁 {report.title} {report.event_id}",
            surface="jma",
            resend_every=rollcall.REASK_EVERY,
            resends=rollcall.REASKS,
            # After an earthquake, ask as many as the quota covers rather than nobody.
            quota_left=quota_left,
            partial=True,
        )
    await work.repos.quakes.record(
        document, report.event_id, report.title, strongest, action, roll_call_id, work.now
    )
    if action in ("started", "aftershock"):
        detail = f"{report.title} {report.event_id} max {strongest}: {action}"
        await work.repos.admin.audit("気象庁", f"jma_{action}", detail, work.now)
    return action
