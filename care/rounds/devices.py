"""A sign of life from a device: a smart plug, a door sensor, a SwitchBot or Home Assistant
automation, or a meter service calls the person's secret URL when something moves.

The person (or the desk's staff, with their consent) links a device and chooses what a ping
means: that the day's check-in is answered (元気, no tap needed), or only that it shows as
最後の動き on their card and in an alert. A device is never the person: while an alert is open a
ping is a sign of life the managers hear of (once a round), and the alert stays theirs to
close (care.rounds.protocol: Event.ACTIVITY).

A device that answers her check-ins and goes quiet for days (MIMAMORI_DEVICE_QUIET_AFTER: a
flat battery, a plug pulled, the Wi-Fi changed) stops answering them without a word: she and
her managers are told once, and again only after it pinged and went quiet again.
"""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from care.errors import Refusal, Refused
from care.rounds import carry
from care.rounds.carry import Occasion, teller
from care.rounds.notify import (
    ALERT_BUTTONS,
    display_name,
    notify_managers,
    tell_managers_about,
    tell_member,
)
from care.rounds.protocol import Audience, Event, Fact, Stage, Tell, decide, stage_of
from care.services import UnitOfWork
from ground import seals
from ground.i18n import Locale
from ground.telling import Telling
from storage.devices import Device
from storage.models import Member

LABEL_LIMIT = 30  # characters of a device's name (玄関のセンサー, 電気ポット)
DEVICES_LIMIT = 10  # devices a person may link
PING_SPACING = timedelta(minutes=1)  # pings closer than this are refused (429), not counted
PING_PATH = "/ping"


def last_movement(locale: Locale, member: Member) -> str | None:
    """最後の動き: what a device of theirs last saw, as the card and the alert say it."""
    if member.last_activity_at is None:
        return None
    at = locale.when(member.last_activity_at)
    return locale.t("activity.line", at=at, device=member.last_activity_label or "")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# A device's token is a random part and its seal (HMAC under the channel secret): a URL nobody
# was given is refused by its seal alone, with no look into the database (a flood of guessed
# URLs costs no transaction). Tokens made before seals (the random part alone) are known by
# their hash, which the surface reads once at start (no new one is ever made).
RANDOM_LENGTH = 43  # secrets.token_urlsafe(32)
_PURPOSE = b"mimamori device token"


def new_token(secret: str) -> str:
    random_part = secrets.token_urlsafe(32)
    return random_part + seals.seal(secret, _PURPOSE, random_part)


def sealed(secret: str, token: str) -> bool:
    """The token is one this service made (its seal holds)."""
    if len(token) != RANDOM_LENGTH + seals.SEAL_LENGTH:
        return False
    random_part, seal = token[:RANDOM_LENGTH], token[RANDOM_LENGTH:]
    return seals.holds(secret, _PURPOSE, random_part, seal)


def _label(text: str) -> str:
    label = unicodedata.normalize("NFKC", text or "").strip()
    if not 1 <= len(label) <= LABEL_LIMIT or any(
        unicodedata.category(c).startswith("C") for c in label
    ):
        raise Refused(Refusal.INVALID_DEVICE, limit=LABEL_LIMIT)
    return label


@dataclass(frozen=True)
class Linked:
    device_id: int
    token: str  # shown once: only its hash is kept

    def url(self, public_url: str) -> str:
        return f"{public_url.rstrip('/')}{PING_PATH}/{self.token}"


async def link(
    work: UnitOfWork, member: Member, label: str, counts_as_ok: bool, awaiting: bool = False
) -> Linked:
    """A device for her; `awaiting`: linked by staff, answering nothing until she agrees
    (care.members.on_behalf)."""
    name = _label(label)
    if len(await work.repos.devices.of_member(member.id)) >= DEVICES_LIMIT:
        raise Refused(Refusal.TOO_OFTEN, times=DEVICES_LIMIT)
    token = new_token(work.services.settings.channel_secret)
    device_id = await work.repos.devices.add(
        member.id, name, counts_as_ok, token_hash(token), work.now, awaiting
    )
    return Linked(device_id, token)


