"""A call's number is hers before a call before an alert rings it.

Without this, anyone who followed the bot could type any number on My page and not answer: the
city's phone then rang it, and the month's budget ran out for the residents. Now a number set
on My page is verified by a call that reads a short code, digit by digit, which she types on My
page; or the desk's staff confirm it with her beside them (audited). Changing the number
un-verifies it (storage.calls.set_consent).

The verification call costs as much as any call: it is held to a few a day per person and per
number, to the number rules (care.rounds.numbers) and the daily cap per number (care.rounds.calls),
to the month's budget, and only for someone a manager or the desk watches (nobody else gets a call
before an alert). A code lasts minutes, and a few wrong codes spend it: a new call is needed. The
limits count call_attempts (storage.calls), which 退会 does not take away: leaving and coming back
starts none of them again. Across the deployment a month holds at most a tenth of the call budget
in verification calls (at least VERIFY_MONTH_LEAST), so that LINE accounts opened for it cannot
turn them into a drain on the budget; and no verification call rings a number that is already
another person's (her check-ins ring it, or it is verified as hers): a stranger would otherwise
spend that number's calls of the day, and hers would not be placed."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from care.desk import reading
from care.errors import Refusal, Refused
from care.rounds import calls
from care.rounds.notify import phone_only, tell_managers_about, tell_member
from care.services import UnitOfWork
from ground.channels import VOICE
from ground.telling import Form, Telling
from storage.calls import VERIFY_PURPOSE
from storage.models import Member

log = logging.getLogger("mimamori.verify")

CODE_DIGITS = 4  # short enough for her to keep in mind from the phone to My page
CODE_LIFETIME = timedelta(minutes=10)
TRIES = 3  # wrong codes before the call's code is spent
PER_PERSON_DAILY = 3  # verification calls a person may ask for in 24 hours
PER_NUMBER_DAILY = 3  # verification calls to one number in 24 hours, whoever asks
WINDOW = timedelta(hours=24)
VERIFY_MONTH_SHARE = 10  # a month's verification calls: at most 1/10 of the call budget...
VERIFY_MONTH_LEAST = 5  # ...and never fewer than this (a small budget still verifies a few)
BY_CALL = "call"  # call_verified_by when she typed the code


class Checked(StrEnum):
    VERIFIED = "verified"
    WRONG = "wrong_code"  # try again (values: left)
    SPENT = "code_spent"  # too many wrong codes: a new call is needed
    EXPIRED = "code_expired"  # too late: a new call is needed
    NONE = "no_code"  # no call waits for a code (or the number changed since)


@dataclass(frozen=True)
class Result:
    checked: Checked
    left: int = 0  # wrong codes she may still type


def code_hash(member_id: int, number: str, code: str) -> str:
    # Only a hash is kept: the code is not read back from the database.
    return hashlib.sha256(f"{member_id}:{number}:{code}".encode()).hexdigest()


def spoken_code(work: UnitOfWork, member: Member, code: str) -> Telling:
    """The call's words in her language, the code read one digit at a time (a text-to-speech
    voice reads 1234 as a number: せんにひゃく...)."""
    locale = work.locale(member.language)
    words = locale.t("calls.verify.digit_words").split(",")
    digits = locale.t("calls.verify.digit_separator").join(words[int(d)] for d in code)
    return Telling(Form.SPOKEN, locale.language, locale.t("calls.verify.call_text", digits=digits))


def month_cap(call_budget: int) -> int:
    """Verification calls a month may hold across the deployment."""
    return max(VERIFY_MONTH_LEAST, call_budget // VERIFY_MONTH_SHARE)


async def start(work: UnitOfWork, member: Member) -> None:
    """Place the call that reads her number's code (recorded in the outbox before it is sent).
    Refused, with the reason and nothing changed, where it may not go."""
    services = work.services
    number = member.call_number
    if VOICE not in services.channels:
        raise Refused(Refusal.NO_CALLS)
    if number is None:
        raise Refused(Refusal.NO_NUMBER)
    if member.call_verified_at is not None:
        raise Refused(Refusal.ALREADY_VERIFIED)
    calls.allowed(services, number)
    if not await calls.watched(work, member):
        raise Refused(Refusal.NOBODY_WATCHES)
    if await work.repos.calls.number_taken(number, besides=member.id):
        raise Refused(Refusal.NUMBER_TAKEN)
    since = work.now - WINDOW
    if await work.repos.calls.verifications_since(since, member_id=member.id) >= PER_PERSON_DAILY:
        raise Refused(Refusal.TOO_OFTEN, times=PER_PERSON_DAILY)
    if await work.repos.calls.verifications_since(since, number=number) >= PER_NUMBER_DAILY:
        raise Refused(Refusal.TOO_OFTEN, times=PER_NUMBER_DAILY)
    if await calls.dial_refusal(work.repos, services, number, work.now) is not None:
        raise Refused(Refusal.TOO_OFTEN, times=services.settings.call_number_daily)
    if (await calls.budget(work)).left <= 0:
        raise Refused(Refusal.CALLS_SPENT)
    cap = month_cap(services.settings.call_budget)
    month = calls.month_start(services, work.now)
    if await work.repos.calls.placed_since_for(month, (VERIFY_PURPOSE,)) >= cap:
        raise Refused(Refusal.VERIFY_MONTH_SPENT, times=cap)
    code = "".join(str(secrets.randbelow(10)) for _ in range(CODE_DIGITS))
    await work.repos.calls.add_verification(
        member.id, number, code_hash(member.id, number, code), work.now, work.now + CODE_LIFETIME
    )
    await work.repos.outbox.add(
        kind="push",
        channel=VOICE,
        recipients=[number],
        tellings=[spoken_code(work, member, code)],
        purpose=VERIFY_PURPOSE,
        now=work.now,
        recipient_member_id=member.id,
    )
    services.metrics.calls.labels("verify").inc()


def _clean(code: str) -> str:
    """What she typed, as digits: full-width ５６７８ and spaces or hyphens between."""
    text = unicodedata.normalize("NFKC", code)
    return "".join(c for c in text if not c.isspace() and c not in "-ー‐−")


async def check(work: UnitOfWork, member: Member, code: str) -> Result:
    """Her code against the call's. Counts a wrong one, so the caller commits before it says
    the result (a Refused raised here would roll the count back)."""
    waiting = await work.repos.calls.waiting_verification(member.id)
    if waiting is None or waiting.number != member.call_number:
        return Result(Checked.NONE)
    if waiting.expires_at <= work.now:
        await work.repos.calls.end_verification(waiting.id, "expired", work.now)
        return Result(Checked.EXPIRED)
    typed = _clean(code)
    right = typed.isdigit() and hmac.compare_digest(
        code_hash(member.id, waiting.number, typed), waiting.code_hash
    )
    if right:
        await work.repos.calls.set_verified(member.id, waiting.number, BY_CALL, work.now)
        await work.repos.calls.end_verification(waiting.id, "verified", work.now)
        return Result(Checked.VERIFIED)
    tries = await work.repos.calls.wrong_code(waiting.id)
    if tries >= TRIES:
        await work.repos.calls.end_verification(waiting.id, "spent", work.now)
        return Result(Checked.SPENT)
    return Result(Checked.WRONG, TRIES - tries)


async def waiting(work: UnitOfWork, member: Member) -> bool:
    """A verification call of her number waits for its code now."""
    found = await work.repos.calls.waiting_verification(member.id)
    return (
        found is not None
        and found.number == member.call_number
        and found.expires_at > work.now
        and member.call_verified_at is None
    )


async def confirm_present(
    work: UnitOfWork,
    member_id: int | None,
    staff: str,
    present: bool,
    registered_too: bool = True,
) -> Member:
    """Staff confirm her number with her beside them (the console's person card): the number
    is hers without a call. Refused without the tick that says she is present, and to the
    staff account that set the number (another account confirms it: one account alone would
    otherwise point her calls at any phone and call it hers). She hears it in LINE, and her
    managers. `registered_too`: care.desk.cases.known_person."""
    member, _ = await reading.known_person(work, member_id, registered_too)
    if not present:
        raise Refused(Refusal.NOT_PRESENT)
    if member.call_number is None:
        raise Refused(Refusal.NO_NUMBER)
    if member.call_consented_by == staff:
        raise Refused(Refusal.SAME_STAFF)
    calls.allowed(work.services, member.call_number)
    await work.repos.calls.set_verified(member.id, member.call_number, staff, work.now)
    found = await work.repos.calls.waiting_verification(member.id)
    if found is not None:
        await work.repos.calls.end_verification(found.id, "confirmed", work.now)
    await work.repos.admin.audit(staff, "desk_number_confirmed", f"会員ID {member.id}", work.now)
    ending = member.call_number[-4:]
    if not phone_only(member):
        await tell_member(
            work, member, "desk_number_confirmed", "calls.guard.number_confirmed", ending=ending
        )
    await tell_managers_about(
        work,
        member,
        "desk_number_confirmed",
        "calls.guard.number_confirmed_managers",
        ending=ending,
    )
    confirmed = await work.repos.members.get(member.id)
    assert confirmed is not None
    return confirmed
