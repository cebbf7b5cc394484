"""Rows of the database as frozen values."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any, NamedTuple

from ground.telling import Telling
from storage.database import from_db


class Role(StrEnum):
    USER = "user"  # 利用者: gets check-ins
    MANAGER = "manager"  # 管理者: is alerted


class StaffRole(StrEnum):
    """What a console account may do (admin/access.py says which pages each opens). One role
    per account, so that a city's reviewer reads one answer per person."""

    OPERATOR = "operator"  # 運用管理: accounts, settings, notices, roll-calls, exports
    DESK = "desk"  # 窓口: the desk, partners, the cards of people it has a case for
    VIEWER = "viewer"  # 閲覧: figures without names
    AUDITOR = "auditor"  # 監査: the audit log, read only


class RoundState(StrEnum):
    OPEN = "open"
    RESENT = "resent"
    ALERTED = "alerted"
    ANSWERED = "answered"
    CANCELLED = "cancelled"


OPEN_STATES = (RoundState.OPEN, RoundState.RESENT, RoundState.ALERTED)


PERSONAL_FIELDS = ("full_name", "furigana", "gender", "birth_date", "phone", "address")


class PersonalItem(NamedTuple):
    """One item of a person the service keeps, as a 個人情報ファイル簿 lists it (記録項目)."""

    table: str
    column: str
    label: str  # the item's name in the register, as a city writes it
    # 要配慮個人情報 (個人情報保護法 2条3項, 施行令 2条): which kind it holds, or "" when none.
    # A leak of one such item must be reported to the 個人情報保護委員会 even for one person.
    sensitive: str = ""


# The one place that says which items are 要配慮個人情報. Her card on My page marks them, the
# console marks them where it shows them, and the privacy register lists them from here.
# Free text is marked by what it is written for: the 緊急時メモ asks for かかりつけ医 and お薬
# (医師等による診療・調剤, 病歴); her own words to her managers and the desk's notes are where
# an illness, a fall or a hospital stay is written down.
PERSONAL_ITEMS = (
    PersonalItem("members", "display_name", "呼び名（LINE の表示名）"),
    PersonalItem("members", "line_user_id", "LINE のユーザー ID"),
    PersonalItem("members", "full_name", "氏名"),
    PersonalItem("members", "furigana", "ふりがな"),
    PersonalItem("members", "gender", "性別"),
    PersonalItem("members", "birth_date", "生年月日"),
    PersonalItem("members", "phone", "電話番号"),
    PersonalItem("members", "address", "住所"),
    PersonalItem(
        "members",
        "emergency_memo",
        "緊急時メモ（かかりつけ医、お薬、合鍵の場所など）",
        "病歴、医師等による診療・調剤に関する情報（かかりつけ医、お薬）",
    ),
    PersonalItem("members", "call_number", "確認の電話をかける番号"),
    PersonalItem(
        "checkin_rounds",
        "help_words",
        "「助けてほしい」に添えたご本人のことば",
        "病歴、心身の状態（ご本人が書いた病状・けが）",
    ),
    PersonalItem(
        "desk_steps",
        "note",
        "窓口の記録（電話・メモ）",
        "病歴、診療に関する情報（入院・搬送の記録）",
    ),
    PersonalItem(
        "desk_cases",
        "outcome_note",
        "窓口の件の結果のメモ",
        "病歴、診療に関する情報（入院・搬送の記録）",
    ),
    PersonalItem(
        "person_notes",
        "note",
        "窓口がご本人について残すメモ",
        "病歴、心身の機能の障害に関する情報",
    ),
)
SENSITIVE_ITEMS = {(i.table, i.column): i.sensitive for i in PERSONAL_ITEMS if i.sensitive}
# A member's own fields that are 要配慮 (her card marks these).
SENSITIVE_FIELDS = frozenset(column for table, column in SENSITIVE_ITEMS if table == "members")
# What goes to whoever goes to look, and only on her card (care.members.cards): never in the chat,
# unless the deployment keeps it there (MIMAMORI_DETAILS_IN_CHAT).
CARD_FIELDS = ("full_name", "phone", "address", "emergency_memo")


