"""説明会の資料: one printed A4 page per role (利用者, 見守る方, 町会・グループ, 職員), written
from the locale's texts, with the account's QR code to add it as a friend, as a 社協 hands
them out at an explanation meeting."""

from __future__ import annotations

import asyncio
import base64
from urllib.parse import quote

from aiohttp import web

from admin.access import DESK, OPERATOR, VIEWER, allow
from admin.auth import audit
from admin.render import render, services_of
from ground.qr_codes import qr_png

ROLES = ("resident", "watcher", "group", "staff")


def add_routes(console: web.Application) -> None:
    console.router.add_get("/guides", guides)
    console.router.add_get("/guides/{role}", guide)


@allow(OPERATOR, DESK, VIEWER)
async def guides(request: web.Request) -> web.Response:
    return render(request, "guides.html", {"roles": ROLES})


@allow(OPERATOR, DESK, VIEWER)
async def guide(request: web.Request) -> web.Response:
    role = request.match_info["role"]
    if role not in ROLES:
        raise web.HTTPNotFound(text="no such guide")
    services = services_of(request)
    basic_id = await services.line.bot_basic_id()
    # Scanned at the meeting, it adds the account as a friend (the city's own, when shared).
    friend = f"https://line.me/R/ti/p/{quote(basic_id)}" if basic_id else None
    qr = None
    if friend:
        png = await asyncio.to_thread(qr_png, friend)
        qr = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    await audit(request, "guide_printed", role)
    return render(
        request,
        "guide.html",
        {
            "role": role,
            "qr": qr,
            "basic_id": basic_id or "",
            "friend": friend,
            "steps": steps_key(role, services.settings.menus),
        },
    )


def steps_key(role: str, menus: str) -> str:
    """The steps a resident follows name only what her kind of account shows her: the
    resident's own menu, mimamori's tab of the city's menu, or no menu (「見守り」 typed)."""
    if role == "resident" and menus != "own":
        return f"first_minute.guide.{menus}"
    return f"guides.{role}.steps"
