"""Weather warnings from the Japan Meteorological Agency (気象庁防災情報XML), read as pure
values, and what a warning does: a roll-call of everyone when one of the levels the city chose
(レベル4危険警報 and レベル5特別警報 by default) is newly issued for 大雨, 土砂災害, 氾濫 or 高潮
in one of the city's municipalities, and the roll-call's question names it.

The formats (see docs/operating.md and tests/jma/README.md):
- 気象警報・注意報（Ｒ０６）（大雨／土砂／高潮）, VPWW55/56/57, since 2026-05-28: one Kind per
  municipality (Warning type 気象警報・注意報（市町村等）), named with its level
  (レベル４土砂災害危険警報) and coded by 別表3 of its 解説資料 (49);
- 指定河川洪水予報, whose kinds are the levelled 氾濫 warnings (レベル４氾濫危険警報);
- 気象特別警報報知 (VPNO50), JMA's bulletin sent the moment a 特別警報 is issued: its
  municipalities are in Head/Headline (Information 気象特別警報報知（市町村等）), its kinds named
  the legacy way (大雨特別警報, code 33), all レベル5. It is sent again while a special warning
  continues, naming every municipality still under one: like the summary, it states what is
  in force, and a special warning is new only if the office's previous bulletin did not name
  it (storm_reports.stated keeps what each named);
- 気象特別警報・警報・注意報 (VPWW53), the legacy summary kept until 2028: its 特別警報 kinds
  (大雨特別警報, 高潮特別警報) are レベル5, and a 危険警報 is written only in Body/Notice
  (〈レベル４大雨危険警報〉姫路市　たつの市…, by municipality name, placed by the codes of the
  same document's 市町村等 items). Its other kinds carry no level and are not read.
The legacy 気象警報・注意報（Ｈ２７） (VPWW54) repeats VPWW53 and is not fetched.

Why the bulletin and the summary too: on 2026-09-07 Tokyo's 大雨特別警報 (伊豆諸島北部) was
published in VPWW53, VPWW54 and VPNO50 while the R06 documents of that moment carried none of it
(tests/jma/storm/recorded/). Reading only R06 would have asked nobody on a レベル5 day. The
summary (and the bulletin) says what is in force rather than what changed, so a level it
states is new only when the office's previous document of its kind did not already state it
(or one higher): a warning that merely continues does not ask everyone again, and one seen
first in any document starts one roll-call.

De-duplication: a roll-call asks everyone, so while one the feed started is open, a warning at
the same level or lower (another hazard, another of the city's municipalities, the next
update of the same warning) starts none and the admins are told; a higher one (レベル4 then
レベル5) starts a new roll-call naming it, and the earlier one is closed (its answers stay in
its tally). A warning that continues (継続) or is lowered starts none. A 取消 starts none; if
the document it cancels had started a roll-call, that roll-call stays open (people may have
answered, asked for help; a question asked in vain harms nobody) and the admins are told,
who may close it."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from defusedxml import ElementTree

from care.broadcasts import rollcall
from care.broadcasts.reach import GroupSizes
from care.services import UnitOfWork

# Control/Title of the documents read, and the hazard each is about (None: any levelled one).
TITLES: dict[str, str | None] = {
    "気象警報・注意報（Ｒ０６）（大雨）": "rain",
    "気象警報・注意報（Ｒ０６）（土砂）": "landslide",
    "気象警報・注意報（Ｒ０６）（高潮）": "surge",
    "指定河川洪水予報": "flood",
    "気象特別警報報知": None,
    "気象特別警報・警報・注意報": None,
}
BULLETIN = "気象特別警報報知"  # VPNO50: read from its Head/Headline
SUMMARY = "気象特別警報・警報・注意報"  # VPWW53: its levels are stated, not changes
HAZARDS = {"大雨": "rain", "土砂災害": "landslide", "氾濫": "flood", "高潮": "surge"}
RANKS = {"注意報": 2, "警報": 3, "危険警報": 4, "特別警報": 5}
LEVELS = (2, 3, 4, 5)
# 気象警報・注意報（Ｒ０６） 別表3: the codes of the levelled kinds. A Kind whose code and name
# disagree is not guessed at: the document is skipped and recorded.
CODES = {
    "10": ("rain", 2), "03": ("rain", 3), "43": ("rain", 4), "33": ("rain", 5),
    "29": ("landslide", 2), "09": ("landslide", 3), "49": ("landslide", 4),
    "39": ("landslide", 5),
    "19": ("surge", 2), "08": ("surge", 3), "48": ("surge", 4), "38": ("surge", 5),
}  # fmt: skip
# The legacy names of the levelled 特別警報 (VPWW53, VPNO50), with their codes.
SPECIALS = {"大雨特別警報": ("rain", "33"), "高潮特別警報": ("surge", "38")}
# Kind/Status: 発表, 継続, 解除, 発表警報・注意報はなし, or a change (危険警報から特別警報).
ENDED = ("解除", "発表警報・注意報はなし")
_NAME = re.compile(r"^レベル([2-5])(大雨|土砂災害|氾濫|高潮)(特別警報|危険警報|警報|注意報)$")
_CHANGE = re.compile(r"^(特別警報|危険警報|警報|注意報)から(特別警報|危険警報|警報|注意報)$")
_WIDE = str.maketrans("０１２３４５６７８９", "0123456789")
# A line of VPWW53's Body/Notice: 〈レベル４大雨危険警報〉姫路市　たつの市　多可町＊
_NOTICE = re.compile(r"〈([^〉]+)〉([^〈\n]*)")

JMX = "{http://xml.kishou.go.jp/jmaxml1/}"
HEAD = "{http://xml.kishou.go.jp/jmaxml1/informationBasis1/}"
METEOROLOGY = "{http://xml.kishou.go.jp/jmaxml1/body/meteorology1/}"
HYDROLOGY = "{http://xml.kishou.go.jp/jmaxml1/body/hydrology1/}"
STATUSES = ("通常", "訓練", "試験")


@dataclass(frozen=True)
class Warning:
    area: str  # the municipality's code (1310100)
    hazard: str  # rain, landslide, flood, surge
    level: int  # 2-5
    rising: bool  # newly issued, or raised from a lower one: it may start a roll-call
    ended: bool = False
    # Read from a document that states what is in force (the summary VPWW53, the bulletin
    # VPNO50): new only if the office's previous one of its kind did not state it (on_report
    # decides, with what was recorded).
    stated: bool = False

    @property
    def occasion(self) -> str:
        return f"{self.hazard}:{self.level}"


@dataclass(frozen=True)
class StormReport:
    title: str
    office: str  # Control/EditorialOffice: with the title, what a 取消 refers to
    reported_at: datetime
    status: str  # Control/Status: 通常, 訓練 or 試験
    cancelled: bool  # Head/InfoType 取消
    warnings: tuple[Warning, ...]


def _text(parent: Any, path: str) -> str | None:
    element = parent.find(path)
    return None if element is None else (element.text or "").strip()


def level_of(name: str, code: str | None, hazard: str | None) -> tuple[str, int] | None:
    """(hazard, level) of a Kind's name (レベル４土砂災害危険警報), checked against its code and
    the document's hazard; None for a kind without a level (解除, 暴風警報). The legacy names of
    the 特別警報 (大雨特別警報) are レベル5. Raises ValueError for one that contradicts itself."""
    plain = name.translate(_WIDE).replace(" ", "").replace("　", "")
    if plain in SPECIALS:
        which, special_code = SPECIALS[plain]
        if hazard is not None and which != hazard:
            raise ValueError(f"a {which} warning in a {hazard} document: {name}")
        if code and code != special_code:
            raise ValueError(f"Kind/Code {code} is not {name}")
        return which, 5
    found = _NAME.match(plain)
    if found is None:
        return None
    level, which, rank = int(found[1]), HAZARDS[found[2]], found[3]
    if RANKS[rank] != level:
        raise ValueError(f"level and rank disagree: {name}")
    if hazard is not None and which != hazard:
        raise ValueError(f"a {which} warning in a {hazard} document: {name}")
    if code and which != "flood" and CODES.get(code) != (which, level):
        raise ValueError(f"Kind/Code {code} is not {name}")
    return which, level


def _rising(status: str | None, level: int) -> bool:
    if status is None or status == "発表":
        return True
    change = _CHANGE.match(status)
    return change is not None and RANKS[change[1]] < RANKS[change[2]] == level


def parse_report(text: str) -> StormReport | None:
    """A document of one of TITLES (R06, 指定河川洪水予報, the 特別警報 bulletin, the legacy
    summary); None for any other. Parsed with
    defusedxml (entities and DTDs refused), elements found by their namespace in JMA's schema.
    Raises ValueError for a document that is not one, whose Control/Status is missing or
    unknown, or whose kinds contradict themselves: it is skipped and recorded."""
    root = ElementTree.fromstring(text)
    if root.tag != f"{JMX}Report":
        raise ValueError(f"not a JMA report: {root.tag}")
    control = root.find(f"{JMX}Control")
    head = root.find(f"{HEAD}Head")
    if control is None or head is None:
        raise ValueError("no Control or Head")
    title = _text(control, f"{JMX}Title") or ""
    if title not in TITLES:
        return None
    status = _text(control, f"{JMX}Status")
    if status not in STATUSES:
        raise ValueError(f"Control/Status missing or unknown: {status!r}")
    reported_at = _text(head, f"{HEAD}ReportDateTime")
    if not reported_at:
        raise ValueError("no Head/ReportDateTime")
    cancelled = _text(head, f"{HEAD}InfoType") == "取消"
    if title == BULLETIN:
        warnings = _bulletin_warnings(head)
    else:
        warnings = _body_warnings(root, TITLES[title], stated=title == SUMMARY)
    bodies = [root.find(f"{ns}Body") for ns in (METEOROLOGY, HYDROLOGY)]
    if not cancelled and all(body is None for body in bodies):
        raise ValueError("no Body")
    return StormReport(
        title=title,
        office=_text(control, f"{JMX}EditorialOffice") or "",
        reported_at=datetime.fromisoformat(reported_at),
        status=status,
        cancelled=cancelled,
        warnings=tuple(warnings),
    )


def _areas(item: Any, ns: str) -> list[str]:
    """The municipality codes (seven digits) of an Item: a region's code is not the city's."""
    return [
        code
        for area in item.iter(f"{ns}Area")
        if (code := _text(area, f"{ns}Code")) and len(code) == 7 and code.isdigit()
    ]


def _body_warnings(root: Any, hazard: str | None, stated: bool) -> list[Warning]:
    warnings: list[Warning] = []
    for ns in (METEOROLOGY, HYDROLOGY):
        body = root.find(f"{ns}Body")
        if body is None:
            continue
        for item in body.iter(f"{ns}Item"):
            areas = _areas(item, ns)
            for kind in item.findall(f"{ns}Kind"):
                found = level_of(_text(kind, f"{ns}Name") or "", _text(kind, f"{ns}Code"), hazard)
                if found is None:
                    continue
                kind_status = _text(kind, f"{ns}Status")
                ended = kind_status in ENDED
                which, level = found
                rising = not ended and _rising(kind_status, level)
                warnings.extend(Warning(a, which, level, rising, ended, stated) for a in areas)
        if stated:
            warnings.extend(_notice_warnings(body, ns))
    return warnings


def _notice_warnings(body: Any, ns: str) -> list[Warning]:
    """The 危険警報 a summary's Body/Notice lists by municipality name, placed by the codes the
    same document gives those names; a name it does not list is nowhere we can tell."""
    notice = _text(body, f"{ns}Notice") or ""
    codes: dict[str, str] = {}
    for item in body.iter(f"{ns}Item"):
        for area in item.iter(f"{ns}Area"):
            name, code = _text(area, f"{ns}Name"), _text(area, f"{ns}Code")
            if name and code and len(code) == 7 and code.isdigit():
                codes[name] = code
    warnings = []
    for kind, names in _NOTICE.findall(notice):
        try:
            found = level_of(kind, None, None)
        except ValueError:
            # Free text beside the Body's kinds: a line that contradicts itself is passed
            # over, not the whole summary with the 特別警報 its Body states.
            continue
        if found is None:
            continue
        which, level = found
        for name in re.split(r"[\s　]+", names.strip()):
            code = codes.get(name.rstrip("＊*"))
            if code:
                warnings.append(Warning(code, which, level, False, stated=True))
    return warnings


def _bulletin_warnings(head: Any) -> list[Warning]:
    """A 気象特別警報報知 lists every municipality under a 特別警報 when it is sent, those whose
    special warning continues among them (JMA sends it again: 福井県, 2026-08-30): what it
    names is stated, and new only if the office's previous bulletin did not name it (its
    解除 names none), as a summary's (on_report)."""
    warnings = []
    headline = head.find(f"{HEAD}Headline")
    for item in [] if headline is None else headline.iter(f"{HEAD}Item"):
        areas = _areas(item, HEAD)
        for kind in item.findall(f"{HEAD}Kind"):
            found = level_of(_text(kind, f"{HEAD}Name") or "", _text(kind, f"{HEAD}Code"), None)
            if found is not None:
                warnings.extend(Warning(a, found[0], found[1], False, stated=True) for a in areas)
    return warnings


