"""Earthquake reports from the Japan Meteorological Agency (気象庁防災情報XML: 震度速報, 震源・震度
に関する情報), read as pure values, and what a report does: a roll-call of everyone when the
city's areas shook at or above the set intensity, or, within the window after one, word to the
admins instead (an aftershock is asked about before anyone is sent again)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from defusedxml import ElementTree

from care.broadcasts import rollcall
from care.broadcasts.occasions import quake_occasion
from care.broadcasts.reach import GroupSizes
from care.services import UnitOfWork

TITLES = ("震度速報", "震源・震度に関する情報")
SCALE = ("1", "2", "3", "4", "5-", "5+", "6-", "6+", "7")


@dataclass(frozen=True)
class QuakeReport:
    event_id: str
    title: str
    reported_at: datetime
    intensities: dict[str, str]  # area, city and prefecture codes -> the intensity observed
    status: str  # Control/Status: 通常, or 訓練 (a drill) and 試験 (a test); never assumed

    def strongest_in(self, codes: frozenset[str]) -> str | None:
        found = [self.intensities[code] for code in codes if code in self.intensities]
        return max(found, key=SCALE.index) if found else None


# 気象庁防災情報XML's namespaces: the document's Control, its Head and an earthquake report's
# Body. An element is matched by its namespace and name, never by its local name alone, so
# that an element of another vocabulary (or of no namespace) with the same name is not read
# as JMA's.
JMX = "{http://xml.kishou.go.jp/jmaxml1/}"
HEAD = "{http://xml.kishou.go.jp/jmaxml1/informationBasis1/}"
SEISMOLOGY = "{http://xml.kishou.go.jp/jmaxml1/body/seismology1/}"
# Control/Status: a real report (通常), a drill (訓練) or a test (試験). A document with
# any other, or none, is not read: nothing proves it real.
STATUSES = ("通常", "訓練", "試験")


def _text(parent: Any, path: str) -> str | None:
    element = parent.find(path)
    return None if element is None else (element.text or "").strip()


def parse_report(text: str) -> QuakeReport | None:
    """A 震度速報 or 震源・震度に関する情報 document; None for anything else (or a 取消).
    Parsed with defusedxml: entities and DTDs from the network are refused, not expanded.
    Elements are found by their place and namespace in JMA's schema (jmx:Report/Control,
    jmx_ib:Head, jmx_seis:Body). Raises ValueError (defusedxml's errors included) for a
    document that is not one, and for one whose Control/Status is missing or unknown: it is
    skipped and recorded, never taken as a real report."""
    root = ElementTree.fromstring(text)
    if root.tag != f"{JMX}Report":
        raise ValueError(f"not a JMA report: {root.tag}")
    control = root.find(f"{JMX}Control")
    head = root.find(f"{HEAD}Head")
    if control is None or head is None:
        raise ValueError("no Control or Head")
    title = _text(control, f"{JMX}Title")
    if title not in TITLES or _text(head, f"{HEAD}InfoType") == "取消":
        return None
    status = _text(control, f"{JMX}Status")
    if status not in STATUSES:
        raise ValueError(f"Control/Status missing or unknown: {status!r}")
    reported_at = _text(head, f"{HEAD}ReportDateTime")
    if not reported_at:
        raise ValueError("no Head/ReportDateTime")
    intensities: dict[str, str] = {}
    body = root.find(f"{SEISMOLOGY}Body")
    observations = [] if body is None else body.iter(f"{SEISMOLOGY}Observation")
    for observation in observations:
        for element in observation.iter():
            if element.tag not in (f"{SEISMOLOGY}Pref", f"{SEISMOLOGY}Area", f"{SEISMOLOGY}City"):
                continue
            code = _text(element, f"{SEISMOLOGY}Code")
            max_int = _text(element, f"{SEISMOLOGY}MaxInt")
            if code and max_int in SCALE:
                intensities[code] = max_int
    return QuakeReport(
        event_id=_text(head, f"{HEAD}EventID") or "",
        title=title,
        reported_at=datetime.fromisoformat(reported_at),
        intensities=intensities,
        status=status,
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
        # After an earthquake, ask as many as the quota covers rather than nobody; a strong
        # quake in the city is a declared disaster (care.roster.visibility).
        roll_call_id = await rollcall.start_from_feed(
            work,
            f"気象庁 {report.title} {report.event_id}",
            "jma",
            sizes,
            quota_left,
            # Its question names the quake (震度5強), in LINE and on a call.
            occasion=quake_occasion(strongest),
        )
    await work.repos.quakes.record(
        document, report.event_id, report.title, strongest, action, roll_call_id, work.now
    )
    if action in ("started", "aftershock"):
        detail = f"{report.title} {report.event_id} max {strongest}: {action}"
        await work.repos.admin.audit("気象庁", f"jma_{action}", detail, work.now)
    return action
