"""電話での確認: her number, her consent to a call before the alert, and the call that reads
out a code to verify the number is hers."""

from __future__ import annotations

from aiohttp import web

from care.rounds import calls, verify
from liff.api.guard import CALLER, error, json_body, services_of

routes = web.RouteTableDef()


@routes.route("PUT", "/me/calls")
async def save_calls(request: web.Request) -> web.Response:
    """電話での確認: the person's number, and their consent to a call before the alert."""
    body = await json_body(request)
    before_alert = body.get("before_alert")
    if not isinstance(before_alert, bool):
        raise error(400, "invalid", "before_alert")
    member = request[CALLER]
    async with services_of(request).unit_of_work() as work:
        number = await calls.set_consent(
            work, member, str(body.get("number") or ""), before_alert, "self"
        )
        # A new number starts its verification call at once; nobody watching her is said on
        # the page (the number is kept, and no call goes to it).
        calling = number is not None and number != member.call_number
        if calling and await calls.watched(work, member):
            changed = await work.repos.members.get(member.id)
            assert changed is not None
            await verify.start(work, changed)
        else:
            calling = False
    return web.json_response({"ok": True, "number": number, "calling": calling})


@routes.route("POST", "/me/calls/verify")
async def call_for_code(request: web.Request) -> web.Response:
    """Ring her number again with a new code (the last expired, or was spent)."""
    await json_body(request)
    async with services_of(request).unit_of_work() as work:
        await verify.start(work, request[CALLER])
    return web.json_response({"ok": True, "calling": True})


@routes.route("POST", "/me/calls/code")
async def check_code(request: web.Request) -> web.Response:
    """The code the call read out, typed on My page. A wrong one counts, so the answer is
    given after the unit of work has kept the count."""
    body = await json_body(request)
    async with services_of(request).unit_of_work() as work:
        result = await verify.check(work, request[CALLER], str(body.get("code") or "")[:20])
    if result.checked is verify.Checked.VERIFIED:
        return web.json_response({"ok": True, "verified": True})
    status = 400 if result.checked is verify.Checked.WRONG else 409
    raise error(status, result.checked.value, str(result.left))