@dataclass(frozen=True)
class StormSettings:
    areas: frozenset[str]  # the city's municipality codes (1310100)
    levels: frozenset[int]  # the levels that start a roll-call: 4 and 5 by default
    drills: bool = False  # 訓練 and 試験 documents start roll-calls too (a drill day)


def _level(occasion: str | None) -> int:
    return int(occasion.rsplit(":", 1)[1]) if occasion else 0


def _stated(row: dict[str, Any]) -> set[str]:
    """The warnings a document read named in force in the city (its strongest, for one
    recorded before they were kept)."""
    if row.get("stated"):
        return set(str(row["stated"]).split(","))
    return {row["warning"]} if row.get("warning") else set()


async def on_report(
    work: UnitOfWork,
    document: str,
    report: StormReport,
    settings: StormSettings,
    quota_left: int | None = None,
    sizes: GroupSizes | None = None,
) -> str:
    """What the document does; -> started, already, below, elsewhere, drill or cancelled.
    Each document once."""
    repos = work.repos
    mine = [w for w in report.warnings if w.area in settings.areas and not w.ended]
    # When JMA says it issued the document, but never later than it is read: a document
    # dated ahead (a wrong clock) would otherwise stand as the office's latest word for good.
    reported_at = min(report.reported_at, work.now)
    if any(w.stated and not w.rising for w in mine):
        # A summary (or a bulletin) states what is in force: new only above what the
        # office's previous one of its kind stated here (a first one's warnings are new to
        # us). One that comes late (its fetch failed at its poll) is read against the one
        # issued before it, and against those read since: what a later one stated was asked
        # about then, and is not asked again; what none stated yet still asks, late as it is.
        before = await repos.storms.last_read(report.office, report.title, reported_at)
        read = [before, *await repos.storms.read_after(report.office, report.title, reported_at)]
        rows = [row for row in read if row is not None]
        if report.title == BULLETIN:
            # Every special warning is レベル5: one is new if no bulletin named it (another
            # hazard's, beside one in force, is), and there is no lowering to read.
            named = {w for row in rows for w in _stated(row)}
            mine = [replace(w, rising=True) if w.occasion not in named else w for w in mine]
        else:
            known = max([_level(row["warning"]) for row in rows], default=0)
            mine = [replace(w, rising=True) if w.stated and w.level > known else w for w in mine]
    strongest = max(mine, key=lambda w: w.level) if mine else None
    chosen = [w for w in mine if w.rising and w.level in settings.levels]
    top = max(chosen, key=lambda w: w.level) if chosen else None
    warning = (top or strongest).occasion if (top or strongest) else None
    roll_call_id = None
    detail = f"{report.title} {warning or ''}".strip()
    if report.status != "通常" and not settings.drills:
        action = "drill"  # a 訓練 or 試験 document: recorded, starts nothing
    elif report.cancelled:
        action = "cancelled"
        earlier = await repos.storms.last_started_by(report.office, report.title)
        call = await repos.rollcalls.get(earlier["roll_call_id"]) if earlier else None
        if call is not None and call.open:
            # It stays open: who answered, or asked for help, is not undone by a 取消.
            roll_call_id, warning = call.id, earlier["warning"] if earlier else None
            await repos.admin.audit(
                "気象庁", "storm_cancelled", f"{report.title} roll-call {call.id}", work.now
            )
    elif strongest is None:
        action = "elsewhere"
    elif top is None:
        action = "below"  # below the levels chosen, or one that continues or was lowered
    else:
        opened = await repos.storms.open_started()
        if opened and max(_level(o["warning"]) for o in opened) >= top.level:
            action = "already"
            roll_call_id = opened[0]["roll_call_id"]
            await repos.admin.audit(
                "気象庁", "storm_already", f"{detail} roll-call {roll_call_id}", work.now
            )
        else:
            action = "started"
            # Started by the JMA feed: a declared disaster (49条の11 第3項, care.roster).
            roll_call_id = await rollcall.start_from_feed(
                work, f"気象庁 {report.title}", "storm", sizes, quota_left, top.occasion
            )
            for earlier in opened:
                # A graver warning asks everyone again; the lesser roll-call's re-asks stop.
                await rollcall.close(work, earlier["roll_call_id"])
            await repos.admin.audit(
                "気象庁", "storm_started", f"{detail} roll-call {roll_call_id}", work.now
            )
    await repos.storms.record(
        document,
        report.title,
        report.office,
        warning,
        action,
        roll_call_id,
        work.now,
        reported_at,
        frozenset(w.occasion for w in mine if w.stated),
    )
    return action
