"""The simulator's web side: the stand-in LINE platform's endpoints and the phones page."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Coroutine
from datetime import timedelta
from pathlib import Path
from typing import Any

from aiohttp import web

from simulator.platform import LinePlatform
from simulator.simulator import Simulator
from simulator.tour import Feeds

STATIC = Path(__file__).resolve().parent / "static"
SIMULATOR = web.AppKey("simulator", Simulator)
FEEDS = web.AppKey("feeds", Feeds)
TOUR: web.AppKey[Callable[[], Coroutine[Any, Any, None]]] = web.AppKey("tour")
STEPS = {"1h": timedelta(hours=1), "1d": timedelta(days=1), "3h": timedelta(hours=3)}


def make_app(
    platform: LinePlatform,
    simulator: Simulator,
    tour: Callable[[], Coroutine[Any, Any, None]],
    feeds: Feeds | None = None,
) -> web.Application:
    app = platform.make_app()
    app[SIMULATOR] = simulator
    app[TOUR] = tour
    app[FEEDS] = feeds or Feeds()
    # 「地震」「熱中症アラート」「大雨警報」: a stand-in feed publishes, the bot's poller reads.
    app.router.add_post("/api/{feed:quake|heat|storm}", publish)
    app.router.add_get("/", page)
    app.router.add_static("/static", STATIC)
    app.router.add_get("/api/state", state)
    app.router.add_get("/api/richmenu/{menu_id}.png", rich_menu_image)
    app.router.add_post("/api/people", add_person)
    app.router.add_post("/api/people/{key}/{act}", person_act)
    app.router.add_post("/api/groups", add_group)
    app.router.add_post("/api/groups/{key}/{act}", group_act)
    app.router.add_post("/api/clock", clock)
    app.router.add_post("/api/calls/{sid}/{act}", call_act)
    app.router.add_post("/api/tour", start_tour)
    app.router.add_get("/mypage/{key}", my_page)
    return app


async def page(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "simulator.html")


async def state(request: web.Request) -> web.Response:
    return web.json_response(request.app[SIMULATOR].state())


async def rich_menu_image(request: web.Request) -> web.Response:
    picture = request.app[SIMULATOR].platform.rich_menu_images.get(request.match_info["menu_id"])
    if picture is None:
        raise web.HTTPNotFound(text="no such rich menu")
    return web.Response(body=picture, content_type="image/png")


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except (ValueError, json.JSONDecodeError):
        raise web.HTTPBadRequest(text="JSON expected") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="JSON object expected")
    return body


def _person(request: web.Request) -> str:
    key = request.match_info["key"]
    if key not in request.app[SIMULATOR].people:
        raise web.HTTPNotFound(text="no such person")
    return key


def _group(request: web.Request, body: dict[str, Any]) -> str | None:
    group = body.get("group")
    if group is not None and group not in request.app[SIMULATOR].groups:
        raise web.HTTPNotFound(text="no such group")
    return group


async def add_person(request: web.Request) -> web.Response:
    body = await _body(request)
    language = "en" if body.get("language") == "en" else "ja"
    person = request.app[SIMULATOR].add_person(str(body.get("name", "")), language)
    return web.json_response({"key": person.key})


async def person_act(request: web.Request) -> web.Response:
    simulator, key = request.app[SIMULATOR], _person(request)
    act = request.match_info["act"]
    body = await _body(request)
    group = _group(request, body)
    answer: dict[str, Any] = {"ok": True}
    if act == "follow":
        await simulator.follow(key)
    elif act == "block":
        await simulator.block(key)
    elif act == "say":
        await simulator.say(key, str(body.get("text", "")), group)
    elif act == "tap":
        await simulator.tap(key, str(body.get("data", "")), str(body.get("shown", "")), group)
    elif act == "switch":
        alias, data = str(body.get("alias", "")), str(body.get("data", ""))
        await simulator.switch_menu(key, alias, data)
    elif act == "scan":
        # A QR image the bot sent: read it like a camera, then open what it says.
        found = await simulator.scan(str(body.get("image", "")))
        answer["text"] = simulator.opened_link(found) if found else None
        answer["read"] = found
    elif act == "device":
        answer["status"] = await simulator.device(key)
    elif act == "open":
        link = str(body.get("uri", ""))
        answer["text"] = simulator.opened_link(link)
        path = simulator.liff_path(link)
        answer["url"] = simulator.my_page(key, path) if path else None
    else:
        raise web.HTTPNotFound(text="unknown action")
    return web.json_response(answer)


async def add_group(request: web.Request) -> web.Response:
    body = await _body(request)
    simulator = request.app[SIMULATOR]
    members = [m for m in body.get("members", []) if m in simulator.people]
    group = simulator.add_group(str(body.get("name", "")), members)
    return web.json_response({"key": group.key})


async def group_act(request: web.Request) -> web.Response:
    simulator = request.app[SIMULATOR]
    key = request.match_info["key"]
    if key not in simulator.groups:
        raise web.HTTPNotFound(text="no such group")
    body = await _body(request)
    act = request.match_info["act"]
    if act == "invite-bot":
        await simulator.bot_joins(key)
    elif act == "remove-bot":
        await simulator.bot_leaves(key)
    elif act == "add-member" and body.get("person") in simulator.people:
        await simulator.member_joins(key, body["person"])
    else:
        raise web.HTTPBadRequest(text="unknown action")
    return web.json_response({"ok": True})


async def clock(request: web.Request) -> web.Response:
    body = await _body(request)
    simulator = request.app[SIMULATOR]
    step = str(body.get("advance", ""))
    if step == "next":
        await simulator.advance_to_next_due()
    elif step in STEPS:
        await simulator.advance(STEPS[step])
    else:
        raise web.HTTPBadRequest(text="advance by 1h, 3h, 1d or to the next check-in")
    return web.json_response(simulator.state())


async def publish(request: web.Request) -> web.Response:
    """「地震」: JMA reports a strong quake in the demo's area; 「熱中症アラート」: the Ministry's
    alert file puts the area under an alert (today, or tomorrow from 17:00); 「大雨警報」: JMA
    issues a レベル４土砂災害危険警報 for its municipality. The bot's poller reads it at once."""
    start = getattr(request.app[FEEDS], request.match_info["feed"])
    if start is None:
        raise web.HTTPNotFound(text="this demo has no such feed")
    await start()
    return web.json_response(request.app[SIMULATOR].state())


