"""Twilio's webhooks for the calls mimamori places: the key pressed, and how the call ended.
A check-in's call or one before the alert, and a roll-call's question to a person without
LINE (care.broadcasts.by_phone), whose key answers the roll-call as her LINE button would
(care.broadcasts.rollcall.answer_by_key) and whose end settles nothing (its call again is
timed from the first call).

Each is verified by its X-Twilio-Signature (over the URL Twilio called, our public URL, and the
form it posted) and acted on once (Twilio sends again a request it did not hear back from).
The key's answer goes through the same rules as the LINE button
(care.rounds.answers.answer_on_call);
a call that settled nothing makes the alert due at once (care.rounds.calls.ended).
"""

from __future__ import annotations

import logging

from aiohttp import web
from twilio.request_validator import RequestValidator

from care.broadcasts import by_phone, rollcall
from care.errors import Refused
from care.members import people
from care.rounds import answers, calls
from care.rounds.protocol import Audience, Fact
from care.services import SERVICES, Services
from ground import voice
from ground.postback import Postback

log = logging.getLogger("mimamori.phone")

# How a call ended, as Twilio's status callback says it: these settle nothing.
UNANSWERED = ("no-answer", "busy", "failed", "canceled")
TWIML = "application/xml"


def setup_calls(app: web.Application) -> None:
    app.router.add_post(voice.ANSWER_PATH, key_pressed)
    app.router.add_post(voice.STATUS_PATH, call_status)


async def _verified(request: web.Request) -> dict[str, str]:
    """The form Twilio posted, once its signature is checked; 403 otherwise (404 where this
    deployment places no calls)."""
    settings = request.app[SERVICES].settings
    if not settings.calls or settings.twilio_auth_token is None:
        raise web.HTTPNotFound()
    form = {key: str(value) for key, value in (await request.post()).items()}
    url = f"{(settings.public_url or '').rstrip('/')}{request.raw_path}"
    signature = request.headers.get("X-Twilio-Signature", "")
    if not RequestValidator(settings.twilio_auth_token).validate(url, form, signature):
        log.warning("a call webhook with a wrong signature refused: %s", request.path)
        raise web.HTTPForbidden(text="bad signature")
    if not form.get("CallSid"):
        raise web.HTTPBadRequest(text="no CallSid")
    return form


def _call_token(services: Services, data: str | None) -> Postback:
    postback = services.postbacks.decode(data or "")
    if postback is None or postback.action != "call":
        raise web.HTTPBadRequest(text="not a call of ours")
    # A call names the person, and the round (before an alert) or the slot (a check-in).
    about = postback.integer("r") is not None or postback.integer("t") is not None
    if postback.integer("m") is None or not about:
        raise web.HTTPBadRequest(text="not a call of ours")
    return postback


def _twiml(text: str) -> web.Response:
    return web.Response(text=text, content_type=TWIML)


def _roll_call_token(services: Services, data: str | None) -> Postback | None:
    """A roll-call's key token (None: the token is not a roll-call's)."""
    postback = services.postbacks.decode(data or "")
    if postback is None or postback.action != by_phone.ACTION:
        return None
    if postback.integer("m") is None or postback.integer("r") is None:
        raise web.HTTPBadRequest(text="not a call of ours")
    return postback


