"""GET /invites/{code}.png: the invite as a QR code that opens the bot's chat, code typed in."""

from __future__ import annotations

import asyncio

from aiohttp import web

from care import invites
from care.invites import invite_link
from care.services import SERVICES
from ground import invite_codes
from ground.qr_codes import qr_png


async def invite_qr(request: web.Request) -> web.Response:
    code = invite_codes.normalise(request.match_info["code"])
    if code is None:
        raise web.HTTPNotFound(text="unknown invite code")
    async with request.app[SERVICES].unit_of_work() as work:
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
