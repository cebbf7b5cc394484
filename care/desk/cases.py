"""The last rung: the 社協 or city desk.

An alert nobody took, even after it was sent again, becomes a case at the desk (where the
deployment has one: MIMAMORI_DESK_AFTER). Staff take a case (the others see who), log each
call, note what they learn, and close it with an outcome. A safe outcome closes the alert and
tells the managers the desk found the person safe; another outcome closes the alert and tells
them the desk will call; 連絡がつかないまま継続 keeps the case open. Whatever the person or a
manager does meanwhile (OK, 対応します, 無事を確認しました, a block) shows on the case, and the
person's own OK or a manager's confirmation closes it. `care.rounds.protocol` decides all of it;
this module carries it out."""

from __future__ import annotations

from care.desk import visits
from care.errors import Refusal, Refused
from care.rounds import carry
from care.rounds.carry import Occasion, teller
from care.rounds.due import rounds_due
from care.rounds.ladder import Step
from care.rounds.notify import display_name, notify_managers, tell_managers_about
from care.rounds.protocol import Audience, Decision, Event, Fact, Tell, decide, stage_of
from care.services import UnitOfWork
from ground.i18n import Locale
from ground.telling import Telling
from storage.desk import DeskCase
from storage.models import OPEN_STATES, CheckinRound, Member

CALL_RESULTS = ("reached", "no_answer", "voicemail", "wrong_number")
# 無事: 外出していた, 入院していた, 寝ていた, 電話の電池切れ, 操作が分からなかった
SAFE_OUTCOMES = ("out", "hospital", "asleep", "battery", "confused")
# 救急搬送, 警察対応, 亡くなっていた
OTHER_OUTCOMES = ("ambulance", "police", "died")
OUTCOMES = SAFE_OUTCOMES + OTHER_OUTCOMES
CONTINUING = "unreachable"  # 連絡がつかないまま継続: a step; the case stays open
NOTE_LIMIT = 1000

# What the protocol tells the desk, as the step it leaves on the case; SAFE and CONFIRMED
# also close it (the person's own OK, a manager's confirmation).
_HEARD = {
    Fact.SAFE: "answered",
    Fact.CONFIRMED: "family_confirmed",
    Fact.TAKEN: "family_took",
    Fact.STOPPED: "stopped",
    Fact.UNWELL: "unwell",
    Fact.MISTAKE: "mistake",
    Fact.RECOVERED: "recovered",
    Fact.NOT_FOUND: "family_not_found",
    Fact.WORDS: "words",
    Fact.HELP_ALERT: "help",
}
_CLOSING = (Fact.SAFE, Fact.CONFIRMED, Fact.RECOVERED)


async def escalate_to_the_desk(work: UnitOfWork, limit: int) -> int:
    """Alerts nobody took within `desk_after` of being sent again become cases at the desk,
    and the managers hear the desk has it. -> how many rounds were looked at."""
    if work.services.timings.desk_after is None:
        return 0
    rounds, read = await rounds_due(work, Step.ESCALATE, limit)
    members = await work.repos.members.get_many([r.member_id for r in rounds])
    for checkin in rounds:
        decision = decide(stage_of(checkin), Event.ESCALATE)
        if decision is None:
            continue
        await _escalate(work, members[checkin.member_id], checkin, decision, "desk.at_desk_notice")
    return read


def exists(work: UnitOfWork) -> bool:
    """The deployment has a desk (MIMAMORI_DESK_AFTER)."""
    return work.services.timings.desk_after is not None


async def watches(work: UnitOfWork, member: Member) -> bool:
    """The desk watches this person itself (運営が見守る), where the deployment has a desk."""
    if work.services.timings.desk_after is None:
        return False
    return await work.repos.teams.desk_watches(member.id)


async def take_over_now(work: UnitOfWork, member: Member, checkin: CheckinRound) -> bool:
    """An alert (no answer, or a call for help) of a person the desk watches itself, or whom
    nobody watches, is a case at once. -> True when the desk has it."""
    if not exists(work):
        return False
    if not await watches(work, member) and await work.repos.teams.managers_watching(member.id):
        return False
    decision = decide(stage_of(checkin), Event.ESCALATE)
    if decision is None:
        return False
    await _escalate(work, member, checkin, decision, "desk.watching_notice")
    return True


async def _escalate(
    work: UnitOfWork, member: Member, checkin: CheckinRound, decision: Decision, notice: str
) -> None:
    occasion = Occasion(member, checkin, Event.ESCALATE, notice=notice)
    await carry.carry_out(work, occasion, decision)


@teller((Audience.MANAGERS, Fact.AT_DESK))
async def _at_desk(work: UnitOfWork, occasion: Occasion, _: Tell) -> int:
    """The managers hear the desk has it (and why: nobody took it, or the desk watches her)."""
    assert occasion.checkin is not None
    return await tell_managers_about(
        work, occasion.person, "at_desk", occasion.notice, round_id=occasion.checkin.id
    )


