"""Her own page: her card, the terms, the language she reads, the details she enters (氏名,
電話番号...) and her 緊急時メモ, and the texts the page's script shows."""

from __future__ import annotations

from aiohttp import web

from care.members import details, people
from care.rounds.schedule import INTERVALS
from ground.i18n import Locale
from liff.api.cards import card
from liff.api.guard import CALLER, before_terms, json_body, services_of
from storage.models import Role

routes = web.RouteTableDef()


@routes.route("GET", "/me")
@before_terms
async def me(request: web.Request) -> web.Response:
    member = request[CALLER]
    services = services_of(request)
    locale = services.locale(member.language)
    async with services.reading() as work:
        body = await card(work, locale, member, member)
    return web.json_response(
        {
            "member": body,
            "terms_accepted": member.terms_accepted_at is not None,
            "language": locale.language,
            # Each language named in itself, for the choice on My page.
            "languages": {
                code: services.i18n.get(code).t("language.name")
                for code in services.i18n.languages
            },
            "texts": page_texts(locale),
        }
    )


@routes.route("POST", "/terms")
@before_terms
async def accept_terms(request: web.Request) -> web.Response:
    await json_body(request)
    async with services_of(request).unit_of_work() as work:
        await people.accept_terms(work, request[CALLER])
    return web.json_response({"ok": True})


@routes.route("PUT", "/me/language")
async def save_language(request: web.Request) -> web.Response:
    """日本語, やさしい日本語 or English: the chat and My page speak it from now on."""
    body = await json_body(request)
    async with services_of(request).unit_of_work() as work:
        await people.choose_language(work, request[CALLER], str(body.get("language", "")))
    return web.json_response({"ok": True})


@routes.route("PUT", "/me/personal")
async def save_personal(request: web.Request) -> web.Response:
    body = await json_body(request)
    services = services_of(request)
    today = services.clock.now().astimezone(services.timezone).date()
    fields, problems = details.validate_personal(body, today)
    if problems:
        return web.json_response({"error": "invalid", "fields": problems}, status=400)
    async with services.unit_of_work() as work:
        await details.save_personal(work, request[CALLER], fields)
    return web.json_response({"ok": True})


@routes.route("PUT", "/me/memo")
async def save_memo(request: web.Request) -> web.Response:
    body = await json_body(request)
    async with services_of(request).unit_of_work() as work:
        await details.save_memo(work, request[CALLER], str(body.get("memo") or ""))
    return web.json_response({"ok": True})


def page_texts(locale: Locale) -> dict[str, str]:
    """What the page's script shows, in the person's language."""
    texts = locale.section("liff")
    # The number's verification (care.rounds.verify), in a table of its own.
    texts.update({f"verify.{k}": v for k, v in locale.section("calls.verify").items()})
    texts.update({f"guard.{k}": v for k, v in locale.section("calls.guard").items()})
    # わたしの記録 and what 退会 says about LINE (issue 38).
    texts.update({f"my_records.{k}": v for k, v in locale.section("my_records").items()})
    # Her register line and the at-risk mark (issue 41's gaps), in the record's own names.
    gaps = locale.section("gaps41.my_records")
    texts.update({f"my_records.{k}": v for k, v in gaps.items()})
    # Her 「見せる」/「見せない」 next to each manager in her team (issue 38's review).
    texts.update({f"share_back.{k}": v for k, v in locale.section("share_back").items()})
    # Her card with its OK, who is told and what they see (issue 40).
    texts.update({f"mypage40.{k}": v for k, v in locale.section("mypage40").items()})
    # 暑い日の確認: her choice on alert days (issue 41).
    texts.update({f"heat41.{k}": v for k, v in locale.section("heat41").items()})
    for role in Role:
        texts[f"role.{role.value}"] = locale.t(f"role_name.{role.value}")
    for days in INTERVALS:
        texts[f"interval.{days}"] = locale.t("schedule.interval_choice", days=days)
    for hour in range(24):
        texts[f"hour.{hour}"] = locale.t("schedule.hour_choice", hour=hour)
    return texts