async def start_tour(request: web.Request) -> web.Response:
    # The tour plays on its own; the page keeps showing the state as it goes.
    task = asyncio.get_running_loop().create_task(request.app[TOUR]())
    _TOURS.add(task)
    task.add_done_callback(_TOURS.discard)
    return web.json_response({"ok": True})


# Kept so a running tour is not collected before it ends.
_TOURS: set[asyncio.Task[None]] = set()


async def my_page(request: web.Request) -> web.Response:
    raise web.HTTPFound(request.app[SIMULATOR].my_page(_person(request)))


async def call_act(request: web.Request) -> web.Response:
    """The landline's handset: a key pressed (1, 2, 3), or the call let ring out."""
    simulator = request.app[SIMULATOR]
    sid, act = request.match_info["sid"], request.match_info["act"]
    if not any(ring.sid == sid for ring in simulator.rings):
        raise web.HTTPNotFound(text="no such call")
    body = await _body(request)
    if act == "press":
        digits = str(body.get("digits", ""))
        if digits not in ("1", "2", "3"):
            raise web.HTTPBadRequest(text="a key is 1, 2 or 3")
        await simulator.press_key(sid, digits)
    elif act == "ignore":
        await simulator.hang_up(sid, "no-answer")
    else:
        raise web.HTTPNotFound(text="no such act")
    return web.json_response({"ok": True})
