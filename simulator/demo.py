"""`mimamori demo`: the real server and a stand-in LINE platform, on loopback, with phones.

Two web servers in one process: the bot (exactly as `mimamori serve` builds it, configured to
talk to the stand-in) and the simulator (the stand-in LINE platform plus the phones page).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import tempfile
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.dispatch import DISPATCHER
from bot.forwarding import FORWARDER
from care.roster import importing
from care.services import SERVICES, Services
from ground.branding import load_branding
from ground.clock import FakeClock
from ground.i18n import I18n, Locale
from ground.line_api import LineCallFailed
from ground.logs import RouteAccessLogger
from ground.rich_menu import TAB_ALIAS, MenuKind, RichMenuError, Tile, definition, draw
from ground.settings import Settings
from scheduler import rich_menus
from scheduler.engine import ENGINE
from scheduler.heat import HeatPoller
from server.app import create_app
from simulator import console, telephone, weather
from simulator import tour as tours
from simulator import web as simulator_web
from simulator.city import ASKS_GARBAGE_DAY, CitySystem
from simulator.platform import LinePlatform
from simulator.simulator import Simulator

log = logging.getLogger("mimamori.demo")

DEMO_SECRET = "demo-channel-secret"  # a demo's own; it protects nothing real
CITY_PATH = "/city/webhook"  # the city's own system, on the stand-in's server
CITY_MENU_ALIAS = "city-main"
GARBAGE_WORDS = ASKS_GARBAGE_DAY[0]
DEMO_LOGIN_CHANNEL = "1000000000"
HOST = "127.0.0.1"  # loopback only: the simulator is for one laptop
DEMO_CALL_BUDGET = 100  # calls a month


def demo_settings(port: int, database: Path) -> Settings:
    line = f"http://{HOST}:{port + 1}"
    return Settings(
        channel_secret=DEMO_SECRET,
        channel_access_token="demo-access-token",
        line_api_base_url=line,
        database=database,
        host=HOST,
        port=port,
        public_url=f"http://{HOST}:{port}",
        sweep_interval=timedelta(seconds=5),
        login_channel_id=DEMO_LOGIN_CHANNEL,
        liff_id=f"{DEMO_LOGIN_CHANNEL}-demo",
        liff_sdk_url=f"{line}/liff-sdk.js",
        # The 「地震」 button: the stand-in JMA feed reports a quake in this area.
        jma_areas=frozenset({weather.QUAKE_AREA}),
        jma_feed_url=f"{line}/jma/eqvol.xml",
        jma_interval=timedelta(days=1),  # read when the button is pressed, not by the clock
        # The 「大雨警報」 button: the stand-in extra.xml warns 千代田区 (storms' interval is
        # the quakes').
        storm_areas=frozenset({weather.STORM_AREA}),
        storm_feed_url=f"{line}/jma/extra.xml",
        # The 「熱中症アラート」 button: the stand-in Ministry's alert files, for 東京都; the
        # heat check at the city's hour (10:00) of the alert day.
        heat_areas=frozenset({weather.HEAT_AREA}),
        heat_alert_base=f"{line}/alert/dl/",
        heat_interval=timedelta(days=1),
        # The 社協 desk: an alert nobody takes, even sent again, is a case an hour later.
        desk_after=timedelta(hours=1),
        # The city's own account, shared with its other system (the stand-in answers
        # 「ごみの日」): mimamori in front of it, its menu a tab of the city's, no quota.
        shared_account=True,
        forward_url=f"{line}{CITY_PATH}",
        menus="tab",
        city_menu_alias=CITY_MENU_ALIAS,
        unlimited_messages=True,
        # The landline: calls go to a stand-in Twilio on the stand-in's server, and ring in
        # the simulator's handset.
        twilio_account_sid=telephone.ACCOUNT_SID,
        twilio_auth_token=telephone.AUTH_TOKEN,
        twilio_from=telephone.FROM,
        twilio_api_base_url=line,
        # Calls cost money, so a deployment sets a month's budget; the demo's is one a small
        # town might set, so the quota page shows calls within it rather than a budget of 0
        # spent while the landline rings.
        call_budget=DEMO_CALL_BUDGET,
    )


def city_menu(locale: Locale, settings: Settings) -> tuple[dict[str, Any], bytes]:
    """The city's own menu, as its vendor made it: 「ごみの日」, and a tab to mimamori's."""
    menu_tiles = [
        Tile("city_stand_in.garbage_tile", {"type": "message", "text": GARBAGE_WORDS}),
        Tile(
            "city_stand_in.mimamori_tile",
            {"type": "richmenuswitch", "richMenuAliasId": TAB_ALIAS, "data": "city-tab=mimamori"},
        ),
    ]
    for tile in menu_tiles:
        tile.action["label"] = locale.t(tile.label_key)
    picture = draw(locale, menu_tiles, load_branding(settings.branding))
    return definition(MenuKind.TAB, locale, menu_tiles) | {"name": "city"}, picture


class Demo:
    """Both servers, started and stopped together."""

    def __init__(self, port: int, database: Path | None = None, pace: float = 1.5) -> None:
        os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
        if database is None:
            database = Path(tempfile.mkdtemp(prefix="mimamori-demo-")) / "demo.db"
        self.settings = demo_settings(port, database)
        now = datetime.now(UTC).replace(second=0, microsecond=0)
        self.clock = FakeClock(now)
        self.platform = LinePlatform(now=self.clock.now)
        self.bot_app = create_app(self.settings, clock=self.clock)
        # The bot's own wording (with the deployment's overrides): the tour finds buttons by it.
        self.locale = I18n.load(self.settings.timezone, self.settings.locale_overrides).get(None)
        self.pace = pace
        self._runners: list[web.AppRunner] = []
        self.simulator: Simulator | None = None
        # The stand-in feeds a tour step sets off (the 「地震」 button's quake among them).
        self.feeds = tours.Feeds()

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.settings.port + 1}/"

    async def start(self) -> None:
        bot_runner = web.AppRunner(self.bot_app, access_log_class=RouteAccessLogger)
        await bot_runner.setup()
        engine = self.bot_app[ENGINE]
        self.simulator = Simulator(
            self.platform,
            self.clock,
            f"http://{HOST}:{self.settings.port}",
            DEMO_SECRET,
            DEMO_LOGIN_CHANNEL,
            engine.sweep,
            engine.next_due,
            self.settings.timezone,
            settle=self._settle,
        )
        await self.simulator.start()
        tours.seed(self.simulator)
        simulator = self.simulator

        self.desk_staff = await console.add_staff(self.bot_app[SERVICES])
        await import_register(self.bot_app[SERVICES])
        self.codes = codes = console.Codes(self.desk_staff.totp_key, self.clock.now)
        console_url = f"http://{HOST}:{self.settings.port}/admin/"
        log.info(
            "the console: %s (name %s, password %s, authenticator key %s)",
            console_url,
            console.STAFF_NAME,
            self.desk_staff.password,
            self.desk_staff.totp_key,
        )
        # The phones page shows the console's door with this login, and the code an
        # authenticator would show at the demo's clock (a real one follows the real clock).
        simulator.console = lambda: {
            "url": console_url,
            "name": console.STAFF_NAME,
            "password": self.desk_staff.password,
            "code": codes.shown(),
        }

        async def play() -> None:
            url = f"http://{HOST}:{self.settings.port}"
            desk = console.Console(url, self.desk_staff, self.clock.now, codes)
            try:
                await tours.Tour(simulator, self.locale, self.pace, desk, self.feeds).run()
            finally:
                await desk.close()

        sim_app = self._simulator_app(simulator, play)
        sim_runner = web.AppRunner(sim_app)
        await sim_runner.setup()
        # The stand-in LINE must answer before the bot's first sweep calls it.
        await web.TCPSite(sim_runner, HOST, self.settings.port + 1).start()
        await web.TCPSite(bot_runner, HOST, self.settings.port).start()
        self._runners = [bot_runner, sim_runner]
        self.play = play
        try:
            # The phones show the rich menus under their chats, as LINE would.
            await rich_menus.install(self.bot_app[SERVICES])
            await rich_menus.link_due(self.bot_app[SERVICES])
        except (RichMenuError, LineCallFailed) as error:
            log.warning("the phones show no rich menu: %s", error)

    def _simulator_app(
        self, simulator: Simulator, play: Callable[[], Awaitable[None]]
    ) -> web.Application:
        """The simulator's page and the stand-ins beside the stand-in LINE: JMA's quake and
        warnings feeds, the Ministry of the Environment's heat alert files, Twilio's phones,
        and the city's own system on the shared account."""
        stand_in = weather.FeedStandIn(f"http://{HOST}:{self.settings.port + 1}")
        services = self.bot_app[SERVICES]

        async def earthquake() -> None:
            stand_in.quake(self.clock.now())
            poller = self.bot_app[ENGINE].quakes
            if poller is not None:
                await poller.poll()
            await self._settle()

        async def storm() -> None:
            stand_in.warn()
            poller = self.bot_app[ENGINE].storms
            if poller is not None:
                await poller.poll()
            await self._settle()

        async def heat_alert() -> None:
            # Read at once, as the real feed's poll would some minutes after 17:00.
            stand_in.alert(self.clock.now())
            await HeatPoller(services).poll()
            await self._settle()

        self.feeds = tours.Feeds(quake=earthquake, storm=storm, heat=heat_alert)
        sim_app = simulator_web.make_app(self.platform, simulator, play, self.feeds)
        stand_in.add_routes(sim_app)
        phones = telephone.TwilioStandIn()
        phones.add_routes(sim_app)
        simulator.attach_telephone(phones)
        self.city = CitySystem(DEMO_SECRET, line_url=f"http://{HOST}:{self.settings.port + 1}")
        self.city.add_routes(sim_app, CITY_PATH)
        menu, picture = city_menu(self.locale, self.settings)
        self.platform.add_city_menu(CITY_MENU_ALIAS, menu, picture)
        return sim_app

    async def _settle(self) -> None:
        await self.bot_app[DISPATCHER].idle()
        await self.bot_app[ENGINE].idle()
        if FORWARDER in self.bot_app:
            await self.bot_app[FORWARDER].idle()

    async def stop(self) -> None:
        for runner in self._runners:
            await runner.cleanup()
        if self.simulator is not None:
            await self.simulator.close()


async def import_register(services: Services) -> None:
    """The city's 避難行動要支援者名簿, as its staff would import it in the console: a sample
    with a person who has no LINE and a landline (rung in a roll-call), and one with no phone
    (never asked, and the tally by 担当 says why). Imported again, it changes nothing."""
    text = weather.REGISTER.read_text("utf-8-sig")
    async with services.unit_of_work() as work:
        found = await importing.preview(work, text, "utf-8")
        await importing.commit(work, text, "utf-8", found.state, console.STAFF_NAME)


async def run_demo(port: int, script: str | None) -> None:
    demo = Demo(port)
    await demo.start()
    print(
        f"mimamori demo: open {demo.url} (the bot itself is on http://{HOST}:{port}/)", flush=True
    )
    if script == "tour":
        await demo.play()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await demo.stop()