@dataclass(frozen=True)
class PersonalFields:
    """What a person may add on My page; all optional, each '' unless filled in."""

    full_name: str = ""
    furigana: str = ""
    gender: str = ""
    birth_date: str = ""
    phone: str = ""
    address: str = ""  # where a desk or a partner would go


@dataclass(frozen=True)
class Member:
    id: int
    line_user_id: str
    display_name: str
    language: str
    registered_at: datetime
    status: str
    interval_days: int | None
    checkin_hour: int | None
    next_due_at: datetime | None
    last_ok_at: datetime | None
    dialog: str | None
    personal: PersonalFields
    terms_accepted_at: datetime | None
    paused_until: date | None  # no check-in before this local date
    emergency_memo: str = ""  # 緊急時メモ: for whoever goes to look, shown inside an alert
    daily_note: bool = False  # a manager who wants a note about every OK, once a day
    channel: str = "line"  # how the person is reached (ground.channels)
    channel_address: str | None = None  # where, in that channel's terms (LINE: line_user_id)
    schedule_by_managers: bool = False  # 家族に設定してもらう: a manager may set the schedule
    schedule_asked_at: datetime | None = None  # when she asked it (it lasts a while)
    pause_reminder_at: datetime | None = None  # 退院するまで: the next weekly reminder
    call_number: str | None = None  # E.164: the phone a call before the alert rings
    call_before_alert: bool = False  # consented to: a call after the re-send, before the alert
    call_consented_by: str | None = None  # "self", or the desk's staff who set it for them
    # When the call number was made hers (care.rounds.verify): by "call" (her code) or staff's
    # name.
    call_verified_at: datetime | None = None
    call_verified_by: str | None = None
    last_activity_at: datetime | None = None  # 最後の動き: a device's last sign of life
    last_activity_label: str | None = None  # which device (玄関, 電気ポット)

    @property
    def open_pause(self) -> bool:
        """Paused until the person says so (退院するまで), not until a date."""
        return self.pause_reminder_at is not None

    @property
    def active(self) -> bool:
        return self.status == "active"

    def with_last_ok(self, moment: datetime) -> Member:
        """The member after an OK at `moment`: `dataclasses.replace`, without its walk over
        every field (an OK tap's one copy, at the rush)."""
        changed = object.__new__(Member)
        changed.__dict__.update(self.__dict__)
        object.__setattr__(changed, "last_ok_at", moment)
        return changed

    @classmethod
    def from_row(cls, row: Any) -> Member:
        row = columns(row)
        return cls(
            id=row["id"],
            line_user_id=row["line_user_id"],
            display_name=row["display_name"],
            language=row["language"],
            registered_at=required_time(row["registered_at"]),
            status=row["status"],
            interval_days=row["interval_days"],
            checkin_hour=row["checkin_hour"],
            next_due_at=from_db(row["next_due_at"]),
            last_ok_at=from_db(row["last_ok_at"]),
            dialog=row["dialog"],
            personal=PersonalFields(*(row[name] for name in PERSONAL_FIELDS)),
            terms_accepted_at=from_db(row["terms_accepted_at"]),
            paused_until=parse_date(row["paused_until"]),
            emergency_memo=row["emergency_memo"],
            daily_note=bool(row["daily_note"]),
            channel=row["channel"],
            channel_address=row["channel_address"],
            schedule_by_managers=bool(row["schedule_by_managers"]),
            schedule_asked_at=from_db(row["schedule_asked_at"]),
            pause_reminder_at=from_db(row["pause_reminder_at"]),
            call_number=row["call_number"],
            call_before_alert=bool(row["call_before_alert"]),
            call_consented_by=row["call_consented_by"],
            call_verified_at=from_db(row["call_verified_at"]),
            call_verified_by=row["call_verified_by"],
            last_activity_at=from_db(row["last_activity_at"]),
            last_activity_label=row["last_activity_label"],
        )


