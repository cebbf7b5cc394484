"""A stand-in for the feeds of the worst days, for the simulator's 「地震」, 「大雨警報」 and
「熱中症アラート」 buttons and the tour: JMA's earthquake feed (eqvol.xml, 気象庁防災情報XML),
its warnings feed (extra.xml) and the Ministry of the Environment's alert files
(熱中症警戒アラート, www.wbgt.env.go.jp's alert/dl/). Each document is a copy of a test fixture
(simulator/feeds/README.md) or, for a quake, a 震度速報 of 震度5強 in 東京都２３区, with its dates
moved to the demo's clock where it has any, served at the path the real feed uses; the bot's
own pollers read them as they would the real ones."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from aiohttp import web

FEEDS = Path(__file__).resolve().parent / "feeds"
TOKYO = ZoneInfo("Asia/Tokyo")
QUAKE_AREA = "350"  # 東京都２３区, the demo's configured area
HEAT_AREA = "130000"  # 東京都's 府県予報区, as the alert file names it
STORM_AREA = "1310100"  # 千代田区, the municipality the warning names
REGISTER = FEEDS / "register.csv"

# JMA's two feeds the demo reads, by the name of their Atom file.
QUAKES, WARNINGS = "eqvol", "extra"
QUAKE_TITLE = "震度速報"
_QUAKE = """<?xml version="1.0" encoding="UTF-8"?>
<Report xmlns="http://xml.kishou.go.jp/jmaxml1/">
<Control><Title>震度速報</Title><Status>通常</Status><PublishingOffice>気象庁</PublishingOffice></Control>
<Head xmlns="http://xml.kishou.go.jp/jmaxml1/informationBasis1/">
<Title>震度速報</Title><ReportDateTime>{at}</ReportDateTime><EventID>{event}</EventID>
<InfoType>発表</InfoType><InfoKind>震度速報</InfoKind>
</Head>
<Body xmlns="http://xml.kishou.go.jp/jmaxml1/body/seismology1/"><Intensity><Observation>
<MaxInt>5+</MaxInt><Pref><Name>東京都</Name><Code>13</Code><MaxInt>5+</MaxInt>
<Area><Name>東京都２３区</Name><Code>{area}</Code><MaxInt>5+</MaxInt></Area></Pref>
</Observation></Intensity></Body>
</Report>"""
_WARNING = "vpww56_chiyoda_level4.xml"
WARNING_TITLE = "気象警報・注意報（Ｒ０６）（土砂）"
# The 17:00 file: its own day says 9 (outside the hours), the next day 1 (アラート).
_ALERT_FILE = "alert_20270802_17.csv"
_FILE_DAY, _NEXT_DAY = "2027/08/02", "2027/08/03"
ALERT_HOUR = 17


def alert_day(now: datetime) -> date:
    """The day the newest 17:00 file published by `now` puts under the alert: tomorrow from
    17:00 on, today before (yesterday evening's file)."""
    local = now.astimezone(TOKYO)
    return local.date() + timedelta(days=1 if local.hour >= ALERT_HOUR else 0)


@dataclass
class _Entry:
    title: str
    text: str


@dataclass
class FeedStandIn:
    """JMA's feeds list each document published (a quake, each press of the warning), newest
    first, each at a URL of its own; the Ministry's alert files are there by their day and
    hour, the 17:00 file of a day one at a time as published, any other hour's not there (a
    404, as before the Ministry publishes it)."""

    base_url: str = ""
    published: dict[str, list[_Entry]] = field(default_factory=lambda: {QUAKES: [], WARNINGS: []})
    alerts: dict[str, bytes] = field(default_factory=dict)  # "YYYYMMDD_HH": the file

    def quake(self, now: datetime) -> None:
        local = now.astimezone(TOKYO)
        at, event = local.isoformat(timespec="seconds"), local.strftime("%Y%m%d%H%M%S")
        text = _QUAKE.format(at=at, event=event, area=QUAKE_AREA)
        self.published[QUAKES].append(_Entry(QUAKE_TITLE, text))

    def warn(self) -> None:
        text = (FEEDS / _WARNING).read_text("utf-8")
        self.published[WARNINGS].append(_Entry(WARNING_TITLE, text))

    def alert(self, now: datetime) -> date:
        """The newest 17:00 file by `now` says the next day is a 熱中症警戒アラート day.
        -> that day."""
        day = alert_day(now) - timedelta(days=1)  # the file's own day
        text = (FEEDS / _ALERT_FILE).read_text("utf-8-sig")
        text = text.replace(_NEXT_DAY, f"{day + timedelta(days=1):%Y/%m/%d}")
        text = text.replace(_FILE_DAY, f"{day:%Y/%m/%d}")
        self.alerts[f"{day:%Y%m%d}_{ALERT_HOUR:02d}"] = text.encode()
        return day + timedelta(days=1)

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/jma/{feed:eqvol|extra}.xml", self.feed)
        app.router.add_get("/jma/{feed:eqvol|extra}/{number:\\d+}.xml", self.document)
        app.router.add_get("/alert/dl/{year}/alert_{stamp}.csv", self.alert_file)

    async def feed(self, request: web.Request) -> web.Response:
        name = request.match_info["feed"]
        listed = self.published[name]
        entries = "".join(
            f"<entry><title>{listed[n].title}</title><id>urn:{name}:{n}</id>"
            f'<link type="application/xml" href="{self.base_url}/jma/{name}/{n}.xml"/></entry>'
            for n in reversed(range(len(listed)))
        )
        body = f'<feed xmlns="http://www.w3.org/2005/Atom"><title>{name}</title>{entries}</feed>'
        return web.Response(text=body, content_type="application/atom+xml")

    async def document(self, request: web.Request) -> web.Response:
        listed = self.published[request.match_info["feed"]]
        number = int(request.match_info["number"])
        if number >= len(listed):
            raise web.HTTPNotFound()
        return web.Response(text=listed[number].text, content_type="application/xml")

    async def alert_file(self, request: web.Request) -> web.Response:
        body = self.alerts.get(request.match_info["stamp"])
        if body is None or not request.match_info["stamp"].startswith(request.match_info["year"]):
            raise web.HTTPNotFound()
        return web.Response(body=body, content_type="text/csv")
