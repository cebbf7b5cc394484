"""The letter the city mails each person on the roster: a one-time code (typed, or scanned
from its QR, which opens the bot's chat with it filled in) that makes the LINE account sending
it that person. Until then she is reached by phone, if the roster has one; after, by LINE.

The code has a partner code's form (ground.link_codes: three groups of four): the chat already
knows it for a code, and the person's family types it the same way. A code is spent once sent,
lasts LETTER_LIFETIME (a letter goes by post and may wait on a table for weeks), and the
console prints a new letter (a new code) whenever asked; the old one stops working."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from care.errors import Refusal, Refused
from care.roster import importing
from care.services import UnitOfWork
from ground import invite_codes, link_codes
from ground.channels import VOICE
from ground.i18n import Locale
from ground.line_platform import LinePlatform
from storage.models import Member
from storage.roster import RosterPerson

LETTER_LIFETIME = timedelta(days=90)


async def person(work: UnitOfWork, person_id: int | None) -> RosterPerson:
    found = await work.repos.roster.get(person_id) if person_id else None
    if found is None or found.removed:
        raise Refused(Refusal.NO_SUCH_ROSTER_PERSON)
    return found


def expires(person: RosterPerson) -> datetime | None:
    return person.letter_code_at + LETTER_LIFETIME if person.letter_code_at else None


async def new_letter(work: UnitOfWork, person_id: int | None, staff: str) -> str:
    """A new code for a new letter (the one before stops working). -> the code."""
    found = await person(work, person_id)
    code = link_codes.new_code()
    await work.repos.roster.set_letter_code(found.id, code, work.now)
    await work.repos.admin.audit(staff, "roster_letter", f"roster {found.id}", work.now)
    return code


# The most letters one printable page holds: a browser lays out and prints 200 pages, each
# with its QR, in reasonable time; the page says so, and the rest are printed by asking again.
LETTERS_PER_PAGE = 200


def can_have_letter(found: RosterPerson) -> bool:
    """On the roster and not yet on LINE: a letter is how she joins."""
    return not found.removed and found.linked_at is None


def has_valid_letter(found: RosterPerson, now: datetime) -> bool:
    """Her current code was put on a letter to print, and still works: a code the import made
    and nobody printed is no letter in her hands."""
    until = expires(found)
    printed = found.letter_printed_at
    return (
        found.letter_code is not None
        and until is not None
        and until > now
        and printed is not None
        and found.letter_code_at is not None
        and printed >= found.letter_code_at
    )


async def printed(work: UnitOfWork, found: RosterPerson) -> None:
    """Her code was shown on a letter to print (the letter page): it counts as her letter."""
    if found.letter_code and can_have_letter(found):
        await work.repos.roster.letter_printed(found.id, work.now)


async def print_letters(
    work: UnitOfWork, person_ids: list[int] | None, staff: str
) -> tuple[list[RosterPerson], int]:
    """Letters for many at once, each issued as one letter is (a new code, the one before
    void, audited): those named (`person_ids`), else everyone on the roster without LINE who
    has no valid letter. At most LETTERS_PER_PAGE. -> (the people, as they are now, each with
    her new code; how many more are left for the next page)."""
    everyone = await work.repos.roster.everyone(removed_too=False)
    if person_ids is None:
        chosen = [p for p in everyone if can_have_letter(p) and not has_valid_letter(p, work.now)]
    else:
        wanted = set(person_ids)
        chosen = [p for p in everyone if p.id in wanted and can_have_letter(p)]
    batch, left = chosen[:LETTERS_PER_PAGE], max(0, len(chosen) - LETTERS_PER_PAGE)
    issued = []
    for found in batch:
        await new_letter(work, found.id, staff)
        await work.repos.roster.letter_printed(found.id, work.now)
        fresh = await work.repos.roster.get(found.id)
        assert fresh is not None
        issued.append(fresh)
    detail = f"letters {len(issued)}, left {left}"
    await work.repos.admin.audit(staff, "roster_letters_printed", detail, work.now)
    return issued, left


@dataclass(frozen=True)
class Declined:
    """A code refused whose line in the audit log must stay: a raised refusal would undo it
    with the rest of the event's changes."""

    refusal: Refusal