class DueMember(NamedTuple):
    """A member whose check-in is due, as much as opening the round needs."""

    id: int
    interval_days: int | None
    checkin_hour: int | None
    next_due_at: datetime
    paused_until: date | None
    line_user_id: str  # who the check-in goes to, in which language, and how
    language: str
    channel: str = "line"
    channel_address: str | None = None

    @property
    def member_id(self) -> int:
        return self.id


class AwaitingMessage(NamedTuple):
    """A round whose check-in (or re-send) is not yet in the outbox, and who gets it."""

    round_id: int
    member_id: int
    slot_at: datetime
    line_user_id: str
    language: str
    channel: str = "line"
    channel_address: str | None = None


@dataclass(frozen=True)
class Team:
    id: int
    name: str
    default_interval_days: int
    default_hour: int
    created_at: datetime
    deleted_at: datetime | None
    desk_watched: bool = False  # 運営が見守る: the desk watches its users itself
    turn_minutes: int | None = None  # how long each managers' turn lasts (None: realert_after)
    # Made by the staff for an area (町会, 集合住宅, a 民生委員's district): its users are
    # neighbours who need not know each other, and are not told of each other.
    kept_when_empty: bool = False

    @classmethod
    def from_row(cls, row: Any) -> Team:
        return cls(
            id=row["id"],
            name=row["name"],
            default_interval_days=row["default_interval_days"],
            default_hour=row["default_hour"],
            created_at=required_time(row["created_at"]),
            deleted_at=from_db(row["deleted_at"]),
            desk_watched=bool(row["desk_watched"]),
            turn_minutes=row["turn_minutes"],
            kept_when_empty=bool(row["kept_when_empty"]),
        )


@dataclass(frozen=True)
class Invite:
    code: str
    team_id: int
    role: Role
    created_at: datetime
    revoked_at: datetime | None

    @classmethod
    def from_row(cls, row: Any) -> Invite:
        return cls(
            code=row["code"],
            team_id=row["team_id"],
            role=Role(row["role"]),
            created_at=required_time(row["created_at"]),
            revoked_at=from_db(row["revoked_at"]),
        )


@dataclass(frozen=True)
class CheckinRound:
    id: int
    member_id: int
    slot_at: datetime
    state: RoundState
    opened_at: datetime
    sent_at: datetime | None
    resent_at: datetime | None
    alerted_at: datetime | None
    closed_at: datetime | None
    close_reason: str | None
    answer: str | None = None  # ok, unwell, help; None for a message or no answer
    urgent: bool = False  # 助けてほしい: every manager alerted at once
    taken_by: int | None = None  # the manager who said 対応します
    taken_at: datetime | None = None
    confirmed_by: int | None = None  # the manager who found the person safe
    realerted_at: datetime | None = None  # nobody took the alert: it was sent again
    help_words: str | None = None  # the message whose words of distress raised the alert
    escalated_at: datetime | None = None  # nobody took it after the re-alert: the desk has it
    turn: int = 1  # the managers' turn told last (turn 1: the first told)
    turn_at: datetime | None = None  # when that turn was told
    next_turn_at: datetime | None = None  # when the next turn is told; None: no turn left
    called_at: datetime | None = None  # the call before the alert was placed (care.rounds.calls)
    call_until: datetime | None = None  # when the managers are told if the call settles nothing
    taker_asked_at: datetime | None = None  # the taker was asked whether they found the person
    reminded_at: datetime | None = None  # the alert was last said (or said again) to be open

    @classmethod
    def from_row(cls, row: Any) -> CheckinRound:
        row = columns(row)
        return cls(
            id=row["id"],
            member_id=row["member_id"],
            slot_at=required_time(row["slot_at"]),
            state=RoundState(row["state"]),
            opened_at=required_time(row["opened_at"]),
            sent_at=from_db(row["sent_at"]),
            resent_at=from_db(row["resent_at"]),
            alerted_at=from_db(row["alerted_at"]),
            closed_at=from_db(row["closed_at"]),
            close_reason=row["close_reason"],
            answer=row["answer"],
            urgent=bool(row["urgent"]),
            taken_by=row["taken_by"],
            taken_at=from_db(row["taken_at"]),
            confirmed_by=row["confirmed_by"],
            realerted_at=from_db(row["realerted_at"]),
            help_words=row["help_words"],
            escalated_at=from_db(row["escalated_at"]),
            turn=row["turn"],
            turn_at=from_db(row["turn_at"]),
            next_turn_at=from_db(row["next_turn_at"]),
            called_at=from_db(row["called_at"]),
            call_until=from_db(row["call_until"]),
            taker_asked_at=from_db(row["taker_asked_at"]),
            reminded_at=from_db(row["reminded_at"]),
        )


