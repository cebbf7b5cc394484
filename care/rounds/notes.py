"""A note to the other watchers while an alert is open: a manager who has her card open (or
the alert) writes a line, and every other manager watching her reads it, with the alert's
buttons. A note is words between watchers, never an answer: it neither takes nor closes the
alert, and it never tells anyone she is safe (only her OK or a manager's 無事を確認しました
does: care.rounds.protocol). Written to the outbox in the unit of work, as every telling."""

from __future__ import annotations

from dataclasses import dataclass

from care.broadcasts import budget
from care.errors import Refusal, Refused
from care.rounds.notify import alert_choices, display_name, notify_managers
from care.rounds.protocol import ALERT_STAGES, stage_of
from care.services import UnitOfWork
from ground.i18n import Locale
from ground.telling import Telling
from storage.models import CheckinRound, Member

NOTE_MAX = 200  # characters: a line, not a letter (the others read it in a notification)


@dataclass(frozen=True)
class OpenAlert:
    person: Member
    round_id: int
    others: tuple[Member, ...]  # the other managers watching her: who a note reaches


async def open_alert_about(work: UnitOfWork, viewer: Member, person: Member) -> int | None:
    """The round of an alert about `person` open now, when `viewer` watches her; else None."""
    if viewer.id == person.id or not await _watching(work, viewer, person):
        return None
    checkin = await work.repos.rounds.open_round(person.id)
    return checkin.id if checkin is not None and stage_of(checkin) in ALERT_STAGES else None


async def alert_for_note(work: UnitOfWork, writer: Member, round_id: int | None) -> OpenAlert:
    """The open alert a manager may write about, and whom a note reaches; refused for a
    person they do not watch, and once the alert has closed."""
    checkin = await work.repos.rounds.get(round_id) if round_id else None
    person = await work.repos.members.get(checkin.member_id) if checkin else None
    if checkin is None or person is None or not await _watching(work, writer, person):
        raise Refused(Refusal.NOT_ALLOWED)
    if not await _still_open(work, checkin):
        raise Refused(Refusal.ALERT_CLOSED, name=person.display_name)
    watching = await work.repos.teams.managers_watching(person.id)
    return OpenAlert(person, checkin.id, tuple(m for m in watching if m.id != writer.id))


async def _watching(work: UnitOfWork, manager: Member, person: Member) -> bool:
    """Watching her as the protocol counts it: a manager who blocked the account hears none
    of the alert (nor is among those a note reaches), though My page opens for him."""
    return manager.active and await work.repos.teams.is_manager_of(manager.id, person.id)


async def _still_open(work: UnitOfWork, checkin: CheckinRound) -> bool:
    current = await work.repos.rounds.open_round(checkin.member_id)
    return current is not None and current.id == checkin.id and stage_of(current) in ALERT_STAGES


def clean_note(text: str | None) -> str | None:
    """The note as written, trimmed; None when empty or longer than NOTE_MAX."""
    note = (text or "").strip()
    return note if 0 < len(note) <= NOTE_MAX else None


async def send_note(
    work: UnitOfWork, writer: Member, round_id: int | None, note: str
) -> OpenAlert:
    """The note to every other manager watching her, with the alert's buttons; the alert is
    left as it is. Held to a rate by who writes (each note is a message to several people).
    -> the alert, and whom the note reached."""
    alert = await alert_for_note(work, writer, round_id)
    if not alert.others:
        return alert
    await budget.made(work, "alert_note", f"会員ID {writer.id}", f"会員ID {alert.person.id}")

    def build(locale: Locale, _: Member) -> list[Telling]:
        text = locale.t(
            "first_minute.note.body",
            writer=display_name(locale, writer),
            name=display_name(locale, alert.person),
            member_id=alert.person.id,
            note=note,
        )
        choices = alert_choices(work.services, locale, alert.round_id)
        return [Telling.card(locale.language, locale.t("first_minute.alert_title"), text, choices)]

    only = [m.id for m in alert.others]
    await notify_managers(
        work, alert.person, "alert_note", build, round_id=alert.round_id, only=only
    )
    return alert