@teller(*((Audience.DESK, fact) for fact in (Fact.CASE, *_HEARD)))
async def _the_desk_hears(work: UnitOfWork, occasion: Occasion, said: Tell) -> None:
    """What the protocol tells the desk: a case opens (once a round), or what happened shows
    on the round's case (体調 is a case of its own where the deployment asks for it)."""
    checkin = occasion.checkin
    if said.fact is Fact.CASE:
        assert checkin is not None
        await open_case(work, occasion.person, "help" if checkin.urgent else "untaken", checkin)
        return
    await hear(work, checkin, said.fact, occasion.who, occasion.person, occasion.words)


async def open_case(
    work: UnitOfWork,
    member: Member,
    reason: str,
    checkin: CheckinRound | None = None,
    roll_call_id: int | None = None,
) -> int | None:
    """A case for the desk (once per round). -> its id, or None if the round had one."""
    urgent = reason not in ("untaken", "unwell", "unwatched")
    case_id = await work.repos.desk.open_case(
        member.id,
        reason,
        urgent,
        work.now,
        round_id=checkin.id if checkin else None,
        roll_call_id=roll_call_id,
    )
    if case_id is not None:
        await work.repos.desk.add_step(case_id, "", "opened", work.now, result=reason)
    elif checkin is not None and (existing := await work.repos.desk.open_of_round(checkin.id)):
        # The round's case is open already (a second call for help): it shows on it.
        await work.repos.desk.add_step(existing.id, "", "again", work.now, result=reason)
    return case_id


async def hear(
    work: UnitOfWork,
    checkin: CheckinRound | None,
    fact: Fact,
    who: str = "",
    member: Member | None = None,
    words: str | None = None,
) -> None:
    """What the protocol tells the desk about a round, on the round's open case (none: there
    is nobody at the desk to tell, but 体調 is a case of its own where the deployment asks).
    `words`: what she wrote, for her words on the case."""
    if fact not in _HEARD:
        return
    case = await work.repos.desk.open_of_round(checkin.id) if checkin is not None else None
    if case is None and fact is Fact.UNWELL and member is not None:
        await _unwell_case(work, member, checkin)
        return
    if case is None:
        return
    kind = _HEARD[fact]
    if fact is Fact.WORDS:
        # Her own words on the case, as she wrote them (a sticker or a photo, said so).
        who = words or ""
    if fact is Fact.HELP_ALERT:
        await work.repos.desk.mark_urgent(case.id)  # her call for help, on the case it holds
        who = words or ""
    await work.repos.desk.add_step(case.id, "", kind, work.now, note=who or None)
    if fact in _CLOSING:
        await work.repos.desk.close(case.id, "", kind, who or None, work.now)
        await visits.call_off(work, case.id)  # each partner asked hears it at once


async def _unwell_case(work: UnitOfWork, member: Member, checkin: CheckinRound | None) -> None:
    """少し体調が悪い at the desk, where the deployment asks for it: a case (not urgent), or a
    step on the one the person's last 体調 left open, so a second tap is not a second case."""
    timings = work.services.timings
    if timings.desk_after is None or not timings.desk_unwell:
        return
    existing = await work.repos.desk.open_of_member(member.id, "unwell")
    if existing is not None:
        await work.repos.desk.add_step(existing.id, "", "again", work.now, result="unwell")
        return
    await open_case(work, member, "unwell", checkin)


async def case_of(work: UnitOfWork, case_id: int | None) -> DeskCase:
    case = await work.repos.desk.get(case_id) if case_id else None
    if case is None:
        raise Refused(Refusal.NO_SUCH_CASE)
    return case


async def _open(work: UnitOfWork, case_id: int | None) -> DeskCase:
    case = await case_of(work, case_id)
    if not case.open:
        raise Refused(Refusal.CASE_CLOSED)
    return case


def _note(text: str | None) -> str | None:
    cleaned = (text or "").strip()
    if len(cleaned) > NOTE_LIMIT or any(ord(ch) < 32 and ch not in "\n\t" for ch in cleaned):
        raise Refused(Refusal.INVALID_NOTE, limit=NOTE_LIMIT)
    return cleaned or None


def required_note(text: str | None) -> str:
    """A note that must say something (a note of its own, not one beside a call)."""
    cleaned = _note(text)
    if cleaned is None:
        raise Refused(Refusal.INVALID_NOTE, limit=NOTE_LIMIT)
    return cleaned


async def take(work: UnitOfWork, case_id: int | None, staff: str) -> DeskCase:
    """The first staff member to take a case has it; the others see who. -> the case now."""
    case = await _open(work, case_id)
    if await work.repos.desk.take(case.id, staff, work.now):
        await work.repos.desk.add_step(case.id, staff, "taken", work.now)
        await work.repos.admin.audit(staff, "desk_taken", f"case {case.id}", work.now)
    return await case_of(work, case.id)


