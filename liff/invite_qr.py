"""GET /invites/{code}.png?seal=…: the invite as a QR code that opens the bot's chat, code typed
in. Anyone may ask, so a request is counted per address in memory and its seal checked
(care.members.invites.qr_path) before the database is looked at: a crawl of guessed codes costs no
transaction and learns nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

from aiohttp import web

from care.members import invites
from care.members.invites import invite_link
from care.services import SERVICES
from ground import invite_codes
from ground.address_limits import KnockLimit, PerAddress
from ground.client_address import client_address
from ground.qr_codes import qr_png

QR_PER_ADDRESS = web.AppKey("invite_qr_per_address", KnockLimit)


def setup_invite_qr(app: web.Application) -> None:
    app.router.add_get("/invites/{code}.png", invite_qr)
    app.cleanup_ctx.append(_limit)


async def _limit(app: web.Application) -> AsyncIterator[None]:
    per_minute = app[SERVICES].settings.invite_qr_per_address
    app[QR_PER_ADDRESS] = KnockLimit(PerAddress(per_minute, timedelta(minutes=1)))
    yield


async def invite_qr(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    code = invite_codes.normalise(request.match_info["code"])
    secret = services.settings.channel_secret
    given = code is not None and invites.qr_sealed(secret, code, request.query.get("seal", ""))
    address = client_address(request, services.settings.trusted_proxies)
    if not request.app[QR_PER_ADDRESS].allow(address, services.clock.now(), given):
        raise web.HTTPTooManyRequests(headers={"Retry-After": "60"})
    if code is None or not given:
        raise web.HTTPNotFound(text="unknown invite code")
    async with request.app[SERVICES].reading() as work:
        invite = await work.repos.teams.invite(code)
        team = await work.repos.teams.get(invite.team_id) if invite else None
        expired = invite is not None and invites.expired(work, invite)
    if invite is None or invite.revoked_at is not None or team is None or expired:
        # An expired manager code is not drawn: a QR forwarded beyond the family stops too.
        raise web.HTTPNotFound(text="unknown invite code")
    locale = request.app[SERVICES].i18n.get(None)
    # Scanned, it opens the chat with the code typed in; without the link, the text itself.
    await request.app[SERVICES].line.bot_basic_id()
    link = invite_link(request.app[SERVICES].line, locale, code)
    content = link or locale.t("invite.prefill", code=code)
    disposition = "attachment" if "download" in request.query else "inline"
    return web.Response(
        body=await asyncio.to_thread(qr_png, content),
        content_type="image/png",
        headers={
            "Cache-Control": "no-store",
            "Content-Disposition": f'{disposition}; filename="invite-{code}.png"',
        },
    )
