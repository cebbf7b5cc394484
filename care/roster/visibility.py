"""Who sees a roster person's details, and when (災害対策基本法 49条の11).

- 運用管理 (the city's staff who keep the roster) see everyone, always.
- In normal times, a person's details go to those assigned to her (her 民生委員 or 町会, and
  the 窓口 who hands them their lists) only with her 平常時同意 (第2項).
- During a declared disaster (an open roll-call started by the JMA feed, or marked a disaster
  by 運用管理), they go to them without it: 第3項 allows it when it is needed to protect her
  life. Once the roll-call closes, normal times are back.
- The 窓口 is often run by the 社会福祉協議会, not the city: it is held to the 避難支援等関係者'
  rule above, not to the city's.
- 閲覧 and 監査 see counts, no names.
"""

from __future__ import annotations

from dataclasses import dataclass

from care.services import UnitOfWork
from storage.models import StaffRole
from storage.partners import Partner
from storage.rollcalls import RollCall
from storage.roster import RosterPerson


@dataclass(frozen=True)
class Moment:
    """Normal times, or the declared disaster's roll-call."""

    disaster: RollCall | None

    @property
    def declared(self) -> bool:
        return self.disaster is not None


async def now(work: UnitOfWork) -> Moment:
    return Moment(await work.repos.rollcalls.disaster_declared())


def staff_sees(role: StaffRole | None, person: RosterPerson, moment: Moment) -> bool:
    if role is StaffRole.OPERATOR:
        return True
    if role is StaffRole.DESK:
        return person.consent or moment.declared
    return False


def assigned(partner: Partner, person: RosterPerson) -> bool:
    """The partner the roster's 担当 names: by the partner's name (a 民生委員) or area (a
    町会 registered by its area)."""
    carer = person.carer.strip()
    return bool(carer) and carer in (partner.name.strip(), partner.area.strip())


def partner_sees(partner: Partner, person: RosterPerson, moment: Moment) -> bool:
    return (
        partner.removed_at is None
        and assigned(partner, person)
        and (person.consent or moment.declared)
    )
