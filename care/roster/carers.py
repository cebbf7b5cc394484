"""A roll-call's roster people sent to the partners assigned to them (their 民生委員, their
町会), on LINE: those who asked for help, the silent and the never asked, with how to find
them, where care.roster.visibility lets the partner see them (with 平常時同意, or anyone
during a declared disaster). Staff send it from the tally by 担当; partners not on LINE get the
printed page. Audited with counts, no names. Sent again to the same partners only after
RESEND_AFTER: a double click or a replayed form floods nobody."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from care.broadcasts.rollcall import standing
from care.roster import visibility
from care.rounds.notify import push_to
from care.services import UnitOfWork
from ground.telling import Telling
from storage.rollcalls import RollCall
from storage.roster import RosterPerson

NEEDING = ("help", "silent", "unasked")  # who a partner goes to see, in this order
PER_MESSAGE = 20  # people to a message: LINE's text takes 5,000 characters


# A second send of one roll-call's people to the same partners within this is refused: a
# double click or a replayed form would otherwise push the same list to each partner again.
RESEND_AFTER = timedelta(minutes=10)


@dataclass(frozen=True)
class Sent:
    partners: int  # partners sent to
    people: int  # people named, all partners together
    # Refused: every partner it would go to had it within RESEND_AFTER; sent again from then.
    again_from: datetime | None = None


async def send(work: UnitOfWork, roll_call: RollCall, staff: str) -> Sent:
    """Each assigned partner on LINE gets their people who need a visit; a partner who had
    this roll-call's list within RESEND_AFTER is left out, and when that is every one of
    them nothing is sent (audited, with when it may go again)."""
    moment = await visibility.now(work)
    entries = [
        (RosterPerson.from_row(row), standing(row))
        for row in await work.repos.roster.in_roll_call(roll_call.id)
    ]
    needing = sorted(
        (e for e in entries if e[1] in NEEDING and not e[0].removed),
        key=lambda e: NEEDING.index(e[1]),
    )
    plan = []
    for row in await work.repos.partners.active():
        partner = await work.repos.partners.get(row["id"])
        if partner is None or not partner.on_line or partner.member_id is None:
            continue
        theirs = [(p, s) for p, s in needing if visibility.partner_sees(partner, p, moment)]
        member = await work.repos.members.get(partner.member_id)
        if not theirs or member is None or not member.active:
            continue
        plan.append((partner, member, theirs))
    last_at, last_to = await work.repos.roster.carers_sent(roll_call.id)
    recent = last_at is not None and work.now < last_at + RESEND_AFTER
    if recent and plan and all(partner.id in last_to for partner, _, _ in plan):
        assert last_at is not None
        detail = f"roll-call {roll_call.id}: partners {len(plan)}, sent {last_at.isoformat()}"
        await work.repos.admin.audit(staff, "roster_carers_too_soon", detail, work.now)
        return Sent(0, 0, last_at + RESEND_AFTER)
    if recent:
        plan = [entry for entry in plan if entry[0].id not in last_to]
    partners_sent = people_named = 0
    for partner, member, theirs in plan:
        locale = work.locale(member.language)
        for start in range(0, len(theirs), PER_MESSAGE):
            lines = [
                locale.t(
                    "register41.carer_line",
                    standing=locale.t(f"register41.standing.{where}"),
                    name=person.name,
                    furigana=person.furigana or "-",
                    address=person.address or "-",
                    phone=person.phone or "-",
                )
                for person, where in theirs[start : start + PER_MESSAGE]
            ]
            head = locale.t("register41.carer_head", count=len(theirs), carer=partner.name)
            body = "\n\n".join([head, *lines]) if start == 0 else "\n\n".join(lines)
            await push_to(work, member, [Telling.sentence(locale.language, body)], "roster")
        partners_sent += 1
        people_named += len(theirs)
    if plan:
        sent_to = frozenset(partner.id for partner, _, _ in plan) | (last_to if recent else set())
        await work.repos.roster.mark_carers_sent(roll_call.id, frozenset(sent_to), work.now)
    detail = f"roll-call {roll_call.id}: partners {partners_sent}, people {people_named}"
    await work.repos.admin.audit(staff, "roster_sent_to_carers", detail, work.now)
    return Sent(partners_sent, people_named)