async def log_call(
    work: UnitOfWork, case_id: int | None, staff: str, result: str, note: str | None = None
) -> None:
    """A call made (つながった, 出ない, 留守電, 番号違い), with what was said."""
    case = await _open(work, case_id)
    if result not in CALL_RESULTS:
        raise Refused(Refusal.NOT_ALLOWED)
    await work.repos.desk.add_step(case.id, staff, "call", work.now, result, _note(note))
    await work.repos.admin.audit(staff, "desk_call", f"case {case.id}: {result}", work.now)


async def add_note(work: UnitOfWork, case_id: int | None, staff: str, note: str) -> None:
    case = await _open(work, case_id)
    text = required_note(note)
    await work.repos.desk.add_step(case.id, staff, "note", work.now, note=text)
    await work.repos.admin.audit(staff, "desk_note", f"case {case.id}", work.now)


async def close(
    work: UnitOfWork, case_id: int | None, staff: str, outcome: str, note: str | None = None
) -> DeskCase:
    """The case's outcome. 無事 closes the alert and the managers hear the desk found the
    person safe; 救急搬送, 警察対応 or 亡くなっていた close it and they hear the desk will call
    them (what happened is said by a person, not by the bot); 連絡がつかないまま継続 keeps it
    open. -> the case now."""
    case = await _open(work, case_id)
    text = _note(note)
    if outcome == CONTINUING:
        await work.repos.desk.add_step(case.id, staff, "continued", work.now, outcome, text)
        await work.repos.admin.audit(staff, "desk_continued", f"case {case.id}", work.now)
        return case
    if outcome not in OUTCOMES:
        raise Refused(Refusal.NOT_ALLOWED)
    member = await work.repos.members.get(case.member_id)
    checkin = await acted_on(work, case)
    if member is not None:
        await _close_alert(work, member, checkin, outcome)
    if checkin is not None and checkin.id != case.round_id:
        # Her open alert had a case of its own: what the desk found closes that one too.
        other = await work.repos.desk.open_of_round(checkin.id)
        if other is not None and other.id != case.id:
            await work.repos.desk.close(other.id, staff, outcome, text, work.now)
            await work.repos.desk.add_step(other.id, staff, "closed", work.now, outcome, text)
    await work.repos.desk.close(case.id, staff, outcome, text, work.now)
    await work.repos.desk.add_step(case.id, staff, "closed", work.now, outcome, text)
    await work.repos.admin.audit(staff, "desk_closed", f"case {case.id}: {outcome}", work.now)
    await visits.call_off(work, case.id)  # closed for every partner asked, too
    return await case_of(work, case.id)


async def acted_on(work: UnitOfWork, case: DeskCase) -> CheckinRound | None:
    """The round a case's outcome acts on: the person's open round, whichever case it came
    from (staff act on her state, not on a round that is over: a 無事 on an older case must not
    reassure her family while a newer call for help is open), else the case's own round."""
    current = await work.repos.rounds.open_round(case.member_id)
    if current is not None:
        return current
    return await work.repos.rounds.get(case.round_id) if case.round_id else None


async def _close_alert(
    work: UnitOfWork, member: Member, checkin: CheckinRound | None, outcome: str
) -> None:
    """The desk's outcome on the case's round: an open alert closes with it; a case with
    none open (a roll-call's 助けが必要, 体調, a person who blocked the bot) closes alone. The
    protocol says who hears what the desk found."""
    event = Event.DESK_SAFE if outcome in SAFE_OUTCOMES else Event.DESK_CLOSE
    open_round = checkin if checkin is not None and checkin.state in OPEN_STATES else None
    decision = decide(stage_of(open_round), event)
    if decision is not None:
        occasion = Occasion(member, open_round, event, outcome=outcome)
        await carry.carry_out(work, occasion, decision)


@teller((Audience.MANAGERS, Fact.DESK_CONFIRMED), (Audience.MANAGERS, Fact.DESK_CLOSED))
async def _tell_outcome(work: UnitOfWork, occasion: Occasion, _: Tell) -> int:
    """The managers hear the desk found the person safe (and how), or that the desk dealt
    with it and will call them: what happened otherwise is said by a person, not the bot."""
    member, outcome = occasion.person, occasion.outcome or ""
    round_id = occasion.checkin.id if occasion.checkin is not None else None
    safe = outcome in SAFE_OUTCOMES

    def build(locale: Locale, manager: Member) -> list[Telling]:
        key = "desk.confirmed_notice" if safe else "desk.closed_notice"
        text = locale.t(
            key, name=display_name(locale, member), outcome=locale.t(f"desk.outcome.{outcome}")
        )
        return [Telling.sentence(locale.language, text)]

    purpose = "desk_confirmed" if safe else "desk_closed"
    return await notify_managers(work, member, purpose, build, round_id=round_id)
