"""The cards: a member's card as My page shows it, to herself or to a manager who watches her
(with her answers of the last 30 days), and her card off the chat (issue 38)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from care.members import people, sharing
from care.members.cards import Card, Relation, audit_member_view, open_card
from care.rounds import calls, devices, notes, status, taking, verify
from care.rounds.notify import display_name
from care.rounds.protocol import HELP_STAGES, WAITING_STAGES, stage_of
from care.services import Services, UnitOfWork
from ground.i18n import Locale
from ground.identifiers import row_id
from liff.api.guard import CALLER, before_terms, error, json_body, path_id, services_of
from storage.models import PERSONAL_FIELDS, Member

routes = web.RouteTableDef()


async def card(work: UnitOfWork, locale: Locale, member: Member, viewer: Member) -> dict[str, Any]:
    own = member.id == viewer.id
    shown = await sharing.may_see_personal(work, viewer, member)
    state = await status.state_of(work, member)
    managers = await work.repos.teams.managers_watching(member.id)
    return {
        "id": member.id,
        "own": own,
        "nickname": member.display_name,
        "registered": locale.when(member.registered_at),
        "status": locale.t(f"status.member.{member.status}"),
        "checkins": state.status.value,
        "schedule": locale.schedule(member.interval_days, member.checkin_hour),
        "interval_days": member.interval_days,
        "hour": member.checkin_hour,
        "next": locale.when(state.next_at) if state.next_at else "",
        "last_ok": locale.when(member.last_ok_at),
        "round": locale.t(f"status.round.{state.round.value if state.round else 'none'}"),
        "alert_open": state.alert_open,
        "paused_until": state.paused_until.isoformat() if state.paused_until else None,
        # The pause as every surface writes it (a date, or 退院するまで: until resumed).
        "paused_label": status.describe_checkins(locale, state) if state.paused_until else None,
        # 緊急時メモ: the person's own, and a manager's only while an alert is open and only
        # once the person agreed to show their details to this manager.
        "memo": member.emergency_memo if own or (state.alert_open and shown) else None,
        "watchers": [display_name(locale, m) for m in managers],
        # Another's 氏名, 電話番号...: only once they agreed to show them to this viewer.
        "personal": {name: getattr(member.personal, name) for name in PERSONAL_FIELDS}
        if shown
        else None,
        # 最後の動き: a device's last sign of life, for the person and who watches them.
        "last_activity": devices.last_movement(locale, member),
        **(await _own_settings(work, locale, member) if own else {}),
        **(await _own_card(work, locale, member, managers) if own else {}),
    }


async def _own_card(
    work: UnitOfWork, locale: Locale, member: Member, managers: list[Member]
) -> dict[str, Any]:
    """Her card as she reads it (issue 40): the check-in waiting for her OK, if one is, and
    who is told when no OK comes, with what each of them sees of her."""
    checkin = await work.repos.rounds.open_round(member.id)
    waiting = None
    if checkin is not None:
        stage = stage_of(checkin)
        if stage in HELP_STAGES:
            kind = "help"  # her 助けてほしい is open: an OK does not close it (asked in LINE)
        elif stage in WAITING_STAGES:
            kind = "asked"
        else:
            kind = "alerted"  # no answer: her watchers were told, her OK tells them she is safe
        waiting = {"kind": kind, "asked": locale.when(checkin.slot_at)}
    shown = await sharing.shown_to(work, member)
    return {
        "waiting": waiting,
        "blocked": not member.active,
        "told": [
            {"name": display_name(locale, manager), "shown": manager.id in shown}
            for manager in managers
        ],
    }


async def _own_settings(work: UnitOfWork, locale: Locale, member: Member) -> dict[str, Any]:
    """The call before the alert and the linked devices: only on the person's own card."""
    linked = await work.repos.devices.of_member(member.id)
    return {
        "calls": {
            "available": calls.VOICE in work.services.channels,
            "number": member.call_number,
            "before_alert": member.call_before_alert,
            # Hers (verified by a call's code, or by staff with her present), a call's code
            # waiting to be typed, and whether anyone watches her (else no call is placed).
            "verified": member.call_verified_at is not None,
            "code_waiting": await verify.waiting(work, member),
            "watched": await calls.watched(work, member),
        },
        "devices": [
            {
                "id": device.id,
                "label": device.label,
                "counts_as_ok": device.counts_as_ok,
                "last_ping": locale.when(device.last_ping_at) if device.last_ping_at else None,
            }
            for device in linked
        ],
    }


@routes.route("GET", "/members/{member_id}")
async def member_view(request: web.Request) -> web.Response:
    """Read only: oneself, or a user of a team the caller manages. Nobody else."""
    viewer = request[CALLER]
    member_id = path_id(request, "member_id")
    services = services_of(request)
    async with services.unit_of_work() as work:
        member = await people.viewable(work, viewer, member_id)
        locale = services.locale(viewer.language)
        body = await card(work, locale, member, viewer)
        # Her details, shown here to a manager she shows them to: audited as her card is.
        shown = body["personal"] is not None
        await audit_member_view(work, viewer, member, shown, bool(body["memo"]))
    return web.json_response({"member": body})


