"""Staff acting for a person: what they set for her waits for her own yes.

When the desk links a device that would answer her check-ins, or the staff add a watcher to her
team who would hear her alerts and could close them, she is asked in LINE, with the two
buttons, and nothing acts until she says yes (a device answers nothing, the watcher is not in
the team). On her own she would have done it on My page, or handed the watcher her team's
invite code: the staff's word alone must not be worth more than hers. A person watched by
phone alone has no LINE to be asked in: the staff's record that she agreed (on the paper form,
or with her present) stands for her yes, as it did when she was registered.

A watcher added to a team whose several users all watch with it is asked of each of them;
one "no" ends it for all. An ask that waits longer than ASK_LASTS is over: answering it changes
nothing (the staff may ask again).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from care.errors import Refusal, Refused
from care.members import teams
from care.rounds import calls
from care.rounds.notify import display_name, phone_only, push_to
from care.services import UnitOfWork
from ground.channels import VOICE
from ground.telling import Choice, Form, Telling
from storage.devices import Device
from storage.models import Member, Role, Team
from storage.on_behalf import StaffRequest

ASK_LASTS = timedelta(days=7)
DEVICE, WATCHER = "device", "watcher"
YES, NO, WITHDRAWN = "yes", "no", "withdrawn"


async def ask_about_device(work: UnitOfWork, member: Member, device: Device, staff: str) -> int:
    """The desk linked `device` for her, awaiting her consent: she is asked."""
    request_id = await work.repos.on_behalf.add(
        member.id, DEVICE, secrets.token_hex(8), staff, work.now, device_id=device.id
    )
    locale = work.locale(member.language)
    effect_key = "device_counts" if device.counts_as_ok else "device_shows"
    effect = locale.t(f"on_behalf.{effect_key}")
    text = locale.t("on_behalf.device_asked", device=device.label, effect=effect)
    await _ask(work, member, request_id, text)
    await work.repos.admin.audit(
        staff, "on_behalf_asked", f"会員ID {member.id} device {device.id}", work.now
    )
    return request_id


@dataclass(frozen=True)
class WatcherAsked:
    watcher: Member
    joined: bool  # nobody was left to ask: the watcher is in the team now
    asked: int  # users asked in LINE


async def add_watcher(
    work: UnitOfWork, team: Team, watcher_id: int | None, staff: str, consented: bool
) -> WatcherAsked:
    """The staff name a watcher (a manager) for a team by 会員ID. Each of its users on LINE is
    asked; a user watched by phone alone counts as yes only with the staff's record that she
    agreed (`consented`). A team with no users yet takes the watcher at once: there is nobody
    to watch, and whoever joins later sees the team's watchers before joining."""
    watcher = await work.repos.members.get(watcher_id) if watcher_id else None
    if watcher is None or not watcher.active:
        raise Refused(Refusal.NO_SUCH_MEMBER)
    if await work.repos.teams.role_of(team.id, watcher.id) is not None:
        raise Refused(Refusal.ROLE_MISMATCH)
    users = [user for user in await work.repos.teams.members_of(team.id, Role.USER) if user.active]
    if any(phone_only(user) for user in users) and not consented:
        raise Refused(Refusal.NO_CONSENT)
    asking = [user for user in users if not phone_only(user)]
    if not asking:
        await teams.add_manager(work, team, watcher.id)
        detail = f"team {team.id} member {watcher.id}: no one on LINE to ask"
        await work.repos.admin.audit(staff, "on_behalf_watcher_added", detail, work.now)
        return WatcherAsked(watcher, True, 0)
    batch = secrets.token_hex(8)
    for user in users:
        answer = YES if phone_only(user) else None  # the staff's record stands for hers
        request_id = await work.repos.on_behalf.add(
            user.id, WATCHER, batch, staff, work.now, None, team.id, watcher.id, answer
        )
        if answer is None:
            await _ask_watcher_text(work, user, request_id, watcher, team.name)
    detail = f"team {team.id} member {watcher.id}: {len(asking)} asked"
    await work.repos.admin.audit(staff, "on_behalf_asked", detail, work.now)
    return WatcherAsked(watcher, False, len(asking))


TOLD_BY_PHONE = "on_behalf_told"


async def tell_by_phone(
    work: UnitOfWork, member: Member, key: str, to: str | None = None, **values: str
) -> bool:
    """Someone watched by phone alone hears what the staff did for her in a call that only
    speaks (ground.voice, as the number's verification call does): she has no LINE to read it
    in. Recorded before it is sent; at dialling the number's country and daily cap are asked
    again (scheduler.delivery). -> whether a call was recorded (none without Twilio, or once
    the month's call budget is spent: the staff's record of her consent stands alone). `to`:
    the number her calls ring now, when the staff just changed it."""
    number = to or member.channel_address
    if VOICE not in work.services.channels or not number:
        return False
    if (await calls.budget(work)).left <= 0:
        return False
    locale = work.locale(member.language)
    words = Telling(Form.SPOKEN, locale.language, locale.t(key, **values))
    await work.repos.outbox.add(
        kind="push",
        channel=VOICE,
        recipients=[number],
        tellings=[words],
        purpose=TOLD_BY_PHONE,
        now=work.now,
        recipient_member_id=member.id,
    )
    return True


