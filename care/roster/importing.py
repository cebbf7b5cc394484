"""A roster file's preview and its commit: who is new, whose details changed (field by field),
who the file no longer lists, and which lines are refused and why. The commit applies what the
preview showed, or nothing: refused when the roster changed in between.

People the file no longer lists are marked removed, not deleted. A city's export filtered by
mistake (one district's sheet, an Excel filter left on) must not drop people silently from the
next disaster's roll-call; a removed person is shown apart, is not asked, and her letter's code
stops working. Listed again, she is back, her LINE link kept. The daily purge erases her row
once removed longer than MIMAMORI_KEEP_CASES (care.privacy.retention)."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass, field

from care.roster import csv_file
from care.roster.csv_file import Line
from care.rounds import calls
from care.services import UnitOfWork
from ground import link_codes
from ground.channels import LINE, NOT_ON_LINE, VOICE
from storage.roster import FIELDS, RosterPerson

NAME_SHOWN = 30  # of the 氏名, as a member's name in the roll-call's tally


@dataclass(frozen=True)
class Change:
    column: str
    old: object
    new: object


@dataclass
class Preview:
    encoding: str
    added: list[Line] = field(default_factory=list)
    changed: list[tuple[RosterPerson, Line, list[Change]]] = field(default_factory=list)
    back: list[tuple[RosterPerson, Line]] = field(default_factory=list)  # removed, listed again
    unchanged: int = 0
    removed: list[RosterPerson] = field(default_factory=list)
    refused: list[Line] = field(default_factory=list)
    state: str = ""  # the roster as the preview read it (state_of)

    def counts(self) -> dict[str, int]:
        return {
            "added": len(self.added),
            "changed": len(self.changed),
            "back": len(self.back),
            "unchanged": self.unchanged,
            "removed": len(self.removed),
            "refused": len(self.refused),
        }


def state_of(people: list[RosterPerson]) -> str:
    """A digest of the roster as it stands: the commit applies a preview of this state only."""
    shaped = sorted(
        [p.roster_id, [p.values()[f] for f in FIELDS], p.removed, p.member_id] for p in people
    )
    return hashlib.sha256(json.dumps(shaped, ensure_ascii=False).encode()).hexdigest()


async def preview(work: UnitOfWork, text: str, encoding: str) -> Preview:
    lines, _ = csv_file.read(text, work.services.settings.call_countries)
    people = await work.repos.roster.everyone()
    known = {p.roster_id: p for p in people}
    found = Preview(encoding, state=state_of(people))
    listed = {line.roster_id for line in lines if line.roster_id}
    for line in lines:
        if not line.ok:
            found.refused.append(line)
            continue
        person = known.get(line.roster_id)
        if person is None:
            found.added.append(line)
        elif person.removed:
            found.back.append((person, line))
        else:
            changes = [
                Change(f, person.values()[f], line.values[f])
                for f in FIELDS
                if person.values()[f] != line.values[f]
            ]
            if changes:
                found.changed.append((person, line, changes))
            else:
                found.unchanged += 1
    # A refused line still names its person: she is not taken for removed.
    found.removed = [p for p in people if not p.removed and p.roster_id not in listed]
    return found


class Stale(Exception):
    """The roster changed since the preview (another import, a letter's code sent)."""


async def commit(work: UnitOfWork, text: str, encoding: str, state: str, staff: str) -> Preview:
    """Apply the file as its preview showed it; audited with the counts (no one's details)."""
    found = await preview(work, text, encoding)
    if found.state != state:
        raise Stale
    now = work.now
    for line in found.added:
        member_id = await by_phone_member(work, line.values)
        code = link_codes.new_code()
        await work.repos.roster.add(line.roster_id, line.values, member_id, code, now)
    for person, line, _ in found.changed:
        await work.repos.roster.update(person.id, line.values, now)
        if person.linked_at is None:
            await _reach_by_phone(work, person.member_id, line.values)
    for person, line in found.back:
        # Her phone member was retired at her removal; her LINE, if linked, is still hers
        # unless that account left the service meanwhile.
        on_line = person.linked_at is not None and not await work.repos.members.has_withdrawn(
            person.member_id
        )
        await work.repos.roster.update(person.id, line.values, now)
        if not on_line:
            member_id = await by_phone_member(work, line.values)
            await work.repos.roster.unlink(person.id, member_id)
            # The roll-calls that named her find her by the member she is now.
            await work.repos.rollcalls.move_person(person.member_id, member_id)
            await work.repos.roster.set_letter_code(person.id, link_codes.new_code(), now)
    for person in found.removed:
        await remove(work, person)
    detail = " ".join(f"{k} {v}" for k, v in found.counts().items())
    await work.repos.admin.audit(staff, "roster_imported", f"{encoding}: {detail}", now)
    return found


async def remove(work: UnitOfWork, person: RosterPerson) -> None:
    """No longer on the roster: not asked (her phone member retired), her code void. One who
    linked her LINE stays a member of her own choosing."""
    await work.repos.roster.remove(person.id, work.now)
    if person.linked_at is None:
        await work.repos.members.withdraw(person.member_id, work.now)


async def by_phone_member(work: UnitOfWork, values: dict[str, object]) -> int:
    """The member a roster person is until she links her LINE: no LINE, reached by a call
    where she has a phone (care.members.by_phone's residents are the same kind), named
    by her 氏名 in the roll-call's tally. Not watched: she has no check-ins.

    The seam with the roll-call by phone (issue 41's phone part, phone/calls.py): a roll-call
    chooses her channel as for anyone (care.broadcasts.rollcall.plan, care.broadcasts.reach
    .way_of). While its question is a card a call cannot ask, she is kept `unasked`
    (phone_only, or no_channel without calls or without a number) and the tally by 担当 lists
    her so; once the question can be a call, she is rung like any phone-only resident, and
    nothing here changes."""
    name = str(values["name"])[:NAME_SHOWN]
    member, _ = await work.repos.members.register(
        NOT_ON_LINE + secrets.token_hex(16), name, "ja", work.now
    )
    await _reach_by_phone(work, member.id, values)
    return member.id


async def _reach_by_phone(work: UnitOfWork, member_id: int, values: dict[str, object]) -> None:
    member = await work.repos.members.get(member_id)
    assert member is not None
    name = str(values["name"])[:NAME_SHOWN]
    if member.display_name != name:
        await work.repos.members.register(member.line_user_id, name, member.language, work.now)
    dialled = calls.e164(str(values["phone"])) if values["phone"] else None
    if dialled:
        await work.repos.members.set_channel(member_id, VOICE, dialled)
    else:
        await work.repos.members.set_channel(member_id, LINE, None)
