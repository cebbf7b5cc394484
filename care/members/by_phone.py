"""People watched by phone alone: a resident with a landline and no LINE, registered by the
desk's staff from a paper form (her consent is on that form, and the staff who typed it is
audited). Her check-in and its re-send are calls whose keys are the LINE buttons' answers
(care.rounds.calls); her family and the desk join her team by its invite code, on LINE, as for
anyone else, and are alerted as for anyone else.
"""

from __future__ import annotations

import secrets

from care.desk import reading
from care.errors import Refusal, Refused
from care.members import on_behalf
from care.members.teams import clean_name
from care.rounds import calls, checkins, devices
from care.rounds.notify import phone_only, tell_managers_about, tell_member, tell_team
from care.rounds.schedule import Schedule
from care.services import UnitOfWork
from ground.channels import NOT_ON_LINE, VOICE
from storage.models import Member, Role, Team

NAME_LIMIT = 30


async def register(
    work: UnitOfWork,
    team: Team,
    name: str,
    number: str,
    language: str,
    staff: str,
    consented: bool,
) -> Member:
    """A person the desk registers from a paper form, in `team` as its user, called at the
    team's default schedule from its next hour. Refused where no calls can be placed, and
    without the form's record that she agreed."""
    if VOICE not in work.services.channels:
        raise Refused(Refusal.NO_CALLS)
    if not consented:
        raise Refused(Refusal.NO_CONSENT)
    clean = clean_name(name or "", NAME_LIMIT)
    if clean is None:
        raise Refused(Refusal.INVALID_PERSON_NAME, limit=NAME_LIMIT)
    dialled = calls.e164(number)
    if dialled is None:
        raise Refused(Refusal.INVALID_PHONE)
    calls.allowed(work.services, dialled)
    language = work.locale(language).language
    member, _ = await work.repos.members.register(
        NOT_ON_LINE + secrets.token_hex(16), clean, language, work.now
    )
    await work.repos.members.set_channel(member.id, VOICE, dialled)
    # Her number is kept as her call number too; a call before the alert would only repeat
    # the re-send's call, so it is not switched on.
    await calls.set_consent(work, member, dialled, False, staff)
    # The number is on the paper form she signed, typed by staff who are audited: it is hers
    # (care.rounds.verify), and her check-ins ring it.
    await work.repos.calls.set_verified(member.id, dialled, staff, work.now)
    await work.repos.teams.add_member(team.id, member.id, Role.USER, work.now)
    schedule = Schedule(team.default_interval_days, team.default_hour)
    await checkins.start_schedule(work, member, schedule)
    registered = await work.repos.members.get(member.id)
    assert registered is not None
    await tell_team(work, team, registered, Role.USER, "invite.joined_notice")
    return registered


async def set_calls_for(
    work: UnitOfWork,
    member_id: int | None,
    staff: str,
    number: str,
    before_alert: bool,
    registered_too: bool = True,
    consented: bool = False,
) -> Member:
    """Staff set a person's call number and consent for them (from what the person said):
    a person the desk knows. For someone watched by phone alone the number is where every
    check-in rings, so it cannot be taken away, and moving it needs the console's record that
    she agreed (`consented`: her paper form, or she is there): one console account alone must
    not move her check-ins, and whoever answers them, to a phone of its choosing. She hears it
    at the old number and the new, her managers in LINE. `registered_too`:
    care.desk.cases.known_person."""
    member, _ = await reading.known_person(work, member_id, registered_too)
    if phone_only(member) and not number.strip():
        raise Refused(Refusal.INVALID_PHONE)
    old = member.channel_address if phone_only(member) else None
    # (A number that is none is refused as such by set_consent, below.)
    if phone_only(member) and not consented and calls.e164(number) not in (None, old):
        raise Refused(Refusal.NO_CONSENT)
    dialled = await calls.set_consent(work, member, number, before_alert, staff)
    if phone_only(member) and dialled is not None:
        await work.repos.members.set_channel(member.id, VOICE, dialled)
        # Her check-ins ring it: as at her registration, staff who know her typed it, with
        # her consent recorded. For anyone else the number waits for her code or staff with
        # her present (care.rounds.verify).
        await work.repos.calls.set_verified(member.id, dialled, staff, work.now)
        if dialled != old:
            ending = dialled[-4:]
            await on_behalf.tell_by_phone(work, member, "on_behalf.phone_number_set", to=dialled)
            if old:
                # The phone her calls rang until now hears it too: if the change was not hers,
                # she is the one who can say so.
                await on_behalf.tell_by_phone(
                    work, member, "calls.guard.phone_number_moved", to=old, ending=ending
                )
            await tell_managers_about(
                work, member, "desk_number_changed", "calls.guard.number_changed", ending=ending
            )
    elif dialled is not None:
        # Staff acting for her tell her (care.members.on_behalf); the number rings only once she
        # typed the code its verification call reads, on My page: that is her yes.
        ending = dialled[-4:]
        await tell_member(work, member, "on_behalf_calls", "on_behalf.calls_set", ending=ending)
    else:
        await tell_member(work, member, "on_behalf_calls", "on_behalf.calls_cleared")
    await work.repos.admin.audit(staff, "desk_calls_set", f"会員ID {member.id}", work.now)
    return member


async def link_device_for(
    work: UnitOfWork,
    member_id: int | None,
    staff: str,
    label: str,
    counts_as_ok: bool,
    consented: bool,
    registered_too: bool = True,
) -> devices.Linked:
    """Staff link a device for a person who agreed to it (the form records that they did). On
    LINE she is asked as well, and the device answers nothing until she says yes; watched by
    phone alone, the form's record is her yes (care.members.on_behalf)."""
    member, _ = await reading.known_person(work, member_id, registered_too)
    if not consented:
        raise Refused(Refusal.NO_CONSENT)
    ask_her = not phone_only(member)
    linked = await devices.link(work, member, label, counts_as_ok, awaiting=ask_her)
    what = f"会員ID {member.id} device {linked.device_id}"
    await work.repos.admin.audit(staff, "desk_device_linked", what, work.now)
    device = next(
        d for d in await work.repos.devices.of_member(member.id) if d.id == linked.device_id
    )
    if ask_her:
        await on_behalf.ask_about_device(work, member, device, staff)
    else:
        await on_behalf.tell_by_phone(work, member, "on_behalf.phone_device", device=device.label)
    # Her managers hear of it as well: a device that answers her check-ins is theirs to know.
    await tell_managers_about(
        work, member, "desk_device", "calls.guard.device_linked", device=device.label
    )
    return linked


async def revoke_device_for(
    work: UnitOfWork,
    member_id: int | None,
    staff: str,
    device_id: int | None,
    registered_too: bool = True,
) -> None:
    """Staff take a device off a person's check-ins: she hears it (in LINE, or by a call when
    she is watched by phone alone), and her managers in LINE, as when one is linked."""
    member, _ = await reading.known_person(work, member_id, registered_too)
    device = next(
        (d for d in await work.repos.devices.of_member(member.id) if d.id == device_id), None
    )
    await devices.revoke(work, member, device_id or 0)
    assert device is not None  # revoke refuses a device that is not hers
    what = f"会員ID {member.id} device {device_id}"
    await work.repos.admin.audit(staff, "desk_device_revoked", what, work.now)
    if phone_only(member):
        await on_behalf.tell_by_phone(
            work, member, "calls.guard.phone_device_removed", device=device.label
        )
    else:
        await tell_member(
            work, member, "desk_device", "calls.guard.device_removed", device=device.label
        )
    await tell_managers_about(
        work, member, "desk_device", "calls.guard.device_removed_managers", device=device.label
    )
