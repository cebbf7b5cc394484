"""What the staff asked to do for a person, and her answer (care/members/on_behalf.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.database import Connection, from_db, to_db
from storage.models import required_time


@dataclass(frozen=True)
class StaffRequest:
    id: int
    member_id: int  # whose yes is asked
    kind: str  # device, watcher
    device_id: int | None
    team_id: int | None
    watcher_id: int | None
    batch: str
    staff: str
    created_at: datetime
    answer: str | None  # yes, no, withdrawn; None: waiting
    answered_at: datetime | None

    @classmethod
    def from_row(cls, row: Any) -> StaffRequest:
        return cls(
            id=row["id"],
            member_id=row["member_id"],
            kind=row["kind"],
            device_id=row["device_id"],
            team_id=row["team_id"],
            watcher_id=row["watcher_id"],
            batch=row["batch"],
            staff=row["staff"],
            created_at=required_time(row["created_at"]),
            answer=row["answer"],
            answered_at=from_db(row["answered_at"]),
        )


class StaffRequestRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def add(
        self,
        member_id: int,
        kind: str,
        batch: str,
        staff: str,
        at: datetime,
        device_id: int | None = None,
        team_id: int | None = None,
        watcher_id: int | None = None,
        answer: str | None = None,
    ) -> int:
        row = await self._conn.fetch_one(
            "INSERT INTO staff_requests (member_id, kind, device_id, team_id, watcher_id, batch,"
            " staff, created_at, answer, answered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " RETURNING id",
            (
                member_id,
                kind,
                device_id,
                team_id,
                watcher_id,
                batch,
                staff,
                to_db(at),
                answer,
                to_db(at) if answer else None,
            ),
        )
        assert row is not None
        return int(row[0])

    async def get(self, request_id: int) -> StaffRequest | None:
        row = await self._conn.fetch_one(
            "SELECT * FROM staff_requests WHERE id = ?", (request_id,)
        )
        return StaffRequest.from_row(row) if row else None

    async def batch(self, batch: str) -> list[StaffRequest]:
        rows = await self._conn.fetch_all(
            "SELECT * FROM staff_requests WHERE batch = ? ORDER BY id", (batch,)
        )
        return [StaffRequest.from_row(row) for row in rows]

    async def answer(self, request_id: int, answer: str, at: datetime) -> bool:
        """Her answer, if the request still waits for one (else nothing changes)."""
        written = await self._conn.execute(
            "UPDATE staff_requests SET answer = ?, answered_at = ?"
            " WHERE id = ? AND answer IS NULL",
            (answer, to_db(at), request_id),
        )
        return written.rowcount == 1

    async def close_batch(self, batch: str, answer: str, at: datetime) -> None:
        await self._conn.execute(
            "UPDATE staff_requests SET answer = ?, answered_at = ? WHERE batch = ?"
            " AND answer IS NULL",
            (answer, to_db(at), batch),
        )

    async def waiting_in_team(self, team_id: int) -> list[StaffRequest]:
        rows = await self._conn.fetch_all(
            "SELECT * FROM staff_requests WHERE team_id = ? AND answer IS NULL ORDER BY id",
            (team_id,),
        )
        return [StaffRequest.from_row(row) for row in rows]

    async def forget_person(self, member_id: int) -> None:
        """退会: nothing asked of her, or about her as a watcher, is kept."""
        await self._conn.execute(
            "DELETE FROM staff_requests WHERE member_id = ? OR watcher_id = ?",
            (member_id, member_id),
        )
