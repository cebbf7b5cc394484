"""Heat alert days: the documents read from the Ministry of the Environment, the days they
made alert days, the WBGT forecast, who asked for a heat check (or is marked at risk), and
whom each day's check named."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from storage.database import Connection, from_db, to_db
from storage.models import Member


class HeatRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    # The documents read.
    async def seen(self, document: str) -> bool:
        found = await self._conn.fetch_one(
            "SELECT 1 FROM heat_documents WHERE document = ?", (document,)
        )
        return found is not None

    async def record(
        self, document: str, kind: str, action: str, day: date | None, detail: str, now: datetime
    ) -> None:
        await self._conn.execute(
            "INSERT INTO heat_documents (document, kind, action, day, detail, received_at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (document, kind, action, day.isoformat() if day else None, detail, to_db(now)),
        )

    async def documents_since(self, since: datetime) -> list[dict[str, Any]]:
        rows = await self._conn.fetch_all(
            "SELECT * FROM heat_documents WHERE received_at >= ?"
            " ORDER BY received_at DESC, document",
            (to_db(since),),
        )
        return [dict(row) for row in rows]

    # Alert days.
    async def day(self, day: date) -> dict[str, Any] | None:
        row = await self._conn.fetch_one(
            "SELECT * FROM heat_days WHERE day = ?", (day.isoformat(),)
        )
        return dict(row) if row else None

    async def announce(self, day: date, level: str, check_at: datetime, now: datetime) -> bool:
        """The day is an alert day (or its level rises); -> True when it was not one before."""
        found = await self.day(day)
        if found is None:
            await self._conn.execute(
                "INSERT INTO heat_days (day, level, check_at, announced_at) VALUES (?, ?, ?, ?)",
                (day.isoformat(), level, to_db(check_at), to_db(now)),
            )
            return True
        if level == "special" and found["level"] != "special":
            await self._conn.execute(
                "UPDATE heat_days SET level = 'special' WHERE day = ?", (day.isoformat(),)
            )
        return False

    async def days_due(self, now: datetime) -> list[dict[str, Any]]:
        rows = await self._conn.fetch_all(
            "SELECT * FROM heat_days WHERE asked_at IS NULL AND check_at <= ? ORDER BY day",
            (to_db(now),),
        )
        return [dict(row) for row in rows]

    async def earliest_due(self) -> datetime | None:
        row = await self._conn.fetch_one(
            "SELECT MIN(check_at) FROM heat_days WHERE asked_at IS NULL", ()
        )
        return from_db(row[0]) if row else None

    async def asked(self, day: date, now: datetime) -> None:
        await self._conn.execute(
            "UPDATE heat_days SET asked_at = ? WHERE day = ?", (to_db(now), day.isoformat())
        )

    async def recent_days(self, limit: int = 14) -> list[dict[str, Any]]:
        rows = await self._conn.fetch_all(
            "SELECT * FROM heat_days ORDER BY day DESC LIMIT ?", (limit,)
        )
        return [dict(row) for row in rows]

    # The WBGT forecast.
    async def forecast(self, point: str, day: date, highest: float, now: datetime) -> None:
        await self._conn.execute(
            "INSERT INTO heat_wbgt (point, day, highest, received_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (point, day) DO UPDATE SET highest = excluded.highest,"
            " received_at = excluded.received_at",
            (point, day.isoformat(), highest, to_db(now)),
        )

    async def forecasts_of(self, day: date) -> list[dict[str, Any]]:
        rows = await self._conn.fetch_all(
            "SELECT point, highest FROM heat_wbgt WHERE day = ? ORDER BY point",
            (day.isoformat(),),
        )
        return [dict(row) for row in rows]

    # Who is asked.
    async def watch_of(self, member_id: int) -> tuple[bool, bool]:
        """(she asked for heat checks, the desk marks her at risk)."""
        row = await self._conn.fetch_one(
            "SELECT opted_in, at_risk FROM heat_watch WHERE member_id = ?", (member_id,)
        )
        return (bool(row[0]), bool(row[1])) if row else (False, False)

    async def set_watch(
        self,
        member_id: int,
        now: datetime,
        opted_in: bool | None = None,
        at_risk: bool | None = None,
    ) -> None:
        current = await self.watch_of(member_id)
        opted = current[0] if opted_in is None else opted_in
        risk = current[1] if at_risk is None else at_risk
        if not opted and not risk:
            await self._conn.execute("DELETE FROM heat_watch WHERE member_id = ?", (member_id,))
            return
        await self._conn.execute(
            "INSERT INTO heat_watch (member_id, opted_in, at_risk, changed_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (member_id) DO UPDATE SET opted_in = excluded.opted_in,"
            " at_risk = excluded.at_risk, changed_at = excluded.changed_at",
            (member_id, int(opted), int(risk), to_db(now)),
        )

    async def forget(self, member_id: int) -> None:
        """退会: she is asked no more, and her answers to past days go with her rounds."""
        await self._conn.execute("DELETE FROM heat_watch WHERE member_id = ?", (member_id,))

    async def watched(self) -> list[Member]:
        """Everyone a heat check asks: opted in or at risk, not withdrawn, oldest first."""
        rows = await self._conn.fetch_all(
            "SELECT m.* FROM members m JOIN heat_watch h ON h.member_id = m.id"
            " WHERE m.withdrawn_at IS NULL AND (h.opted_in = 1 OR h.at_risk = 1) ORDER BY m.id",
            (),
        )
        return [Member.from_row(row) for row in rows]

    async def add_people(
        self, day: date, people: list[tuple[int, int | None, str | None]]
    ) -> None:
        for member_id, round_id, unasked in people:
            await self._conn.execute(
                "INSERT INTO heat_check_people (day, member_id, round_id, unasked)"
                " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (day.isoformat(), member_id, round_id, unasked),
            )

    async def people(self, day: date) -> list[dict[str, Any]]:
        """Each person the day's check named, with her round as it stands (None: purged, or
        never opened) and her first area team."""
        rows = await self._conn.fetch_all(
            "SELECT p.member_id, p.unasked, p.round_id, m.display_name, m.language,"
            " m.full_name, m.phone, h.opted_in, h.at_risk,"
            " r.state, r.answer, r.close_reason, r.sent_at, r.resent_at, r.alerted_at,"
            " r.closed_at"
            " FROM heat_check_people p JOIN members m ON m.id = p.member_id"
            " LEFT JOIN heat_watch h ON h.member_id = p.member_id"
            " LEFT JOIN checkin_rounds r ON r.id = p.round_id"
            " WHERE p.day = ? ORDER BY p.member_id",
            (day.isoformat(),),
        )
        return [dict(row) for row in rows]

    async def at_risk_ids(self) -> set[int]:
        rows = await self._conn.fetch_all("SELECT member_id FROM heat_watch WHERE at_risk = 1", ())
        return {row[0] for row in rows}
