"""A roll-call by phone: a person watched by phone alone (no LINE) is rung with the roll-call's
question, and her key answers it as the LINE buttons do (care.broadcasts.rollcall.answer): 1
無事です, 3 助けが必要です (her managers are told at once). In a storm or a quake she is the one
a LINE message cannot reach, and the one a city most needs to hear from.

A call unanswered (no answer, busy, a machine, hung up without a key) rings once more after
MIMAMORI_ROLLCALL_CALL_AGAIN; if she has not answered then, she is counted silent. The call
again is timed from the first call, not from Twilio's report of its end, so a report that
never comes holds nothing up.

Calls cost money: a roll-call never spends past the month's call budget (care.rounds.calls):
at its start each person it would call counts two calls (hers and its call again), and those
the budget cannot cover are named unasked, with why; the call again is placed only while the
budget has room. Only numbers the deployment may ring are rung (care.rounds.numbers).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from care.broadcasts import occasions
from care.broadcasts.reach import CALL_BUDGET, NUMBER_REFUSED
from care.rounds import calls, numbers
from care.rounds.notify import address_of
from care.services import Services, UnitOfWork
from ground.channels import VOICE
from ground.telling import Choice, Form, Telling
from storage.calls import ROLLCALL_PURPOSE
from storage.models import Member

log = logging.getLogger("mimamori.rollcall_calls")

PURPOSE = ROLLCALL_PURPOSE  # the outbox rows that ring a roll-call's question
ACTION = "rcall"  # the keys' signed tokens: the person (m), the roll-call (r), the answer (v)
# The keys and what each answers: the same answers as the LINE buttons. 3 is 助けが必要 on
# every call mimamori places (a check-in's call too); 2 means nothing here.
KEYS = {"1": "safe", "3": "help"}
# Calls a person may cost a roll-call: hers, and the one call again.
CALLS_EACH = 2
# A key that means nothing on this call: no token, so Twilio's key brings nothing back.
NO_KEY = Choice("", "", "")


def call_refusal(services: Services, member: Member) -> str | None:
    """Why her number is not rung for a roll-call (NUMBER_REFUSED), or None when it may be."""
    _, number = address_of(services, member)
    if numbers.refusal(number, services.settings.call_countries) is not None:
        return NUMBER_REFUSED
    return None


async def calls_left(work: UnitOfWork) -> int:
    """The month's calls a roll-call may still spend (care.rounds.calls.budget)."""
    if VOICE not in work.services.channels:
        return 0
    return (await calls.budget(work)).left


@dataclass
class Budgeting:
    """The call budget as a roll-call's plan spends it, person by person."""

    left: int

    def take(self) -> str | None:
        """One more person to ring: None when the budget covers her call and its call again,
        CALL_BUDGET otherwise."""
        if self.left < CALLS_EACH:
            return CALL_BUDGET
        self.left -= CALLS_EACH
        return None


def question(
    work: UnitOfWork, member: Member, roll_call_id: int, again: bool, occasion: str | None = None
) -> Telling:
    """The roll-call's question as a call in her language, keys 1 and 3, naming the warning
    that started it (`occasion`, as the LINE question does: care.broadcasts.occasions.body);
    said at the end when no key came: that it rings again, or (the call again) whom to call
    for help."""
    locale = work.locale(member.language)
    codec = work.services.postbacks
    choices = []
    for key in range(1, max(int(key) for key in KEYS) + 1):
        answer = KEYS.get(str(key))
        if answer is None:
            choices.append(NO_KEY)
            continue
        token = codec.encode(ACTION, m=member.id, r=roll_call_id, v=answer)
        choices.append(Choice(answer, locale.t(f"rollcall.{answer}"), token))
    closing = locale.t("phone41.call.no_key_last" if again else "phone41.call.no_key")
    spoken = occasions.body(locale, occasion, on_call=True)
    return Telling(Form.CALL, locale.language, spoken, closing, choices=tuple(choices))


async def ring(work: UnitOfWork, roll_call_id: int, member: Member, again: bool = False) -> None:
    """Her phone rings with the question (recorded for the outbox's voice channel); the first
    call sets when it rings again."""
    services = work.services
    _, number = address_of(services, member)
    roll_call = await work.repos.rollcalls.get(roll_call_id)
    occasion = roll_call.occasion if roll_call is not None else None
    await work.repos.outbox.add(
        kind="push",
        channel=VOICE,
        recipients=[number],
        tellings=[question(work, member, roll_call_id, again, occasion)],
        purpose=PURPOSE,
        now=work.now,
        recipient_member_id=member.id,
    )
    next_call = None if again else work.now + services.settings.rollcall_call_again
    await work.repos.rollcalls.called(roll_call_id, member.id, next_call)
    services.metrics.calls.labels("rollcall").inc()


async def call_again(work: UnitOfWork, limit: int) -> int:
    """Those rung for a roll-call who have not answered are rung once more, while the month's
    budget has room and her number may still be rung; then they stay silent."""
    due = await work.repos.rollcalls.due_calls_again(work.now, limit)
    left = await calls_left(work)
    for roll_call_id, _, member in due:
        await work.repos.rollcalls.no_call_again(roll_call_id, member.id)
        if left <= 0:
            log.warning("call budget spent: member %s is not rung again", member.id)
            work.services.metrics.calls.labels("over_budget").inc()
            continue
        channel, _ = address_of(work.services, member)
        # Her number may have gone since (退会, the desk moved her to LINE) or be refused now.
        if channel != VOICE or call_refusal(work.services, member) is not None:
            continue
        await ring(work, roll_call_id, member, again=True)
        left -= 1
    return len(due)