async def _users(work: UnitOfWork, team_id: int | None) -> list[Member]:
    users = await work.repos.teams.members_of(team_id or 0, Role.USER)
    return [user for user in users if user.active]


async def _ask_watcher_text(
    work: UnitOfWork, user: Member, request_id: int, watcher: Member, team_name: str
) -> None:
    locale = work.locale(user.language)
    text = locale.t("on_behalf.watcher_asked", name=display_name(locale, watcher), team=team_name)
    await _ask(work, user, request_id, text)


async def _ask_about_watcher(
    work: UnitOfWork, user: Member, request: StaffRequest, watcher: Member | None
) -> None:
    """A user who joined while a watcher waited for the team's yes is asked as well."""
    team = await work.repos.teams.get(request.team_id or 0)
    if team is None or watcher is None:
        return
    request_id = await work.repos.on_behalf.add(
        user.id, WATCHER, request.batch, request.staff, work.now, None, team.id, watcher.id
    )
    await _ask_watcher_text(work, user, request_id, watcher, team.name)


async def _ask(work: UnitOfWork, member: Member, request_id: int, text: str) -> None:
    locale, codec = work.locale(member.language), work.services.postbacks
    choices = [
        Choice("yes", locale.t("on_behalf.yes_button"), codec.encode("behalf", q=request_id, y=1)),
        Choice("no", locale.t("on_behalf.no_button"), codec.encode("behalf", q=request_id, y=0)),
    ]
    card = Telling.card(locale.language, locale.t("on_behalf.title"), text, choices)
    await push_to(work, member, [card], "on_behalf_asked")


@dataclass(frozen=True)
class Answered:
    request: StaffRequest
    said: str  # the locale key of the reply to her
    values: dict[str, str]


async def answer(work: UnitOfWork, member: Member, request_id: int | None, yes: bool) -> Answered:
    """Her はい or いいえ to what the staff asked. Someone else's ask: NOT_ASKED; answered
    already, withdrawn or past ASK_LASTS: CASE_CLOSED (nothing changes either way)."""
    request = await work.repos.on_behalf.get(request_id) if request_id else None
    if request is None or request.member_id != member.id:
        raise Refused(Refusal.NOT_ASKED)
    if request.answer is not None or work.now - request.created_at >= ASK_LASTS:
        raise Refused(Refusal.CASE_CLOSED)
    await work.repos.on_behalf.answer(request.id, YES if yes else NO, work.now)
    what = f"会員ID {member.id} request {request.id}"
    await work.repos.admin.audit("member", f"on_behalf_{YES if yes else NO}", what, work.now)
    if request.kind == DEVICE:
        return await _device_answered(work, member, request, yes)
    return await _watcher_answered(work, member, request, yes)


async def _device_answered(
    work: UnitOfWork, member: Member, request: StaffRequest, yes: bool
) -> Answered:
    device = next(
        (d for d in await work.repos.devices.of_member(member.id) if d.id == request.device_id),
        None,
    )
    if device is None or device.revoked_at is not None:
        raise Refused(Refusal.CASE_CLOSED)
    if yes:
        await work.repos.devices.consented(device.id, work.now)
        return Answered(request, "on_behalf.device_yes", {"device": device.label})
    await work.repos.devices.revoke(member.id, device.id, work.now)
    return Answered(request, "on_behalf.device_no", {"device": device.label})


async def _watcher_answered(
    work: UnitOfWork, member: Member, request: StaffRequest, yes: bool
) -> Answered:
    watcher = await work.repos.members.get(request.watcher_id or 0)
    team = await work.repos.teams.get(request.team_id or 0)
    locale = work.locale(member.language)
    name = display_name(locale, watcher) if watcher else ""
    if not yes:
        await work.repos.on_behalf.close_batch(request.batch, WITHDRAWN, work.now)
        return Answered(request, "on_behalf.watcher_no", {"name": name})
    together = await work.repos.on_behalf.batch(request.batch)
    # Asked of the team as it is now: a user who joined since is asked too (one on the phone
    # alone, whom the staff's record did not cover, ends the ask: the staff ask again), and
    # one who left no longer holds it up.
    current = [u for u in await _users(work, request.team_id) if u.id != member.id]
    asked = {other.member_id: other for other in together}
    newcomers = [user for user in current if user.id not in asked]
    if any(phone_only(user) for user in newcomers):
        await work.repos.on_behalf.close_batch(request.batch, WITHDRAWN, work.now)
        return Answered(request, "on_behalf.closed", {})
    for user in newcomers:
        await _ask_about_watcher(work, user, request, watcher)
    waiting = [user for user in current if user.id in asked and asked[user.id].answer != YES]
    if newcomers or waiting:
        return Answered(request, "on_behalf.watcher_waiting", {"name": name})
    in_team = team is not None and watcher is not None
    if not in_team or not watcher.active or await work.repos.teams.role_of(team.id, watcher.id):
        return Answered(request, "on_behalf.closed", {})
    await teams.add_manager(work, team, watcher.id)
    return Answered(request, "on_behalf.watcher_yes", {"name": name})
