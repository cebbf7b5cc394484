"""わたしの記録 and 退会 (issue 38): everything held about her, as a page or a file, and
退会 with the LIFF app's authorization revoked."""

from __future__ import annotations

import logging

from aiohttp import web

from care.members import withdrawal
from care.privacy.disclosure import record_of
from liff.api.guard import CALLER, before_terms, error, json_body, services_of
from liff.auth import LIFF_DEAUTHORIZER

log = logging.getLogger("mimamori.liff.api")

routes = web.RouteTableDef()


@routes.route("POST", "/me/withdraw")
@before_terms
async def withdraw(request: web.Request) -> web.Response:
    """退会: the optional fields and the memberships are deleted, check-ins stop. Then the LIFF
    app's authorization is revoked with the access token the page sent (`line_unlinked` says
    whether LINE did; the page never claims it did when it did not)."""
    body = await json_body(request)
    if body.get("confirm") is not True:
        raise error(400, "confirm_required")
    async with services_of(request).unit_of_work() as work:
        await withdrawal.withdraw(work, request[CALLER])
    unlinked = await deauthorize(request, body.get("access_token"))
    return web.json_response({"ok": True, "line_unlinked": unlinked})


@routes.route("GET", "/me/records")
async def my_records(request: web.Request) -> web.Response:
    """Everything held about the caller (care.privacy.disclosure), as the page shows it. Only hers:
    the caller is who LINE's ID token names; no id is read from the request."""
    member = request[CALLER]
    services = services_of(request)
    locale = services.locale(member.language)
    async with services.reading() as work:
        record = await record_of(work, locale, member)
    texts = {**locale.section("my_records"), **locale.section("gaps41.my_records")}
    return web.json_response({"record": record.as_json(), "texts": texts})


@routes.route("GET", "/me/records/download")
async def my_records_download(request: web.Request) -> web.Response:
    """The same record as a file: ?format=json or ?format=csv."""
    kind = request.query.get("format", "json")
    if kind not in ("json", "csv"):
        raise error(400, "invalid_format")
    member = request[CALLER]
    services = services_of(request)
    async with services.reading() as work:
        record = await record_of(work, services.locale(member.language), member)
    text = record.to_json() if kind == "json" else record.to_csv()
    response = web.Response(
        text=text,
        content_type="application/json" if kind == "json" else "text/csv",
        charset="utf-8",
    )
    response.headers["Content-Disposition"] = (
        f'attachment; filename="mimamori-my-records-{member.id}.{kind}"'
    )
    response.headers["Cache-Control"] = "no-store"
    return response


async def deauthorize(request: web.Request, access_token: object) -> bool:
    """LINE Login's deauthorize with her access token, after 退会 committed: a failure is
    logged and 退会 stands (she was told only what happened)."""
    deauthorizer = request.config_dict.get(LIFF_DEAUTHORIZER)
    if deauthorizer is None:
        log.warning("退会 without revoking the LIFF app: LINE_LOGIN_CHANNEL_SECRET is not set")
        return False
    if not isinstance(access_token, str) or not 0 < len(access_token) <= 4096:
        log.warning("退会 without revoking the LIFF app: the page sent no access token")
        return False
    return await deauthorizer.deauthorize(access_token, request[CALLER].line_user_id)
