"""Devices that give a sign of life (a smart plug, a door sensor, Home Assistant): each a
secret URL per person and device, kept as its hash, revocable."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from storage.database import Connection, from_db, to_db
from storage.models import required_time


@dataclass(frozen=True)
class Device:
    id: int
    member_id: int
    label: str
    counts_as_ok: bool
    created_at: datetime
    revoked_at: datetime | None
    last_ping_at: datetime | None
    quiet_told_at: datetime | None = None  # she and her managers were told it went quiet
    awaiting_consent: bool = False  # linked by staff, and she has not said yes yet
    consented_at: datetime | None = None  # when she said yes to a device staff linked

    @property
    def heard_at(self) -> datetime:
        """Its last sign of life: its last ping, or its linking if it never pinged."""
        return self.last_ping_at or self.consented_at or self.created_at

    @classmethod
    def from_row(cls, row: Any) -> Device:
        return cls(
            id=row["id"],
            member_id=row["member_id"],
            label=row["label"],
            counts_as_ok=bool(row["counts_as_ok"]),
            created_at=required_time(row["created_at"]),
            revoked_at=from_db(row["revoked_at"]),
            last_ping_at=from_db(row["last_ping_at"]),
            quiet_told_at=from_db(row["quiet_told_at"]),
            awaiting_consent=bool(row["awaiting_consent"]),
            consented_at=from_db(row["consented_at"]),
        )


class DeviceRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def add(
        self,
        member_id: int,
        label: str,
        counts_as_ok: bool,
        token_hash: str,
        at: datetime,
        awaiting_consent: bool = False,
    ) -> int:
        row = await self._conn.fetch_one(
            "INSERT INTO devices (member_id, label, counts_as_ok, token_hash, created_at,"
            " awaiting_consent) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            (member_id, label, int(counts_as_ok), token_hash, to_db(at), int(awaiting_consent)),
        )
        assert row is not None
        return int(row[0])

    async def by_token_hash(self, token_hash: str) -> Device | None:
        row = await self._conn.fetch_one(
            "SELECT * FROM devices WHERE token_hash = ?", (token_hash,)
        )
        return Device.from_row(row) if row else None

    async def live_token_hashes(self) -> set[str]:
        """The hashes of every device not revoked (the surface knows the unsealed ones by)."""
        rows = await self._conn.fetch_all(
            "SELECT token_hash FROM devices WHERE revoked_at IS NULL", ()
        )
        return {token_hash for (token_hash,) in rows}

    async def of_member(self, member_id: int) -> list[Device]:
        rows = await self._conn.fetch_all(
            "SELECT * FROM devices WHERE member_id = ? AND revoked_at IS NULL ORDER BY id",
            (member_id,),
        )
        return [Device.from_row(row) for row in rows]

    async def revoke(self, member_id: int, device_id: int, at: datetime) -> bool:
        row = await self._conn.fetch_one(
            "UPDATE devices SET revoked_at = ? WHERE id = ? AND member_id = ?"
            " AND revoked_at IS NULL RETURNING id",
            (to_db(at), device_id, member_id),
        )
        return row is not None

    async def revoke_all(self, member_id: int, at: datetime) -> None:
        await self._conn.execute(
            "UPDATE devices SET revoked_at = ? WHERE member_id = ? AND revoked_at IS NULL",
            (to_db(at), member_id),
        )

    async def pinged(self, device: Device, at: datetime) -> None:
        """The device's sign of life: its own last ping, and the person's 最後の動き. Quiet
        no more: going quiet again will be told again."""
        await self._conn.execute(
            "UPDATE devices SET last_ping_at = ?, quiet_told_at = NULL WHERE id = ?",
            (to_db(at), device.id),
        )
        await self._conn.execute(
            "UPDATE members SET last_activity_at = ?, last_activity_label = ? WHERE id = ?",
            (to_db(at), device.label, device.member_id),
        )

    async def gone_quiet(self, heard_before: datetime, today: date, limit: int) -> list[Device]:
        """Devices that answer check-ins, not revoked, with no sign of life since
        `heard_before` (one never pinged: since it was linked) and nobody told of it yet, of
        people whose check-ins run (active, scheduled, not paused on `today`, a local date)."""
        rows = await self._conn.fetch_all(
            "SELECT d.* FROM devices d JOIN members m ON m.id = d.member_id"
            " WHERE d.counts_as_ok = 1 AND d.revoked_at IS NULL AND d.quiet_told_at IS NULL"
            " AND d.awaiting_consent = 0"
            " AND COALESCE(d.last_ping_at, d.consented_at, d.created_at) <= ?"
            " AND m.status = 'active'"
            " AND m.interval_days IS NOT NULL"
            " AND (m.paused_until IS NULL OR m.paused_until <= ?)"
            " ORDER BY d.id LIMIT ?",
            (to_db(heard_before), today.isoformat(), limit),
        )
        return [Device.from_row(row) for row in rows]

    async def consented(self, device_id: int, at: datetime) -> None:
        await self._conn.execute(
            "UPDATE devices SET awaiting_consent = 0, consented_at = ? WHERE id = ?",
            (to_db(at), device_id),
        )

    async def told_quiet(self, device_id: int, at: datetime) -> None:
        await self._conn.execute(
            "UPDATE devices SET quiet_told_at = ? WHERE id = ?", (to_db(at), device_id)
        )
