"""What keeps the service from doing its work, one row a cause (care/health.py says which)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.database import Connection, from_db, to_db

_COLUMNS = "cause, raised_at, detail, cleared_at"


@dataclass(frozen=True)
class Alarm:
    cause: str
    raised_at: datetime
    detail: str
    cleared_at: datetime | None = None


def _alarm(row: tuple) -> Alarm:
    return Alarm(row[0], from_db(row[1]), row[2], from_db(row[3]) if row[3] else None)


class AlarmRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def raise_(self, cause: str, now: datetime, detail: str) -> bool:
        """Open `cause` (-> True), or leave it open as it is (-> False). One that ended and
        comes back before its end was mailed is the same episode: it keeps its start and its
        first e-mail, so a flapping cause mails once."""
        row = await self._conn.fetch_one(
            "INSERT INTO service_alarms (cause, raised_at, detail) VALUES (?, ?, ?)"
            " ON CONFLICT (cause) DO UPDATE SET cleared_at = NULL, detail = excluded.detail,"
            " raised_at = CASE WHEN service_alarms.cleared_mailed_at IS NULL"
            " AND service_alarms.raised_mailed_at IS NOT NULL"
            " THEN service_alarms.raised_at ELSE excluded.raised_at END,"
            " raised_mailed_at = CASE WHEN service_alarms.cleared_mailed_at IS NULL"
            " THEN service_alarms.raised_mailed_at END,"
            " cleared_mailed_at = NULL"
            " WHERE service_alarms.cleared_at IS NOT NULL RETURNING cause",
            (cause, to_db(now), detail[:500]),
        )
        return row is not None

    async def clear(self, causes: list[str], now: datetime) -> list[str]:
        """End these causes where open; -> those that were."""
        if not causes:
            return []
        marks = ",".join("?" * len(causes))
        rows = await self._conn.fetch_all(
            f"UPDATE service_alarms SET cleared_at = ? WHERE cleared_at IS NULL"
            f" AND cause IN ({marks}) RETURNING cause",
            (to_db(now), *causes),
        )
        return [row[0] for row in rows]

    async def open(self) -> list[Alarm]:
        rows = await self._conn.fetch_all(
            f"SELECT {_COLUMNS} FROM service_alarms WHERE cleared_at IS NULL ORDER BY raised_at"
        )
        return [_alarm(row) for row in rows]

    async def claim_mails(self, now: datetime) -> list[tuple[Alarm, bool]]:
        """(alarm, ended) for each e-mail due, marked sent: its start while it is open, its end
        once it ended, if its start was mailed (a blip over before its first e-mail is not
        mailed at all). `unclaim_mail` gives one back that did not go."""
        stamp = to_db(now)
        started = await self._conn.fetch_all(
            "UPDATE service_alarms SET raised_mailed_at = ?"
            " WHERE cleared_at IS NULL AND raised_mailed_at IS NULL"
            f" RETURNING {_COLUMNS}",
            (stamp,),
        )
        ended = await self._conn.fetch_all(
            "UPDATE service_alarms SET cleared_mailed_at = ? WHERE cleared_at IS NOT NULL"
            " AND raised_mailed_at IS NOT NULL AND cleared_mailed_at IS NULL"
            f" RETURNING {_COLUMNS}",
            (stamp,),
        )
        return [(_alarm(row), False) for row in started] + [(_alarm(row), True) for row in ended]

    async def unclaim_mail(self, cause: str, ended: bool) -> None:
        column = "cleared_mailed_at" if ended else "raised_mailed_at"
        await self._conn.execute(
            f"UPDATE service_alarms SET {column} = NULL WHERE cause = ?", (cause,)
        )
