"""Her card on My page: where her phone number, address and 緊急時メモ are read, not the chat.

The guideline of 2021-04-30 on local governments' use of LINE keeps residents' personal data
in the city's own database, not on LINE: a message stays in every recipient's chat, and on
LINE's servers, for good. So alerts, re-alerts, reminders, visit requests and the roll-call's
「助けが必要です」 name her as she chose to be named and carry a button to her card
(care.members.sharing.card_link); the card shows her details after LINE's ID-token check
(liff.auth),
to those she shows them to (the 「見せる」 of care.members.sharing):

- a manager who watches her and whom she agreed to show them to: 氏名, 電話番号 (with the
  call button) and 住所; her 緊急時メモ while an alert about her is open, as before;
- a partner the desk asked to go to her door (on LINE by their own code), while that visit and
  its case are open, where she shows them to one of her managers (the desk's own rule);
- herself.

A manager she does not show them to reads that she chose not to; anyone else gets what a card
that does not exist gets (care.errors.Refusal.NO_SUCH_MEMBER, 404), and learns nothing. Each
view that shows anything is audited, one row per viewer and person (and what was shown) per
`VIEW_AUDIT_EVERY`, as the desk's views are; a 要配慮 item (storage.models.SENSITIVE_FIELDS)
is named in the row. A deployment that keeps her details in the chat (a family's own bot,
MIMAMORI_DETAILS_IN_CHAT) still has the card, as My page's page of her.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from care.desk import partners
from care.members import sharing
from care.rounds import alerts
from care.services import UnitOfWork
from storage.models import CARD_FIELDS, PERSONAL_FIELDS, SENSITIVE_FIELDS, Member

# A card that is read again and again (a page reloaded, a manager back at it all morning) is one
# row of the audit log this long, per viewer, person and what was shown.
VIEW_AUDIT_EVERY = timedelta(hours=1)


class Relation(StrEnum):
    OWN = "own"
    MANAGER = "manager"  # watches her
    PARTNER = "partner"  # sent to her door by the desk


@dataclass(frozen=True)
class Card:
    person: Member
    relation: Relation
    shown: bool  # she shows her details to this viewer
    alert_open: bool
    details: tuple[tuple[str, str], ...]  # (field, value) shown, in CARD_FIELDS' order
    tel: str | None  # the call button, where her number is shown
    memo_later: bool  # she wrote a memo this manager reads while an alert about her is open

    @property
    def sensitive(self) -> tuple[str, ...]:
        """The fields shown that are 要配慮個人情報."""
        return tuple(name for name, _ in self.details if name in SENSITIVE_FIELDS)


def _value(person: Member, name: str) -> str:
    return person.emergency_memo if name == "emergency_memo" else getattr(person.personal, name)


async def open_card(work: UnitOfWork, viewer: Member, member_id: int | None) -> Card | None:
    """Her card as `viewer` may read it, the view audited; None for anyone with no reason to
    read it (the same answer whether she exists or not: the caller says 404)."""
    person = await work.repos.members.get(member_id) if member_id else None
    found = await _read(work, viewer, person) if person is not None else None
    if found is None:
        # Nothing is said or shown; a viewer trying card after card is one row a while.
        await work.repos.admin.audit_view(
            _actor(viewer),
            "card_refused",
            f"会員ID {member_id}",
            work.now,
            VIEW_AUDIT_EVERY,
            f"card_refused:{viewer.id}",
        )
        return None
    if found.relation is not Relation.OWN and found.details:
        await _audit(work, viewer, found)
    return found


async def _read(work: UnitOfWork, viewer: Member, person: Member) -> Card | None:
    alert_open = await alerts.alert_open(work, person)
    if viewer.id == person.id:
        return _card(person, Relation.OWN, True, alert_open, memo=True)
    if viewer.active and await work.repos.teams.is_manager_of(viewer.id, person.id):
        shown = await work.repos.teams.shares_personal(person.id, viewer.id)
        return _card(person, Relation.MANAGER, shown, alert_open, memo=alert_open)
    partner = await work.repos.partners.visiting(viewer.id, person.id)
    if partner is not None and viewer.active:
        shown = await sharing.shown_to_the_desk(work, person)
        return _card(person, Relation.PARTNER, shown, alert_open, memo=True)
    return None


def _card(person: Member, relation: Relation, shown: bool, alert_open: bool, memo: bool) -> Card:
    details = tuple(
        (name, _value(person, name))
        for name in CARD_FIELDS
        if shown and _value(person, name) and (memo or name != "emergency_memo")
    )
    return Card(
        person=person,
        relation=relation,
        shown=shown,
        alert_open=alert_open,
        details=details,
        tel=sharing.call_link(person, shown),
        memo_later=shown and not memo and bool(person.emergency_memo),
    )


def _actor(viewer: Member) -> str:
    """Who read it, as the audit log names people of the chat (a 会員ID, never a LINE name)."""
    return f"会員ID {viewer.id}"


async def _audit(work: UnitOfWork, viewer: Member, card: Card) -> None:
    actor = _actor(viewer)
    if card.relation is Relation.PARTNER:
        partner = await work.repos.partners.visiting(viewer.id, card.person.id)
        if partner is not None:
            actor = partners.actor(partner.id)  # as the partner's other steps are kept
    await _record(work, actor, card.person, [name for name, _ in card.details])


async def _record(work: UnitOfWork, actor: str, person: Member, fields: list[str]) -> None:
    """One row per viewer, person and what was shown, a while (VIEW_AUDIT_EVERY)."""
    shown = ",".join(fields)
    detail = f"会員ID {person.id}: {shown}"
    sensitive = [name for name in fields if name in SENSITIVE_FIELDS]
    if sensitive:
        detail += f" (要配慮: {','.join(sensitive)})"
    scope = f"card:{person.id}:{actor}:{shown}"
    await work.repos.admin.audit_view(
        actor, "card_viewed", detail, work.now, VIEW_AUDIT_EVERY, scope
    )


async def audit_member_view(
    work: UnitOfWork, viewer: Member, person: Member, shown: bool, memo: bool
) -> None:
    """My page's other page of her (a team's member view) shows her 氏名, 電話番号, 住所... to
    a manager she shows them to, and her memo while an alert is open: audited as her card is.
    `memo`: the page showed it."""
    if viewer.id == person.id or not shown:
        return
    fields = [name for name in PERSONAL_FIELDS if getattr(person.personal, name)]
    if memo and person.emergency_memo:
        fields.append("emergency_memo")
    if fields:
        await _record(work, _actor(viewer), person, fields)
