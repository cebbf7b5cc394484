"""Phone calls through Twilio's Programmable Voice: the `voice` channel (ground.channels).

A telling of the CALL form becomes a call whose TwiML (Twilio's own builder) says its text and
gathers one key, twice, then says its closing words; key N is the telling's choice N, whose
signed token comes back in the URL Twilio posts the key to. Twilio's webhooks reach the
`phone` surface, which checks their X-Twilio-Signature.

Twilio takes no retry key for a call. A 5xx or 429 means no call was made, and the outbox
tries again; a timeout leaves it unknown, so the call is not placed again (the person's phone
never rings twice for one round) and the ladder's patience (MIMAMORI_CALL_PATIENCE) brings
the alert as it would after an unanswered call.
"""

from __future__ import annotations

import base64
import logging
from urllib.parse import urlencode

import aiohttp
from twilio.twiml.voice_response import Gather, VoiceResponse

from ground.channels import VOICE, Outcome, Parcel, SendResult
from ground.telling import Form, Telling
from ground.transactions import outside_only

log = logging.getLogger("mimamori.voice")

REQUEST_TIMEOUT_SECONDS = 15
RING_SECONDS = 30  # how long the phone rings before Twilio calls it no-answer
KEY_WAIT_SECONDS = 8  # after the question, how long to wait for a key
ANSWER_PATH = "/voice/answer"
STATUS_PATH = "/voice/status"
# The voices Twilio's <Say> speaks; やさしい日本語 is Japanese spoken.
SPOKEN = {"ja": "ja-JP", "ja-x-easy": "ja-JP", "en": "en-US"}


def spoken_language(language: str) -> str:
    return SPOKEN.get(language, "ja-JP")


def answer_url(public_url: str, telling: Telling) -> str:
    # A choice without a token is a key that means nothing on this call (a roll-call's 2).
    keys = {
        f"k{number}": choice.data
        for number, choice in enumerate(telling.choices, 1)
        if choice.data
    }
    return f"{public_url}{ANSWER_PATH}?{urlencode(keys)}"


def status_url(public_url: str, telling: Telling) -> str:
    # Any choice's token names the person and the round; the first is enough.
    return f"{public_url}{STATUS_PATH}?{urlencode({'c': telling.choices[0].data})}"


def call_twiml(public_url: str, telling: Telling) -> str:
    """The question, asked twice with a key gathered after each; then the closing words."""
    language = spoken_language(telling.language)
    response = VoiceResponse()
    for _ in range(2):
        gather = Gather(
            num_digits=1,
            action=answer_url(public_url, telling),
            method="POST",
            timeout=KEY_WAIT_SECONDS,
            action_on_empty_result=False,
        )
        gather.say(telling.text, language=language)
        response.append(gather)
    response.say(telling.title, language=language)
    response.hangup()
    return str(response)


def spoken(text: str, language: str) -> str:
    """TwiML that says `text` and hangs up (the answer to a key)."""
    response = VoiceResponse()
    response.say(text, language=spoken_language(language))
    response.hangup()
    return str(response)


def spoken_twice(text: str, language: str) -> str:
    """TwiML that says `text`, pauses, says it again and hangs up (a code to write down)."""
    response = VoiceResponse()
    voice = spoken_language(language)
    response.say(text, language=voice)
    response.pause(length=1)
    response.say(text, language=voice)
    response.hangup()
    return str(response)


def ask_again(text: str, telling_url: str, language: str) -> str:
    """TwiML for a key that means nothing: say which keys, and gather once more."""
    response = VoiceResponse()
    gather = Gather(num_digits=1, action=telling_url, method="POST", timeout=KEY_WAIT_SECONDS)
    gather.say(text, language=spoken_language(language))
    response.append(gather)
    response.hangup()
    return str(response)


class TwilioVoice:
    """The `voice` channel: one call a row, to the row's one number."""

    name = VOICE
    batch_limit = 1

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        from_number: str,
        public_url: str,
        api_base_url: str = "https://api.twilio.com",
        strict: bool = False,
    ) -> None:
        self._account_sid = account_sid
        token = base64.b64encode(f"{account_sid}:{auth_token}".encode()).decode()
        self._authorization = f"Basic {token}"
        self._from = from_number
        self._public_url = public_url.rstrip("/")
        base = api_base_url.rstrip("/")
        self._calls_url = f"{base}/2010-04-01/Accounts/{account_sid}/Calls.json"
        self._session: aiohttp.ClientSession | None = None
        self._strict = strict

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def send(self, parcel: Parcel) -> SendResult:
        call = next((t for t in parcel.tellings if t.form is Form.CALL and t.choices), None)
        said = next((t for t in parcel.tellings if t.form is Form.SPOKEN), None)
        if call is not None:
            form = {
                "Twiml": call_twiml(self._public_url, call),
                "StatusCallback": status_url(self._public_url, call),
                "StatusCallbackMethod": "POST",
                "MachineDetection": "Enable",
            }
        elif said is not None:
            # Words and no keys (a verification code): nothing comes back to the bot.
            form = {"Twiml": spoken_twice(said.text, said.language)}
        else:
            # Only a call's telling can be spoken: a row of anything else is a mistake
            # upstream, refused rather than rung.
            return SendResult(Outcome.REJECTED, "nothing in the row a call can say")
        form = {
            "To": parcel.addresses[0],
            "From": self._from,
            **form,
            "Timeout": str(RING_SECONDS),
        }
        if self._session is None:
            self._session = aiohttp.ClientSession(
                trace_configs=[outside_only("Twilio", self._strict)]
            )
        try:
            async with self._session.post(
                self._calls_url,
                data=form,
                headers={"Authorization": self._authorization},
                timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_SECONDS),
            ) as response:
                body = await response.text()
                status = response.status
        except (TimeoutError, aiohttp.ClientError, OSError) as failure:
            log.warning("call request unanswered (%s): not placed again", failure)
            return SendResult(Outcome.REJECTED, f"unknown whether placed: {failure}")
        if status in (200, 201):
            return SendResult(Outcome.DELIVERED, body[:200])
        if status == 429:
            return SendResult(Outcome.RATE_LIMITED, body[:200])
        if status >= 500:
            return SendResult(Outcome.RETRY, f"{status} {body[:200]}")
        return SendResult(Outcome.REJECTED, f"{status} {body[:200]}")