async def revoke(work: UnitOfWork, member: Member, device_id: int) -> None:
    if not await work.repos.devices.revoke(member.id, device_id, work.now):
        raise Refused(Refusal.NO_SUCH_DEVICE)


@dataclass(frozen=True)
class Ping:
    device: Device
    answered: bool  # it answered a waiting check-in
    told: int  # managers told of the movement during an alert


async def ping(work: UnitOfWork, token: str) -> Ping:
    """A device's sign of life. Unknown or revoked: NO_SUCH_DEVICE; linked by staff and not
    agreed to by her yet: NO_CONSENT; sooner than a minute after the last: TOO_OFTEN (nothing
    is changed either way)."""
    device = await work.repos.devices.by_token_hash(token_hash(token))
    if device is None or device.revoked_at is not None:
        raise Refused(Refusal.NO_SUCH_DEVICE)
    if device.awaiting_consent:
        raise Refused(Refusal.NO_CONSENT)  # the desk linked it; she has not said yes
    if device.last_ping_at is not None and work.now - device.last_ping_at < PING_SPACING:
        raise Refused(Refusal.TOO_OFTEN, times=1)
    await work.repos.devices.pinged(device, work.now)
    member = await work.repos.members.get(device.member_id)
    if member is None or not member.active or not device.counts_as_ok:
        return Ping(device, False, 0)
    checkin = await work.repos.rounds.open_round(member.id)
    decision = decide(stage_of(checkin), Event.ACTIVITY)
    if checkin is None or decision is None:
        return Ping(device, False, 0)
    occasion = Occasion(member, checkin, Event.ACTIVITY, device=device.label)
    carried = await carry.carry_out(work, occasion, decision)
    # A waiting check-in is answered (nobody was alerted, nobody needs telling); during an
    # alert the managers it reached hear of the movement.
    return Ping(device, decision.after is Stage.SAFE, carried.told.count)


@teller((Audience.ALERTED, Fact.ACTIVITY))
async def _movement(work: UnitOfWork, occasion: Occasion, _: Tell) -> int:
    """最後の動き, to the managers the alert reached, once a round: a clue, never safety."""
    checkin = occasion.checkin
    assert checkin is not None
    if await work.repos.outbox.told_about(checkin.id, "activity"):
        return 0
    reached = await work.repos.outbox.alerted_members(checkin.id)
    return await tell_managers_about(
        work,
        occasion.person,
        "activity",
        "activity.notice",
        round_id=checkin.id,
        only=reached,
        buttons=ALERT_BUTTONS,  # a clue, never safety: the alert stays open
        device=occasion.device,
    )


async def tell_quiet(work: UnitOfWork, limit: int) -> int:
    """The sweep's step: each device that answers check-ins and has been quiet for
    MIMAMORI_DEVICE_QUIET_AFTER is told of, to her and to her managers, once. -> devices
    handled (the sweep runs the step again while a batch comes back full)."""
    after = work.services.settings.device_quiet_after
    if after is None:
        return 0
    today = work.now.astimezone(work.services.timezone).date()
    quiet = await work.repos.devices.gone_quiet(work.now - after, today, limit)
    for device in quiet:
        await work.repos.devices.told_quiet(device.id, work.now)
        member = await work.repos.members.get(device.member_id)
        if member is None:
            continue
        locale = work.locale(member.language)
        since = locale.when(device.heard_at)
        await tell_member(
            work, member, "device_quiet", "activity.quiet_you", device=device.label, since=since
        )
        await notify_managers(work, member, "device_quiet", _quiet_notice(member, device))
    return len(quiet)


def _quiet_notice(member: Member, device: Device) -> Callable[[Locale, Member], list[Telling]]:
    def build(locale: Locale, manager: Member) -> list[Telling]:
        text = locale.t(
            "activity.quiet_notice",
            name=display_name(locale, member),
            member_id=member.id,
            device=device.label,
            since=locale.when(device.heard_at),
        )
        return [Telling.sentence(locale.language, text)]

    return build
