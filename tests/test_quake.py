"""The JMA earthquake feed starts a roll-call for a strong enough quake in the city's areas,
none for a weaker one or another area, and only tells the admins of a second within 6 hours.
The feed is a stand-in on loopback serving recorded 気象庁防災情報XML documents (tests/jma/)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestServer

from scheduler.quakes import QuakePoller
from tests.conftest import Bot
from tests.flows import watched_resident
from tests.test_admin import add_admin, login
from tests.wording import said, says

DOCUMENTS = Path(__file__).resolve().parent / "jma"


class JmaFeed:
    """The eqvol Atom feed: the documents published so far, newest first, as JMA lists them."""

    def __init__(self) -> None:
        self.published: list[tuple[str, str]] = []  # (URL name, file)
        self.url = ""

    def publish(self, file: str, name: str | None = None) -> None:
        self.published.insert(0, (name or file, file))

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/eqvol.xml", self.feed)
        app.router.add_get("/data/{name}", self.document)
        return app

    async def feed(self, request: web.Request) -> web.Response:
        entries = "".join(
            f"<entry><title>{'震源・震度に関する情報' if 'vxse53' in file else '震度速報'}</title>"
            f"<id>urn:{name}</id><updated>2026-11-23T01:02:10Z</updated>"
            f'<link type="application/xml" href="{self.url}/data/{name}"/></entry>'
            for name, file in self.published
        )
        body = f'<feed xmlns="http://www.w3.org/2005/Atom"><title>eqvol</title>{entries}</feed>'
        return web.Response(text=body, content_type="application/atom+xml")

    async def document(self, request: web.Request) -> web.Response:
        files = dict(self.published)
        name = request.match_info["name"]
        if name not in files:
            raise web.HTTPNotFound()
        text = (DOCUMENTS / files[name]).read_text("utf-8")
        return web.Response(text=text, content_type="application/xml")


async def test_the_jma_feed_starts_one_roll_call_for_a_strong_quake_in_the_city(
    start_bot: Callable[..., Awaitable[Bot]], aiohttp_server: Callable[..., Awaitable[TestServer]]
) -> None:
    jma = JmaFeed()
    server = await aiohttp_server(jma.app())
    jma.url = str(server.make_url("")).rstrip("/")
    bot = await start_bot(jma_areas=frozenset({"350"}), jma_feed_url=f"{jma.url}/eqvol.xml")
    resident, (son,) = await watched_resident(bot, "resident", ["son"])
    poller = QuakePoller(bot.services)

    jma.publish("vxse51_23ku_3.xml")  # 震度3 in 東京都２３区: below the threshold
    jma.publish("vxse53_osaka_5plus.xml")  # 震度5強, but in 大阪
    assert await poller.poll() == ["below", "elsewhere"]
    await bot.settle()
    assert said(bot.line.texts_to(resident), "rollcall.body") == []

    jma.publish("vxse51_23ku_5plus.xml")  # 震度5強 in the city
    assert await poller.poll() == ["started"]
    await bot.settle()
    assert len(said(bot.line.texts_to(resident), "rollcall.body")) == 1
    assert await poller.poll() == [], "each report once"

    bot.clock.advance(timedelta(hours=4))
    jma.publish("vxse51_23ku_5minus_aftershock.xml")  # 震度5弱, four hours later
    assert await poller.poll() == ["aftershock"]
    await bot.settle()
    assert len(said(bot.line.texts_to(resident), "rollcall.body")) == 1, "not sent again"
    async with bot.repos() as repos:
        actions = [entry["action"] for entry in await repos.admin.audit_log()]
    assert "jma_aftershock" in actions and "jma_started" in actions
    await add_admin(bot)
    await login(bot.client)
    page = await (await bot.client.get("/admin/rollcalls")).text()
    assert says(page, "admin.rollcalls.aftershock", max_int="5-"), "the admins are told"

    bot.clock.advance(timedelta(hours=3))  # past the 6-hour window: a new quake is asked about
    jma.publish("vxse51_23ku_5plus.xml", name="next-quake.xml")
    assert await poller.poll() == ["started"]
