"""A stand-in for Twilio's Programmable Voice, on loopback, for the tests and the simulator's
landline: it takes calls as Twilio's REST API does (Basic auth, the form fields Twilio reads,
TwiML it would accept) and, playing the phone network, posts a key or the call's end back to
the bot, signed with X-Twilio-Signature as Twilio signs (its own library's rule). It can be
told to answer an error."""

from __future__ import annotations

import base64
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

from aiohttp import web
from defusedxml import ElementTree
from twilio.request_validator import RequestValidator

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "stand-in-auth-token"  # the stand-in's own; it protects nothing real
FROM = "+815000000000"
TWIML_LIMIT = 4000  # characters of the Twiml parameter Twilio takes
# What a call's TwiML may hold here: the verbs and attributes Twilio documents for them.
VERBS = {
    "Response": set(),
    "Say": {"language", "voice", "loop"},
    "Gather": {
        "action",
        "method",
        "numDigits",
        "timeout",
        "input",
        "finishOnKey",
        "actionOnEmptyResult",
    },
    "Hangup": set(),
    "Pause": {"length"},
}
INSIDE_GATHER = {"Say", "Pause"}
LANGUAGES = {"ja-JP", "en-US"}
_sids = itertools.count(1)


@dataclass
class PlacedCall:
    sid: str
    to: str
    caller: str
    twiml: str
    status_callback: str
    form: dict[str, str]

    def spoken(self) -> list[str]:
        return [say.text or "" for say in ElementTree.fromstring(self.twiml).iter("Say")]

    def gather_action(self) -> str:
        gather = next(ElementTree.fromstring(self.twiml).iter("Gather"))
        return gather.attrib["action"]


class Door(Protocol):
    """Whatever posts to the bot by path: the tests' client, or the simulator's session."""

    def post(self, path: str, *, data: Any, headers: dict[str, str]) -> Awaitable[Any]: ...


@dataclass
class TwilioStandIn:
    url: str = ""
    calls: list[PlacedCall] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # requests Twilio would refuse
    answers: list[int] = field(default_factory=list)  # statuses to answer the next calls with

    listeners: list[Callable[[PlacedCall], None]] = field(default_factory=list)

    def make_app(self) -> web.Application:
        app = web.Application()
        self.add_routes(app)
        return app

    def add_routes(self, app: web.Application) -> None:
        """On an app of its own (the tests) or beside the stand-in LINE (the simulator)."""
        app.router.add_post("/2010-04-01/Accounts/{sid}/Calls.json", self._create)

    def to(self, number: str) -> list[PlacedCall]:
        return [call for call in self.calls if call.to == number]

    async def _create(self, request: web.Request) -> web.Response:
        expected = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
        if request.match_info["sid"] != ACCOUNT_SID or request.headers.get("Authorization") != (
            expected
        ):
            return web.json_response({"code": 20003, "message": "Authenticate"}, status=401)
        form = {key: str(value) for key, value in (await request.post()).items()}
        problems = _problems(form)
        if problems:
            self.errors.extend(problems)
            return web.json_response({"code": 21205, "message": "; ".join(problems)}, status=400)
        if self.answers:
            status = self.answers.pop(0)
            return web.json_response({"code": 20500, "message": "stand-in error"}, status=status)
        sid = f"CA{next(_sids):032x}"
        to, caller, twiml = form["To"], form["From"], form["Twiml"]
        # A call that only speaks (a verification code) asks for no report of its end.
        call = PlacedCall(sid, to, caller, twiml, form.get("StatusCallback", ""), form)
        self.calls.append(call)
        for listener in self.listeners:
            listener(call)
        return web.json_response({"sid": sid, "status": "queued"}, status=201)

    # --- playing the phone network --------------------------------------------------------
    async def press(self, bot_client: Door, call: PlacedCall, digits: str) -> web.Response:
        """The person pressed `digits` on the call: Twilio posts them to the Gather's action."""
        form = _call_form(call, "in-progress", Digits=digits)
        return await self.post(bot_client, call.gather_action(), form)

    async def end(
        self, bot_client: Door, call: PlacedCall, status: str, answered_by: str = ""
    ) -> Any:
        """The call ended (completed, no-answer, busy, failed): the status callback."""
        form = _call_form(call, status)
        if answered_by:
            form["AnsweredBy"] = answered_by
        return await self.post(bot_client, call.status_callback, form)

    async def post(
        self, bot_client: Door, url: str, form: dict[str, str], token: str = AUTH_TOKEN
    ) -> Any:
        signature = RequestValidator(token).compute_signature(url, form)
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        return await bot_client.post(path, data=form, headers={"X-Twilio-Signature": signature})


# Japanese numbers whose first part is three digits and the rest 4-4 (携帯, IP, M2M), and the
# two cities whose area code is two digits (03 東京, 06 大阪); other fixed lines are written
# here 3-3-4, which is right for most (045, 011, 052...) and only a guess for the four- and
# five-digit area codes of smaller towns.
_MOBILE = ("020", "050", "060", "070", "080", "090")
_TWO_DIGIT_AREAS = ("03", "06")
_FREE_DIAL = ("0120", "0570", "0800", "0990")


def as_written(number: str) -> str:
    """An E.164 number (+819012345678) as people in Japan write it: 090-1234-5678,
    03-1234-5678. A number elsewhere stays as dialled."""
    if not number.startswith("+81") or not number[3:].isdigit():
        return number
    national = "0" + number[3:]
    if len(national) == 11 and national.startswith(_MOBILE):
        return f"{national[:3]}-{national[3:7]}-{national[7:]}"
    if national.startswith(_FREE_DIAL):
        return f"{national[:4]}-{national[4:7]}-{national[7:]}"
    if len(national) == 10 and national.startswith(_TWO_DIGIT_AREAS):
        return f"{national[:2]}-{national[2:6]}-{national[6:]}"
    if len(national) == 10:
        return f"{national[:3]}-{national[3:6]}-{national[6:]}"
    return national


def _call_form(call: PlacedCall, status: str, **more: str) -> dict[str, str]:
    return {
        "CallSid": call.sid,
        "AccountSid": ACCOUNT_SID,
        "From": call.caller,
        "To": call.to,
        "CallStatus": status,
        "Direction": "outbound-api",
        **more,
    }


def _problems(form: dict[str, str]) -> list[str]:
    problems = [f"missing {name}" for name in ("To", "From", "Twiml") if not form.get(name)]
    if problems:
        return problems
    if len(form["Twiml"]) > TWIML_LIMIT:
        problems.append(f"Twiml over {TWIML_LIMIT} characters")
    try:
        root = ElementTree.fromstring(form["Twiml"])
    except ElementTree.ParseError as error:
        return [f"Twiml is not XML: {error}"]
    if root.tag != "Response":
        problems.append("Twiml's root is not <Response>")
    for parent in root.iter():
        for node in parent:
            if node.tag not in VERBS:
                problems.append(f"unknown verb <{node.tag}>")
                continue
            if parent.tag == "Gather" and node.tag not in INSIDE_GATHER:
                problems.append(f"<{node.tag}> inside <Gather>")
            for attribute in node.attrib:
                if attribute not in VERBS[node.tag]:
                    problems.append(f"<{node.tag}> has no attribute {attribute}")
            language = node.attrib.get("language")
            if language is not None and language not in LANGUAGES:
                problems.append(f"<Say> language {language}")
    return problems