async def key_pressed(request: web.Request) -> web.Response:
    form = await _verified(request)
    services = request.app[SERVICES]
    if _roll_call_token(services, request.query.get("k1")) is not None:
        return await _roll_call_key(request, form)
    digit = form.get("Digits", "")
    chosen = request.query.get(f"k{digit}") if digit in calls.KEYS else None
    if chosen is None:
        # A key that means nothing: say which keys do, and listen once more.
        anyone = _call_token(services, request.query.get("k1"))
        language = await _language(services, anyone.integer("m"))
        text = services.i18n.get(language).t("call.wrong_key")
        return _twiml(voice.ask_again(text, request.raw_path, language))
    postback = _call_token(services, chosen)
    value = postback.get("v") or ""
    if value != calls.KEYS[digit]:
        raise web.HTTPBadRequest(text="key and answer disagree")
    async with services.unit_of_work() as work:
        if not await work.repos.calls.take_event(form["CallSid"], "answer", work.now):
            member = await work.repos.members.get(postback.integer("m") or 0)
            language = member.language if member else None
            return _twiml(voice.spoken(work.locale(language).t("call.thanks_ok"), language or ""))
        try:
            round_id, slot = postback.integer("r"), postback.integer("t")
            member, answered = await answers.answer_on_call(
                work, postback.integer("m") or 0, value, round_id, slot
            )
        except Refused as refused:
            raise web.HTTPNotFound() from refused
        locale = work.locale(member.language)
        if answered is None:
            text = locale.t("call.over")
        elif answered.tells(Audience.PERSON, Fact.STILL_HELP):
            text = locale.t("call.help_open")
        elif value == "help":
            # Said as it is: her watchers were told, or only the desk has it, or nobody.
            if answered.told:
                text = locale.t("call.help_sent")
            else:
                text = locale.t("call.help_desk" if answered.at_desk else "call.help_nobody")
        elif value == "unwell":
            heard = await people.who_hears_unwell(work, member)
            key = "call.thanks_unwell" if heard == "watchers" else f"call.unwell_{heard}"
            text = locale.t(key)
        else:
            text = locale.t(f"call.thanks_{value}")
    return _twiml(voice.spoken(text, member.language))


async def _roll_call_key(request: web.Request, form: dict[str, str]) -> web.Response:
    """A key on a roll-call's call: 1 無事です, 3 助けが必要です; any other is asked again."""
    services = request.app[SERVICES]
    digit = form.get("Digits", "")
    chosen = request.query.get(f"k{digit}") if digit in by_phone.KEYS else None
    if chosen is None:
        anyone = _roll_call_token(services, request.query.get("k1"))
        language = await _language(services, anyone.integer("m") if anyone else None)
        text = services.i18n.get(language).t("phone41.call.wrong_key")
        return _twiml(voice.ask_again(text, request.raw_path, language))
    postback = _roll_call_token(services, chosen)
    value = postback.get("v") if postback is not None else None
    if postback is None or value != by_phone.KEYS[digit]:
        raise web.HTTPBadRequest(text="key and answer disagree")
    member_id, roll_call_id = postback.integer("m") or 0, postback.integer("r") or 0
    async with services.unit_of_work() as work:
        if not await work.repos.calls.take_event(form["CallSid"], "answer", work.now):
            said = "phone41.call.heard"
            member = await work.repos.members.get(member_id)
        else:
            member, said = await rollcall.answer_by_key(work, member_id, roll_call_id, value)
        if member is None:
            raise web.HTTPNotFound()
        text = work.locale(member.language).t(said)
    return _twiml(voice.spoken(text, member.language))


async def call_status(request: web.Request) -> web.Response:
    form = await _verified(request)
    services = request.app[SERVICES]
    if _roll_call_token(services, request.query.get("c")) is not None:
        # A roll-call's call rings again on its own time, whatever Twilio reports.
        return web.Response(status=204)
    postback = _call_token(services, request.query.get("c"))
    status = form.get("CallStatus", "")
    machine = form.get("AnsweredBy", "").startswith(("machine", "fax"))
    settled = False
    async with services.unit_of_work() as work:
        if not await work.repos.calls.take_event(form["CallSid"], f"status:{status}", work.now):
            return web.Response(status=204)
        keyed = await work.repos.calls.taken(form["CallSid"], "answer")
        round_id = postback.integer("r")
        # A check-in's call (no round named) settles nothing: its ladder keeps its own time.
        if round_id is not None and (
            status in UNANSWERED or machine or (status == "completed" and not keyed)
        ):
            # Nobody pressed a key: the managers are told now, not after the patience.
            settled = await calls.ended(work, round_id)
    if settled:
        services.sweeps.ring()
    return web.Response(status=204)


async def _language(services: Services, member_id: int | None) -> str | None:
    async with services.reading_repositories() as repos:
        member = await repos.members.get(member_id or 0)
    return member.language if member else None
