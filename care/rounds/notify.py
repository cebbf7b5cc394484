"""Telling people about people: managers about a person they watch, a team about its members.

What to tell is written to the outbox as tellings (ground.telling) inside the caller's unit of
work, in the language of whoever reads it, addressed through the channel that person is
reached by; the channel renders and sends it once the unit of work has committed.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Protocol

from care.services import Services, UnitOfWork
from ground.channels import LINE, NOT_ON_LINE, can_say
from ground.i18n import Locale
from ground.telling import Choice, Telling
from storage.models import Member, Role, Team


class Reachable(Protocol):
    @property
    def line_user_id(self) -> str: ...

    @property
    def channel(self) -> str: ...

    @property
    def channel_address(self) -> str | None: ...


def address_of(services: Services, person: Reachable) -> tuple[str, str]:
    """(channel, address) a person is reached at: their own channel where this deployment
    has it and an address is set; LINE otherwise, so that nothing is addressed to a channel
    no instance can send through."""
    if person.channel != LINE and person.channel_address and person.channel in services.channels:
        return person.channel, person.channel_address
    return LINE, person.line_user_id


def phone_only(member: Member) -> bool:
    """Watched by phone alone (registered by the desk): no LINE to reach them through."""
    return member.line_user_id.startswith(NOT_ON_LINE)


NAME_SHOWN = 40  # characters of a LINE name put into another person's message


def display_name(locale: Locale, member: Member) -> str:
    """A person's name as others read it. A LINE name is whatever its owner typed: control and
    format characters (a bidirectional override, a line break that fakes a second line) are
    taken out and a long one is cut, so it cannot read as something the service said."""
    # As she wrote it (full-width brackets and all), less what is not text.
    name = "".join(
        c for c in member.display_name or "" if not unicodedata.category(c).startswith("C")
    ).strip()
    if len(name) > NAME_SHOWN:
        name = name[: NAME_SHOWN - 1] + "…"
    return name or locale.t("member.unnamed", member_id=member.id)


async def push_to(
    work: UnitOfWork,
    member: Member,
    content: list[Telling],
    purpose: str,
    round_id: int | None = None,
    about: Member | None = None,
) -> None:
    """Tellings to one person (`about` another, for whom 退会 clears them), recorded in the
    outbox for their channel (sent after the unit of work commits)."""
    channel, address = address_of(work.services, member)
    if not can_say(channel, content):
        return
    await work.repos.outbox.add(
        kind="push",
        channel=channel,
        recipients=[address],
        tellings=content,
        purpose=purpose,
        now=work.now,
        round_id=round_id,
        recipient_member_id=member.id,
        subject_member_id=about.id if about is not None else None,
    )


async def notify_managers(
    work: UnitOfWork,
    member: Member,
    purpose: str,
    build: Callable[[Locale, Member], list[Telling]],
    round_id: int | None = None,
    only: Sequence[int] | None = None,
) -> int:
    """Push `build(their locale, them)` to every manager watching the member (or those in
    `only`); returns how many were told."""
    managers = await work.repos.teams.managers_watching(member.id)
    if only is not None:
        managers = [manager for manager in managers if manager.id in only]
    for manager in managers:
        content = build(work.locale(manager.language), manager)
        await push_to(work, manager, content, purpose, round_id, about=member)
    return len(managers)


async def tell_managers_about(
    work: UnitOfWork,
    member: Member,
    purpose: str,
    key: str,
    round_id: int | None = None,
    only: Sequence[int] | None = None,
    until: datetime | None = None,
    buttons: Sequence[str] = (),
    **values: str,
) -> int:
    """One sentence about the member (`key`, with their name, 会員ID, now, `until` and any
    other `values`) to every manager watching them (or those in `only`), each in their
    language. -> how many told. `buttons` ("take", "safe"): the notice keeps the alert of
    `round_id` open, and carries its buttons, so nobody scrolls back to the alert for them."""

    def build(locale: Locale, manager: Member) -> list[Telling]:
        text = locale.t(
            key,
            name=display_name(locale, member),
            member_id=member.id,
            at=locale.when(work.now),
            until=locale.when(until),
            **values,
        )
        if buttons and round_id is not None:
            choices = alert_choices(work.services, locale, round_id, buttons)
            title = locale.t("first_minute.alert_title")
            return [Telling.card(locale.language, title, text, choices)]
        return [Telling.sentence(locale.language, text)]

    return await notify_managers(work, member, purpose, build, round_id=round_id, only=only)


ALERT_BUTTONS = ("take", "safe")  # 対応します, 無事を確認しました


def alert_choices(
    services: Services, locale: Locale, round_id: int, buttons: Sequence[str] = ALERT_BUTTONS
) -> list[Choice]:
    """An open alert's buttons, as the alert has them: 対応します (take) and
    無事を確認しました (safe), for round `round_id`."""
    return [
        Choice(
            answer,
            locale.t(f"alert.{answer}_button"),
            services.postbacks.encode(answer, r=round_id),
        )
        for answer in buttons
    ]


async def tell_member(
    work: UnitOfWork,
    member: Member,
    purpose: str,
    key: str,
    about: Member | None = None,
    **values: str,
) -> None:
    """One sentence to one person, in their language (`about` another person, if it is)."""
    locale = work.locale(member.language)
    text = locale.t(key, **values)
    await push_to(work, member, [Telling.sentence(locale.language, text)], purpose, about=about)


async def tell_team(work: UnitOfWork, team: Team, subject: Member, role: Role, key: str) -> int:
    """Everyone else in the team hears who joined or left it, and as what: 見守り, not 監視.
    In a staff's area team only its managers hear it: its users are neighbours who need not
    know each other, and a stranger with the flyer's code could otherwise send a message (and
    a LINE name of their choosing) to every one of them with each join and leave."""
    members = await work.repos.teams.members_of(
        team.id, Role.MANAGER if team.kept_when_empty else None
    )
    others = [m for m in members if m.id != subject.id and m.active]
    for other in others:
        locale = work.locale(other.language)
        await tell_member(
            work,
            other,
            key,
            key,
            about=subject,
            name=display_name(locale, subject),
            team=team.name,
            role=locale.t(f"role_name.{role.value}"),
        )
    return len(others)
