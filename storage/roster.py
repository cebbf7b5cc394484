"""The city's 避難行動要支援者名簿 as imported (migration 0050): its people, found by the
city's own ID, their letter codes, and who each is as a member."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from storage.database import Connection, from_db, to_db
from storage.models import required_time

# A file between its preview and its commit is kept no longer.
PENDING_KEPT = timedelta(hours=1)
# What the city's file says of a person, in the file's order after the ID.
FIELDS = ("name", "furigana", "address", "phone", "carer", "consent")


@dataclass(frozen=True)
class RosterPerson:
    id: int
    roster_id: str  # the city's ID
    name: str
    furigana: str
    address: str
    phone: str  # as the file wrote it
    carer: str  # 担当 民生委員 or 町会, as the file names them
    consent: bool  # 平常時同意 (災害対策基本法 49条の11 第2項)
    member_id: int
    letter_code: str | None
    letter_code_at: datetime | None
    linked_at: datetime | None  # when a LINE account sent the letter's code
    added_at: datetime
    updated_at: datetime
    removed_at: datetime | None
    # When her current code was put on a letter to print (None: never, as the import made it).
    letter_printed_at: datetime | None = None

    @property
    def removed(self) -> bool:
        return self.removed_at is not None

    def values(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in FIELDS}

    @classmethod
    def from_row(cls, row: Any) -> RosterPerson:
        return cls(
            id=row["id"],
            roster_id=row["roster_id"],
            name=row["name"],
            furigana=row["furigana"],
            address=row["address"],
            phone=row["phone"],
            carer=row["carer"],
            consent=bool(row["consent"]),
            member_id=row["member_id"],
            letter_code=row["letter_code"],
            letter_code_at=from_db(row["letter_code_at"]),
            linked_at=from_db(row["linked_at"]),
            added_at=required_time(row["added_at"]),
            updated_at=required_time(row["updated_at"]),
            removed_at=from_db(row["removed_at"]),
            letter_printed_at=from_db(row["letter_printed_at"]),
        )


class RosterRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def everyone(self, removed_too: bool = True) -> list[RosterPerson]:
        where = "" if removed_too else " WHERE removed_at IS NULL"
        rows = await self._conn.fetch_all(
            f"SELECT * FROM roster_people{where} ORDER BY carer, furigana, roster_id"
        )
        return [RosterPerson.from_row(row) for row in rows]

    async def get(self, person_id: int) -> RosterPerson | None:
        row = await self._conn.fetch_one("SELECT * FROM roster_people WHERE id = ?", (person_id,))
        return RosterPerson.from_row(row) if row else None

    async def of_member(self, member_id: int) -> RosterPerson | None:
        row = await self._conn.fetch_one(
            "SELECT * FROM roster_people WHERE member_id = ? AND removed_at IS NULL",
            (member_id,),
        )
        return RosterPerson.from_row(row) if row else None

    async def by_letter_code(self, code: str) -> RosterPerson | None:
        row = await self._conn.fetch_one(
            "SELECT * FROM roster_people WHERE letter_code = ?", (code,)
        )
        return RosterPerson.from_row(row) if row else None

    async def add(
        self, roster_id: str, values: dict[str, Any], member_id: int, code: str, now: datetime
    ) -> int:
        row = await self._conn.fetch_one(
            "INSERT INTO roster_people (roster_id, name, furigana, address, phone, carer,"
            " consent, member_id, letter_code, letter_code_at, added_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (
                roster_id,
                *(_stored(values[name]) for name in FIELDS),
                member_id,
                code,
                to_db(now),
                to_db(now),
                to_db(now),
            ),
        )
        assert row is not None
        return int(row[0])

    async def update(
        self, person_id: int, values: dict[str, Any], now: datetime, member_id: int | None = None
    ) -> None:
        """The file's values; a person removed before and listed again is back."""
        await self._conn.execute(
            "UPDATE roster_people SET name = ?, furigana = ?, address = ?, phone = ?, carer = ?,"
            " consent = ?, updated_at = ?, removed_at = NULL,"
            " member_id = COALESCE(?, member_id) WHERE id = ?",
            (*(_stored(values[name]) for name in FIELDS), to_db(now), member_id, person_id),
        )

    async def remove(self, person_id: int, now: datetime) -> None:
        """No longer listed: the letter's code stops working."""
        await self._conn.execute(
            "UPDATE roster_people SET removed_at = ?, letter_code = NULL, updated_at = ?"
            " WHERE id = ? AND removed_at IS NULL",
            (to_db(now), to_db(now), person_id),
        )

    async def set_letter_code(self, person_id: int, code: str | None, now: datetime) -> None:
        await self._conn.execute(
            "UPDATE roster_people SET letter_code = ?, letter_code_at = ? WHERE id = ?",
            (code, to_db(now) if code else None, person_id),
        )

    async def letter_printed(self, person_id: int, now: datetime) -> None:
        await self._conn.execute(
            "UPDATE roster_people SET letter_printed_at = ? WHERE id = ?", (to_db(now), person_id)
        )

    async def link(self, person_id: int, code: str, member_id: int, now: datetime) -> bool:
        """The code is spent and the LINE member that sent it is the person from now on;
        False when the code was spent in the meantime."""
        written = await self._conn.execute(
            "UPDATE roster_people SET member_id = ?, linked_at = ?, letter_code = NULL,"
            " letter_code_at = NULL WHERE id = ? AND letter_code = ?",
            (member_id, to_db(now), person_id, code),
        )
        return written.rowcount == 1

    async def unlink(self, person_id: int, member_id: int) -> None:
        """Back to the member reached by phone (her LINE account left the service)."""
        await self._conn.execute(
            "UPDATE roster_people SET member_id = ?, linked_at = NULL WHERE id = ?",
            (member_id, person_id),
        )

    async def in_roll_call(self, roll_call_id: int) -> list[dict[str, Any]]:
        """The roster's people a roll-call named, with their answer or why not asked."""
        rows = await self._conn.fetch_all(
            "SELECT r.*, p.answer, p.answered_at, p.unasked FROM roster_people r"
            " JOIN roll_call_people p ON p.member_id = r.member_id AND p.roll_call_id = ?"
            " ORDER BY r.carer, r.furigana, r.roster_id",
            (roll_call_id,),
        )
        return [dict(row) for row in rows]

    async def carers_sent(self, roll_call_id: int) -> tuple[datetime | None, frozenset[int]]:
        """When the roll-call's people were last sent to their partners, and to whom."""
        row = await self._conn.fetch_one(
            "SELECT carers_sent_at, carers_sent_to FROM roll_calls WHERE id = ?", (roll_call_id,)
        )
        if row is None or row["carers_sent_at"] is None:
            return None, frozenset()
        to = frozenset(int(p) for p in (row["carers_sent_to"] or "").split(",") if p)
        return from_db(row["carers_sent_at"]), to

    async def mark_carers_sent(
        self, roll_call_id: int, partner_ids: frozenset[int], at: datetime
    ) -> None:
        await self._conn.execute(
            "UPDATE roll_calls SET carers_sent_at = ?, carers_sent_to = ? WHERE id = ?",
            (to_db(at), ",".join(map(str, sorted(partner_ids))), roll_call_id),
        )

    async def purge_removed(self, before: datetime, limit: int) -> list[int]:
        """People removed from the roster before `before`: their rows go. -> the members
        who were them by phone alone (the caller retires them)."""
        rows = await self._conn.fetch_all(
            "SELECT id, member_id, linked_at FROM roster_people WHERE removed_at < ?"
            " ORDER BY id LIMIT ?",
            (to_db(before), limit),
        )
        for row in rows:
            await self._conn.execute("DELETE FROM roster_people WHERE id = ?", (row["id"],))
        return [row["member_id"] for row in rows if row["linked_at"] is None]


