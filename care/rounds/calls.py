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
from datetime import datetime, timedelta

from care.desk import cases as desk
from care.errors import Refusal, Refused
from care.rounds import numbers
from care.rounds.notify import display_name
from care.rounds.protocol import Event, Stage, decide, stage_of
from care.services import Services, UnitOfWork
from ground.channels import VOICE
from ground.settings import E164
from ground.telling import Choice, Form, Telling
from storage.calls import CALL_PURPOSE, ROLLCALL_PURPOSE
from storage.database import from_db
from storage.models import CheckinRound, Member
from storage.repositories import Repositories

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


# The daily cap per number counts the calls of the last 24 hours.
CAP_WINDOW = timedelta(hours=24)
NOT_PLACED = "not placed"  # an outbox row's error when the call was refused as it was dialled


def can_call(services: Services, member: Member) -> bool:
    """She asked for a call before the alert, to a number that is hers (care.rounds.verify)."""
    return (
        VOICE in services.channels
        and member.call_before_alert
        and member.call_number is not None
        and member.call_verified_at is not None
        and member.active
    )


async def watched(work: UnitOfWork, member: Member) -> bool:
    """A manager in one of her teams, or the desk itself, watches her: a call before the alert
    is for them, and the alert of a person nobody watches would reach nobody anyway."""
    if await work.repos.teams.managers_watching(member.id):
        return True
    return await desk.watches(work, member)


async def dial_refusal(
    repos: Repositories,
    services: Services,
    number: str,
    now: datetime,
    besides: int = 0,
    capped: bool = True,
) -> str | None:
    """Why the city's phone may not ring `number` now: a country or a kind of number the
    deployment does not call (asked again at dial time: the setting may have changed since it
    was set), or the number's calls of the last 24 hours at the cap, whoever's number it is.
    None when it may. `besides`: the outbox row about to be dialled, not counted. `capped`:
    False for the check-in calls of a person watched by phone alone (her only channel): the
    cap would let anyone's calls to her number stop them, and a false alert go out."""
    refused = numbers.refusal(number, services.settings.call_countries)
    if refused is not None:
        return refused.value
    if not capped:
        return None
    cap = services.settings.call_number_daily
    if await repos.calls.calls_to(number, now - CAP_WINDOW, besides) >= cap:
        return "number_capped"
    return None


def month_start(services: Services, now: datetime) -> datetime:
    local = now.astimezone(services.timezone)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class Budget:
    used: int  # calls this month so far
    limit: int  # the month's budget
    # Calls by the month's end: the check-ins of people watched by phone alone still due (never
    # refused by the budget: her only channel, so they must be foreseen), and every other
    # call (re-sends, calls before an alert, verifications) at this month's pace.
    forecast: int
    phone_only_ahead: int = 0  # of which: check-in calls still due to people without LINE

    @property
    def left(self) -> int:
        return max(0, self.limit - self.used)


def slots_left(next_due: datetime | None, interval_days: int, until: datetime) -> int:
    """Check-ins from `next_due` every `interval_days` up to `until`."""
    if next_due is None or next_due > until or interval_days <= 0:
        return 0
    return int((until - next_due) / timedelta(days=interval_days)) + 1


async def budget(work: UnitOfWork) -> Budget:
    services = work.services
    start = month_start(services, work.now)
    used = await work.repos.calls.placed_since(start)
    month_days = calendar.monthrange(start.year, start.month)[1]
    end = start + timedelta(days=month_days)
    elapsed = max(1.0, (work.now - start).total_seconds() / 86400)
    remaining = max(0.0, (end - work.now).total_seconds() / 86400)
    # Not paced: the check-ins are foreseen below, and a roll-call's calls are a disaster's,
    # not a pace the rest of the month keeps.
    checkins = await work.repos.calls.placed_since_for(start, ("checkin", ROLLCALL_PURPOSE))
    ahead = sum(
        slots_left(from_db(due), interval, end)
        for interval, due in await work.repos.calls.phone_only_schedules()
    )
    paced = round((used - checkins) * remaining / elapsed)
    return Budget(used, services.settings.call_budget, used + ahead + paced, ahead)


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
    # Nobody to alert, a number the deployment does not call, or its day's calls spent: the
    # alert goes on without a call, as it does past the budget.
    if not await watched(work, member):
        log.info("member %s is watched by nobody: no call before the alert", member.id)
        work.services.metrics.calls.labels("unwatched").inc()
        return False
    refused = await dial_refusal(work.repos, work.services, member.call_number, work.now)
    if refused is not None:
        log.warning("no call to member %s's number: %s", member.id, refused)
        work.services.metrics.calls.labels(refused).inc()
        return False
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


async def heat_call(work: UnitOfWork, member_id: int, slot_at: datetime, resend: bool) -> Telling:
    """The heat check of a person watched by phone alone (care.broadcasts.heat): the
    check-in's keys and tokens, but its words are the hot day's, with the advice (cool the
    room, drink water) she would read in LINE: a call that only asks お元気ですか on the
    day of an alert leaves out why she is rung, and what to do."""
    member = await work.repos.members.get(member_id)
    assert member is not None
    work.services.metrics.calls.labels("checkin").inc()
    closing = "call.no_key" if resend else "call.no_key_later"
    question = "gaps41.call.heat_again" if resend else "gaps41.call.heat"
    return _telling(work, member, closing, question, t=int(slot_at.timestamp()))


def _telling(
    work: UnitOfWork,
    member: Member,
    closing: str,
    question_key: str = "call.question",
    **about: int,
) -> Telling:
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
    question = locale.t(question_key, name=display_name(locale, member))
    return Telling(Form.CALL, locale.language, question, locale.t(closing), choices=choices)


async def ended(work: UnitOfWork, round_id: int) -> bool:
    """No answer, busy, a machine, or hung up without a key: the alert is due now.
    -> whether the round was still waiting on the call."""
    settled = await work.repos.calls.ended(round_id, work.now)
    if settled:
        work.services.metrics.calls.labels("unanswered").inc()
    return settled


def allowed(services: Services, number: str) -> None:
    """Refuse, with the reason, a number the city's phone may not ring (care.rounds.numbers)."""
    countries = services.settings.call_countries
    refused = numbers.refusal(number, countries)
    if refused is not None:
        raise Refused(refused, countries=numbers.countries_label(countries))


async def set_consent(
    work: UnitOfWork, member: Member, number: str, before_alert: bool, by: str
) -> str | None:
    """The person's number and whether they are rung before the alert, as they (by="self") or
    the desk's staff for them set it. -> the number as it will be dialled."""
    dialled = e164(number) if number.strip() else None
    if number.strip() and dialled is None:
        raise Refused(Refusal.INVALID_PHONE)
    if dialled is not None:
        allowed(work.services, dialled)
    if before_alert and VOICE not in work.services.channels:
        raise Refused(Refusal.NO_CALLS)
    if before_alert and dialled is None:
        raise Refused(Refusal.INVALID_PHONE)
    await work.repos.calls.set_consent(member.id, dialled, before_alert, by)
    return dialled
