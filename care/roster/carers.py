"""A roll-call's roster people sent to the partners assigned to them (their 民生委員, their
町会), on LINE: those who asked for help, the silent and the never asked, with how to find
them, where care.roster.visibility lets the partner see them (with 平常時同意, or anyone
during a declared disaster). Staff send it from the tally by 担当; partners not on LINE get the
printed page. Audited with counts, no names."""

from __future__ import annotations

from care.broadcasts.rollcall import standing
from care.roster import visibility
from care.rounds.notify import push_to
from care.services import UnitOfWork
from ground.telling import Telling
from storage.rollcalls import RollCall
from storage.roster import RosterPerson

NEEDING = ("help", "silent", "unasked")  # who a partner goes to see, in this order
PER_MESSAGE = 20  # people to a message: LINE's text takes 5,000 characters


async def send(work: UnitOfWork, roll_call: RollCall, staff: str) -> tuple[int, int]:
    """-> (partners sent to, people named)."""
    moment = await visibility.now(work)
    entries = [
        (RosterPerson.from_row(row), standing(row))
        for row in await work.repos.roster.in_roll_call(roll_call.id)
    ]
    needing = sorted(
        (e for e in entries if e[1] in NEEDING and not e[0].removed),
        key=lambda e: NEEDING.index(e[1]),
    )
    partners_sent = people_named = 0
    for row in await work.repos.partners.active():
        partner = await work.repos.partners.get(row["id"])
        if partner is None or not partner.on_line or partner.member_id is None:
            continue
        theirs = [(p, s) for p, s in needing if visibility.partner_sees(partner, p, moment)]
        member = await work.repos.members.get(partner.member_id)
        if not theirs or member is None or not member.active:
            continue
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
    detail = f"roll-call {roll_call.id}: partners {partners_sent}, people {people_named}"
    await work.repos.admin.audit(staff, "roster_sent_to_carers", detail, work.now)
    return partners_sent, people_named