def _stored(value: Any) -> Any:
    return int(value) if isinstance(value, bool) else value


class RosterImportRepository:
    """Files between their preview and their commit (migration 0050)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def keep(self, made_by: str, content: str, state: str, now: datetime) -> int:
        row = await self._conn.fetch_one(
            "INSERT INTO roster_imports (made_by, made_at, content, roster_state)"
            " VALUES (?, ?, ?, ?) RETURNING id",
            (made_by, to_db(now), content, state),
        )
        assert row is not None
        return int(row[0])

    async def get(self, import_id: int, made_by: str) -> tuple[str, str, datetime] | None:
        """(content, roster state at the preview, when), of this account's file only."""
        row = await self._conn.fetch_one(
            "SELECT content, roster_state, made_at FROM roster_imports"
            " WHERE id = ? AND made_by = ?",
            (import_id, made_by),
        )
        return (row[0], row[1], required_time(row[2])) if row else None

    async def forget(self, import_id: int) -> None:
        await self._conn.execute("DELETE FROM roster_imports WHERE id = ?", (import_id,))

    async def forget_before(self, before: datetime, made_by: str | None = None) -> int:
        """Files older than `before` (and every earlier one of `made_by`)."""
        written = await self._conn.execute(
            "DELETE FROM roster_imports WHERE made_at < ? OR made_by = ?",
            (to_db(before), made_by or ""),
        )
        return written.rowcount
