"""Her OK from My page (issue 40): the card's button while a check-in waits. It is the chat's
OK, answered through the same `care.rounds.answers.answer`, so the round closes and the
managers hear exactly what they hear when she taps OK in LINE; the page says what the chat
would have replied."""

from __future__ import annotations

from aiohttp import web

from care.rounds import answers, status
from care.rounds.notify import phone_only, push_to
from care.rounds.protocol import Audience, Event, Fact, Stage
from liff.api.guard import CALLER, json_body, services_of

routes = web.RouteTableDef()


@routes.route("POST", "/me/ok")
async def ok(request: web.Request) -> web.Response:
    """元気です / OK, by the person on her own page: whichever check-in is waiting (as the
    chat's OK closes the open round, whichever message its button was on). With nothing
    waiting it only says thank you, as the menu's 元気です does. -> what to show her."""
    await json_body(request)  # JSON only, as every call that changes something
    member = request[CALLER]
    services = services_of(request)
    locale = services.locale(member.language)
    async with services.unit_of_work() as work:
        answered = await answers.answer(work, member, Event.OK)
        checkin = answered.open_after
        still_help = answered.tells(Audience.PERSON, Fact.STILL_HELP)
        if still_help and checkin is not None and not phone_only(member):
            # An OK during a call for help does not close it: she is asked in LINE, where
            # the question's two buttons are, as after an OK in the chat or on a call.
            question = answers.help_question(work, locale, checkin)
            await push_to(work, member, [question], "still_help", round_id=checkin.id)
    following = status.next_sentence(locale, answered.state)
    if still_help:
        said = [locale.t("mypage40.still_help_in_chat")]
    elif answered.before is Stage.IDLE:
        said = [locale.t("checkin.menu_ok", then=following)]
    else:
        said = [locale.t("checkin.thanks", then=following)]
        if answered.tells(Audience.ALERTED, Fact.SAFE):
            said.append(locale.t("checkin.managers_told"))
    return web.json_response({"ok": True, "said": said, "closed": checkin is None})