@routes.route("GET", "/members/{member_id}/history")
async def member_history(request: web.Request) -> web.Response:
    """The last 30 days of answers: oneself, or a user of a team the caller manages."""
    viewer = request[CALLER]
    services = services_of(request)
    locale = services.locale(viewer.language)
    async with services.reading() as work:
        member = await people.viewable(work, viewer, path_id(request, "member_id"))
        entries = await people.history(work, member)
    return web.json_response(
        {
            "days": [
                {
                    "date": day.isoformat(),
                    "label": locale.when(entry.slot_at),
                    "short": locale.short_day(day),
                    "answer": entry.answer,
                    "minutes": entry.minutes,
                }
                for entry in entries
                for day in [entry.slot_at.astimezone(services.timezone).date()]
            ]
        }
    )


# Her card off the chat: alerts, visit requests and the roll-call's 「助けが必要です」 carry a
# button to here (/liff/card/{id}) instead of her details; care.members.cards decides who reads
# what, and audits it. Open before the terms are accepted: a partner or a relative at her door
# is not kept from her phone number by a page of terms (safety first, as the alert itself).
@routes.route("GET", "/cards/{member_id}")  # her card (issue 38)
@before_terms
async def person_card(request: web.Request) -> web.Response:
    """Her card for the caller: her details where she shows them to the caller, that she chose
    not to for a manager she does not show them to, and 404 for anyone else (whether she
    exists or not)."""
    viewer = request[CALLER]
    services = services_of(request)
    locale = services.locale(viewer.language)
    texts = _card_texts(locale)
    async with services.unit_of_work() as work:
        found = await open_card(work, viewer, row_id(request.match_info["member_id"]))
        alert = await _alert_on_card(work, viewer, found)
    if found is None:
        body = {"error": "not_found", "detail": "", "texts": texts}
        response = web.json_response(body, status=404)
    else:
        view = card_view(services, locale, found) | {"alert": _alert_view(locale, alert)}
        response = web.json_response({"card": view, "texts": texts})
    response.headers["Cache-Control"] = "no-store"
    return response


def _card_texts(locale: Locale) -> dict[str, str]:
    """The card page's words: its own, and the alert's buttons and the note's."""
    texts = {f"card.{key}": value for key, value in locale.section("card").items()}
    texts |= {f"note.{k}": v for k, v in locale.section("first_minute.note").items()}
    texts |= {f"alert.{k}_button": locale.t(f"alert.{k}_button") for k in ("take", "safe")}
    return texts


async def _alert_on_card(
    work: UnitOfWork, viewer: Member, found: Card | None
) -> notes.OpenAlert | None:
    """While an alert about her is open, a manager who watches her acts on it from her card
    (対応します, 無事を確認しました) and writes a note to the other watchers."""
    if found is None or found.relation is not Relation.MANAGER or not found.alert_open:
        return None
    round_id = await notes.open_alert_about(work, viewer, found.person)
    return await notes.alert_for_note(work, viewer, round_id) if round_id else None


def _alert_view(locale: Locale, alert: notes.OpenAlert | None) -> dict[str, Any] | None:
    if alert is None:
        return None
    return {
        "round": alert.round_id,
        "others": [display_name(locale, m) for m in alert.others],
        "note_max": notes.NOTE_MAX,
    }


ALERT_ACTIONS = ("take", "safe", "note")


@routes.route("POST", "/cards/{member_id}/alert")
@before_terms
async def act_on_alert(request: web.Request) -> web.Response:
    """対応します, 無事を確認しました or a note to the other watchers, from her card: the same
    rules as the chat's buttons (care.rounds.taking, care.rounds.notes). -> what to say."""
    body = await json_body(request)
    what, round_id = body.get("action"), body.get("round")
    if what not in ALERT_ACTIONS or not isinstance(round_id, int):
        raise error(400, "bad_action")
    viewer = request[CALLER]
    services = services_of(request)
    locale = services.locale(viewer.language)
    note = notes.clean_note(body.get("note") if isinstance(body.get("note"), str) else None)
    if what == "note" and note is None:
        raise error(400, "bad_note", locale.t("first_minute.note.too_long", max=notes.NOTE_MAX))
    async with services.unit_of_work() as work:
        if what == "take":
            taken = await taking.take(work, viewer, round_id)
            name = display_name(locale, taken.person)
            if taken.first or taken.taker.id == viewer.id:
                said = locale.t("alert.taken_you", name=name)
            else:
                taker = display_name(locale, taken.taker)
                said = locale.t("alert.taken_already", name=name, taker=taker)
        elif what == "safe":
            person = await taking.confirm_safe(work, viewer, round_id)
            said = locale.t("alert.confirmed_you", name=display_name(locale, person))
        else:
            assert note is not None
            alert = await notes.send_note(work, viewer, round_id, note)
            names = "、".join(display_name(locale, m) for m in alert.others)
            said = (
                locale.t("first_minute.note.sent", names=names)
                if alert.others
                else locale.t("first_minute.note.nobody", name=display_name(locale, alert.person))
            )
    return web.json_response({"ok": True, "said": said})


def card_view(services: Services, locale: Locale, found: Card) -> dict[str, Any]:
    person = found.person
    return {
        "id": person.id,
        "name": display_name(locale, person),
        "relation": found.relation.value,
        "shown": found.shown,
        "alert_open": found.alert_open,
        "last_ok": locale.when(person.last_ok_at),
        # Each shown detail, 要配慮 ones marked (storage.models.SENSITIVE_FIELDS).
        "details": [
            {"field": name, "value": value, "sensitive": name in found.sensitive}
            for name, value in found.details
        ],
        "tel": found.tel,
        "memo_later": found.memo_later,
        # A manager's way on to her page (answers, the last 30 days): My page's team view.
        "member_page": f"/liff/teams#member-{person.id}"
        if found.relation is Relation.MANAGER
        else None,
    }