async def has_own_record(work: UnitOfWork, member: Member) -> bool:
    """Her LINE is someone's in the service already: in a team (watched, or watching
    someone), or with check-ins of her own. A follow alone (a newcomer) is no record."""
    if await work.repos.teams.teams_of(member.id):
        return True
    return await work.repos.rounds.any_of(member.id)


async def link_by_code(
    work: UnitOfWork, member: Member, code: str
) -> RosterPerson | Declined | None:
    """The roster person whose letter carries `code`, now reached through `member`'s LINE;
    None when no letter carries it (a partner's code, say). Refused when the code expired, or
    when this LINE account is another roster person already (one account answers for one
    person: the tally counts each by her own answer). Declined (nothing changed, audited)
    when this LINE account has a record of its own: a relative whose own check-ins, or whose
    team, would become the register person's, her 元気 counted as that person's safety."""
    found = await work.repos.roster.by_letter_code(code)
    if found is None or found.removed:
        return None
    made = found.letter_code_at
    if made is None or made + LETTER_LIFETIME <= work.now:
        raise Refused(Refusal.LETTER_EXPIRED)
    other = await work.repos.roster.of_member(member.id)
    if other is not None and other.id != found.id:
        raise Refused(Refusal.LETTER_TAKEN)
    if other is None and await has_own_record(work, member):
        what = f"roster {found.id} 会員ID {member.id}"
        await work.repos.admin.audit("member", "roster_link_own_record", what, work.now)
        return Declined(Refusal.LETTER_OWN_RECORD)
    if await work.repos.partners.linked_to(member.id) is not None:
        # A 民生委員 who scans her QR for her on their own phone: their LINE would answer
        # her roll-calls (their own 無事です counted hers) and her phone would ring no more.
        raise Refused(Refusal.LETTER_PARTNER)
    if not await work.repos.roster.link(found.id, code, member.id, work.now):
        return None
    if found.linked_at is None and found.member_id != member.id:
        # The roll-calls that named her by phone name her LINE now: the tally by 担当 (and
        # its file for the 被災者支援 systems) finds her by her member, and must not lose her
        # mid-storm because she joined.
        await work.repos.rollcalls.move_person(found.member_id, member.id)
        # The member she was by phone is retired: she is asked once, in LINE.
        await work.repos.members.withdraw(found.member_id, work.now)
    what = f"roster {found.id} 会員ID {member.id}"
    await work.repos.admin.audit("member", "roster_linked", what, work.now)
    return found


async def unlink(work: UnitOfWork, member: Member) -> None:
    """Her LINE account leaves the service (退会): she stays on the city's roster (the city
    keeps it by law, not by her choice of app), reached by phone again where it has one."""
    found = await work.repos.roster.of_member(member.id)
    if found is None:
        return
    by_phone = await importing.by_phone_member(work, found.values())
    await work.repos.roster.unlink(found.id, by_phone)
    # Still the city's person: the roll-calls that named her (one open now, say) keep her on
    # their tally by 担当, which finds her by the member she is now.
    await work.repos.rollcalls.move_person(member.id, by_phone)
    await work.repos.admin.audit("member", "roster_unlinked", f"roster {found.id}", work.now)


def reached_by(person: RosterPerson, member: Member | None) -> str:
    """How a roll-call reaches her: line, phone, or none (no phone, no LINE yet)."""
    if person.linked_at is not None:
        return "line"
    if member is not None and member.channel == VOICE and member.channel_address:
        return "phone"
    return "none"


async def chat_link(line: LinePlatform, locale: Locale, code: str) -> str | None:
    """What the letter's QR opens: the bot's chat with the code typed in (the person presses
    send); None when the account's basic id is unknown (the letter shows the code alone)."""
    basic_id = await line.bot_basic_id()
    if not basic_id:
        return None
    return invite_codes.chat_link(basic_id, locale.t("register41.letter_prefill", code=code))
