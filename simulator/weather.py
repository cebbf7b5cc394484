"""Stand-ins for the feeds of the worst days, for the simulator's 「熱中症アラート」 and
「大雨警報」 buttons and the tour: the Ministry of the Environment's alert files
(熱中症警戒アラート, www.wbgt.env.go.jp's alert/dl/) and JMA's warnings feed (extra.xml).
Each serves a copy of a test fixture (simulator/feeds/README.md) at the path the real feed
uses, and the bot's own pollers read it as they would the real one's."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from aiohttp import web

FEEDS = Path(__file__).resolve().parent / "feeds"
TOKYO = ZoneInfo("Asia/Tokyo")
HEAT_AREA = "130000"  # 東京都's 府県予報区, as the alert file names it
STORM_AREA = "1310100"  # 千代田区, the municipality the warning names
REGISTER = FEEDS / "register.csv"

# The 17:00 file: its own day says 9 (outside the hours), the next day 1 (アラート).
_ALERT_FILE = "alert_20270802_17.csv"
_FILE_DAY, _NEXT_DAY = "2027/08/02", "2027/08/03"
ALERT_HOUR = 17
_WARNING = "vpww56_chiyoda_level4.xml"
WARNING_TITLE = "気象警報・注意報（Ｒ０６）（土砂）"


def alert_day(now: datetime) -> date:
    """The day the newest 17:00 file published by `now` puts under the alert: tomorrow from
    17:00 on, today before (yesterday evening's file)."""
    local = now.astimezone(TOKYO)
    return local.date() + timedelta(days=1 if local.hour >= ALERT_HOUR else 0)


class HeatStandIn:
    """The Ministry's alert files: the 17:00 file of a day, one at a time as published; any
    other hour's is not there (a 404, as before the Ministry publishes it)."""

    def __init__(self) -> None:
        self.alerts: dict[str, bytes] = {}  # "YYYYMMDD_HH": the file

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
        app.router.add_get("/alert/dl/{year}/alert_{stamp}.csv", self.alert_file)

    async def alert_file(self, request: web.Request) -> web.Response:
        body = self.alerts.get(request.match_info["stamp"])
        if body is None or not request.match_info["stamp"].startswith(request.match_info["year"]):
            raise web.HTTPNotFound()
        return web.Response(body=body, content_type="text/csv")


class StormStandIn:
    """JMA's extra.xml: each press publishes the レベル４土砂災害危険警報 for 千代田区 anew (a new
    document, at a URL of its own), newest first, as JMA lists them."""

    def __init__(self) -> None:
        self.documents: list[str] = []
        self.base_url = ""

    def warn(self) -> None:
        self.documents.append((FEEDS / _WARNING).read_text("utf-8"))

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/jma/extra.xml", self.feed)
        app.router.add_get("/jma/warnings/{number}.xml", self.document)

    async def feed(self, request: web.Request) -> web.Response:
        entries = "".join(
            f"<entry><title>{WARNING_TITLE}</title><id>urn:warning:{n}</id>"
            f'<link type="application/xml" href="{self.base_url}/jma/warnings/{n}.xml"/></entry>'
            for n in reversed(range(len(self.documents)))
        )
        body = f'<feed xmlns="http://www.w3.org/2005/Atom"><title>extra</title>{entries}</feed>'
        return web.Response(text=body, content_type="application/atom+xml")

    async def document(self, request: web.Request) -> web.Response:
        number = int(request.match_info["number"])
        if not 0 <= number < len(self.documents):
            raise web.HTTPNotFound()
        return web.Response(text=self.documents[number], content_type="application/xml")
