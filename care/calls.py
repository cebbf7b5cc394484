"""A phone call before the alert, for a person who asked for one (on My page, or the desk's
staff for them): when the re-send goes unanswered, their phone rings before the managers are
told. Its keys are the same answers as the LINE buttons (1 元気, 2 少し体調が悪い, 3 助けてほしい)
and go through the same rules; no answer, busy or a machine, and the alert goes out.

care/ says what the call says and records it in the outbox for the `voice` channel; the
channel (ground.voice) knows Twilio, care/ does not. Calls cost money: a month's budget counts
them, and past it the alert goes out as it would without a call.
"""

from __future__ import annotations

import calendar
import logging
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from care.errors import Refusal, Refused
from care.notify import display_name
from care.protocol import Event, Stage, decide, stage_of
from care.services import Services, UnitOfWork
from ground.channels import VOICE
from ground.settings import E164
from ground.telling import Choice, Form, Telling
from storage.calls import CALL_PURPOSE
from storage.models import CheckinRound, Member

# The keys of a call: the same answers as the LINE buttons, in their order.
ANSWERS = (Event.OK.value, Event.UNWELL.value, Event.HELP.value)

log = logging.getLogger("mimamori.calls")

KEYS = {str(number): value for number, value in enumerate(ANSWERS, 1)}  # 1 ok, 2 unwell, 3 help
_JAPANESE_NUMBER = re.compile(r"0[1-9][0-9]{8,9}")


def e164(text: str) -> str | None:
    """A phone number as Twilio dials it: 090-1234-5678 or 03 1234 5678 -> +81...; a number
    already written with its country code stays. None when it is not a phone number."""
    digits = unicodedata.normalize("NFKC", text).strip()
    digits = re.sub(r"[\s\-()ー‐−]", "", digits)
    if E164.fullmatch(digits):
        return digits
    if _JAPANESE_NUMBER.fullmatch(digits):
        return "+81" + digits[1:]
    return None


def can_call(services: Services, member: Member) -> bool:
    return (
        VOICE in services.channels
        and member.call_before_alert
        and member.call_number is not None
        and member.active
    )


def month_start(services: Services, now: datetime) -> datetime:
    local = now.astimezone(services.timezone)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class Budget:
    used: int  # calls this month so far
    limit: int  # the month's budget
    forecast: int  # at this month's pace, calls by its end

    @property
    def left(self) -> int:
        return max(0, self.limit - self.used)


async def budget(work: UnitOfWork) -> Budget:
    services = work.services
    start = month_start(services, work.now)
    used = await work.repos.calls.placed_since(start)
    month_days = calendar.monthrange(start.year, start.month)[1]
    elapsed = max(1.0, (work.now - start).total_seconds() / 86400)
    return Budget(used, services.settings.call_budget, round(used * month_days / elapsed))


async def call_first(work: UnitOfWork, member: Member, checkin: CheckinRound) -> bool:
    """The re-send's wait ran out: ring the person first, if they asked for it and the month's
    budget allows. -> True when the call is recorded (the alert then waits for it)."""
    if not can_call(work.services, member):
        return False
    decision = decide(stage_of(checkin), Event.CALL)
    if decision is None or decision.after is not Stage.CALLED:
        return False
    if (await budget(work)).left <= 0:
        log.warning("call budget spent this month: member %s is alerted without a call", member.id)
        work.services.metrics.calls.labels("over_budget").inc()
        return False
    assert member.call_number is not None
    outbox_id = await work.repos.outbox.add(
        kind="push",
        channel=VOICE,
        recipients=[member.call_number],
        tellings=[call_telling(work, member, checkin)],
        purpose=CALL_PURPOSE,
        now=work.now,
        round_id=checkin.id,
        recipient_member_id=member.id,
    )
    patience = work.services.settings.call_patience
    await work.repos.calls.placed(checkin.id, work.now, work.now + patience, outbox_id)
    work.services.metrics.calls.labels("placed").inc()
    return True


def call_telling(work: UnitOfWork, member: Member, checkin: CheckinRound) -> Telling:
    return _telling(work, member, "call.no_key", r=checkin.id)


async def checkin_call(
    work: UnitOfWork, member_id: int, slot_at: datetime, resend: bool
) -> Telling:
    """The check-in of a person watched by phone alone: the same question, whose keys name
    them and the slot (the round is opened in the same transaction, after this is written)."""
    member = await work.repos.members.get(member_id)
    assert member is not None
    work.services.metrics.calls.labels("checkin").inc()
    closing = "call.no_key" if resend else "call.no_key_later"
    return _telling(work, member, closing, t=int(slot_at.timestamp()))


def _telling(work: UnitOfWork, member: Member, closing: str, **about: int) -> Telling:
    locale = work.locale(member.language)
    codec = work.services.postbacks
    choices = tuple(
        Choice(
            value,
            locale.t(f"checkin.{value}_button"),
            codec.encode("call", m=member.id, v=value, **about),
        )
        for value in ANSWERS
    )
    question = locale.t("call.question", name=display_name(locale, member))
    return Telling(Form.CALL, locale.language, question, locale.t(closing), choices=choices)


async def ended(work: UnitOfWork, round_id: int) -> bool:
    """No answer, busy, a machine, or hung up without a key: the alert is due now.
    -> whether the round was still waiting on the call."""
    settled = await work.repos.calls.ended(round_id, work.now)
    if settled:
        work.services.metrics.calls.labels("unanswered").inc()
    return settled


async def set_consent(
    work: UnitOfWork, member: Member, number: str, before_alert: bool, by: str
) -> str | None:
    """The person's number and whether they are rung before the alert, as they (by="self") or
    the desk's staff for them set it. -> the number as it will be dialled."""
    dialled = e164(number) if number.strip() else None
    if number.strip() and dialled is None:
        raise Refused(Refusal.INVALID_PHONE)
    if before_alert and VOICE not in work.services.channels:
        raise Refused(Refusal.NO_CALLS)
    if before_alert and dialled is None:
        raise Refused(Refusal.INVALID_PHONE)
    await work.repos.calls.set_consent(member.id, dialled, before_alert, by)
    return dialled