@dataclass(frozen=True)
class OutboxMessage:
    id: int
    kind: str
    recipients: list[str]
    messages: list[dict[str, Any]]  # LINE's, as written before tellings existed
    retry_key: str
    purpose: str
    round_id: int | None
    attempts: int
    channel: str = "line"
    tellings: list[Telling] = field(default_factory=list)

    @classmethod
    def from_row(cls, row: Any) -> OutboxMessage:
        return cls(
            id=row["id"],
            kind=row["kind"],
            recipients=json.loads(row["recipients"]),
            messages=json.loads(row["messages"]),
            retry_key=row["retry_key"],
            purpose=row["purpose"],
            round_id=row["round_id"],
            attempts=row["attempts"],
            channel=row["channel"],
            tellings=[Telling.from_json(shaped) for shaped in json.loads(row["tellings"])],
        )


@dataclass(frozen=True)
class ChatGroup:
    """A LINE group or room using つながり."""

    id: int
    line_chat_id: str
    chat_type: str
    name: str
    status: str
    joined_at: datetime
    left_at: datetime | None
    interval_days: int | None
    checkin_hour: int | None
    next_due_at: datetime | None
    paused: bool
    starter_user_id: str | None
    restricted: bool
    quiet_when_all_ok: bool
    summary_only: bool = False  # one report after the round, no reply to each OK

    @property
    def active(self) -> bool:
        return self.status == "active"

    @classmethod
    def from_row(cls, row: Any) -> ChatGroup:
        return cls(
            id=row["id"],
            line_chat_id=row["line_chat_id"],
            chat_type=row["chat_type"],
            name=row["name"],
            status=row["status"],
            joined_at=required_time(row["joined_at"]),
            left_at=from_db(row["left_at"]),
            interval_days=row["interval_days"],
            checkin_hour=row["checkin_hour"],
            next_due_at=from_db(row["next_due_at"]),
            paused=bool(row["paused"]),
            starter_user_id=row["starter_user_id"],
            restricted=bool(row["restricted"]),
            quiet_when_all_ok=bool(row["quiet_when_all_ok"]),
            summary_only=bool(row["summary_only"]),
        )


@dataclass(frozen=True)
class GroupMember:
    group_id: int
    line_user_id: str
    display_name: str
    learnt_at: datetime
    last_ok_at: datetime | None

    @classmethod
    def from_row(cls, row: Any) -> GroupMember:
        return cls(
            group_id=row["group_id"],
            line_user_id=row["line_user_id"],
            display_name=row["display_name"],
            learnt_at=required_time(row["learnt_at"]),
            last_ok_at=from_db(row["last_ok_at"]),
        )


@dataclass(frozen=True)
class GroupRound:
    id: int
    group_id: int
    slot_at: datetime
    state: str
    opened_at: datetime
    posted_at: datetime | None
    reported_at: datetime | None

    @classmethod
    def from_row(cls, row: Any) -> GroupRound:
        return cls(
            id=row["id"],
            group_id=row["group_id"],
            slot_at=required_time(row["slot_at"]),
            state=row["state"],
            opened_at=required_time(row["opened_at"]),
            posted_at=from_db(row["posted_at"]),
            reported_at=from_db(row["reported_at"]),
        )


def parse_date(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def required_time(text: str) -> datetime:
    moment = from_db(text)
    assert moment is not None
    return moment


def columns(row: Any) -> dict[str, Any]:
    """A row as a dict, for a model of many columns: sqlite3.Row finds a column by name in a
    walk over every name, case folded, a dozen times slower than a dict."""
    return dict(zip(row.keys(), row, strict=True))
