"""A stand-in for the JMA earthquake feed (気象庁防災情報XML), for the simulator's 「地震」 button:
each quake is a 震度速報 document of 震度5強 in 東京都２３区, the demo's configured area."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from aiohttp import web

AREA = "350"  # 東京都２３区
TOKYO = ZoneInfo("Asia/Tokyo")

_DOCUMENT = """<?xml version="1.0" encoding="UTF-8"?>
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


class JmaStandIn:
    def __init__(self) -> None:
        self.documents: list[str] = []
        self.base_url = ""

    def quake(self, now: datetime) -> None:
        local = now.astimezone(TOKYO)
        self.documents.append(
            _DOCUMENT.format(
                at=local.isoformat(timespec="seconds"),
                event=local.strftime("%Y%m%d%H%M%S"),
                area=AREA,
            )
        )

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/jma/eqvol.xml", self.feed)
        app.router.add_get("/jma/data/{number}.xml", self.document)

    async def feed(self, request: web.Request) -> web.Response:
        entries = "".join(
            f'<entry><title>震度速報</title><id>urn:quake:{n}</id><link href="{self.base_url}'
            f'/jma/data/{n}.xml"/></entry>'
            for n in reversed(range(len(self.documents)))
        )
        body = f'<feed xmlns="http://www.w3.org/2005/Atom"><title>eqvol</title>{entries}</feed>'
        return web.Response(text=body, content_type="application/atom+xml")

    async def document(self, request: web.Request) -> web.Response:
        number = int(request.match_info["number"])
        if not 0 <= number < len(self.documents):
            raise web.HTTPNotFound()
        return web.Response(text=self.documents[number], content_type="application/xml")
