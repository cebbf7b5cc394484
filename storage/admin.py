"""Admin accounts, their sessions, the audit log and the notices they sent."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from storage.database import Connection, from_db, to_db
from storage.models import StaffRole


@dataclass(frozen=True)
class Admin:
    id: int
    name: str
    password_hash: str
    failed_logins: int
    locked_until: datetime | None
    role: StaffRole = StaffRole.OPERATOR


@dataclass(frozen=True)
class AdminSession:
    admin: Admin
    csrf_token: str
    expires_at: datetime


class AdminRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def add(
        self,
        name: str,
        password_hash: str,
        now: datetime,
        role: StaffRole = StaffRole.OPERATOR,
    ) -> None:
        await self._conn.execute(
            "INSERT INTO admins (name, password_hash, created_at, role) VALUES (?, ?, ?, ?)",
            (name, password_hash, to_db(now), str(role)),
        )

    async def set_password(self, name: str, password_hash: str) -> None:
        await self._conn.execute(
            "UPDATE admins SET password_hash = ? WHERE name = ?", (password_hash, name)
        )

    async def by_name(self, name: str) -> Admin | None:
        row = await self._conn.fetch_one("SELECT * FROM admins WHERE name = ?", (name,))
        return _admin(row) if row else None

    async def login_succeeded(self, admin_id: int, now: datetime) -> None:
        await self._conn.execute(
            "UPDATE admins SET failed_logins = 0, locked_until = NULL, last_login_at = ?"
            " WHERE id = ?",
            (to_db(now), admin_id),
        )

    async def start_session(
        self, token_hash: str, admin_id: int, csrf_token: str, now: datetime, expires: datetime
    ) -> None:
        await self._conn.execute(
            "INSERT INTO admin_sessions (token_hash, admin_id, csrf_token, created_at, expires_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (token_hash, admin_id, csrf_token, to_db(now), to_db(expires)),
        )
        await self._conn.execute("DELETE FROM admin_sessions WHERE expires_at < ?", (to_db(now),))

    async def session(self, token_hash: str, now: datetime) -> AdminSession | None:
        row = await self._conn.fetch_one(
            "SELECT a.*, s.csrf_token, s.expires_at AS session_expires FROM admin_sessions s"
            " JOIN admins a ON a.id = s.admin_id WHERE s.token_hash = ? AND s.expires_at > ?",
            (token_hash, to_db(now)),
        )
        if row is None:
            return None
        expires = from_db(row["session_expires"])
        assert expires is not None
        return AdminSession(_admin(row), row["csrf_token"], expires)

    async def end_session(self, token_hash: str) -> None:
        await self._conn.execute("DELETE FROM admin_sessions WHERE token_hash = ?", (token_hash,))

    async def login_failures(self, address: str, name: str, since: datetime) -> tuple[int, int]:
        """Failed logins since a moment: (from this address, from it with this name)."""
        row = await self._conn.fetch_one(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN name = ? THEN 1 ELSE 0 END), 0)"
            " FROM login_failures WHERE address = ? AND at > ?",
            (name, address, to_db(since)),
        )
        return (int(row[0]), int(row[1])) if row else (0, 0)

    async def login_failed(
        self, address: str, name: str, now: datetime, forget_before: datetime
    ) -> None:
        await self._conn.execute(
            "DELETE FROM login_failures WHERE at <= ?", (to_db(forget_before),)
        )
        await self._conn.execute(
            "INSERT INTO login_failures (address, name, at) VALUES (?, ?, ?)",
            (address, name, to_db(now)),
        )

    async def login_forgiven(self, address: str, name: str) -> None:
        await self._conn.execute(
            "DELETE FROM login_failures WHERE address = ? AND name = ?", (address, name)
        )

    async def audit(
        self,
        admin_name: str,
        action: str,
        detail: str,
        now: datetime,
        scope: str | None = None,
        messages: int | None = None,
    ) -> None:
        await self._conn.execute(
            "INSERT INTO audit_log (at, admin_name, action, detail, scope, messages)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (to_db(now), admin_name, action, detail[:2000], scope, messages),
        )

    async def audit_view(
        self,
        admin_name: str,
        action: str,
        detail: str,
        now: datetime,
        every: timedelta,
        scope: str | None = None,
    ) -> None:
        """A page of people's details was read: recorded once per `every` for each staff
        member and page (a page that reloads itself, or is read all morning, is one row).
        `scope`: what counts as one page, when not the action and detail."""
        scope = scope or f"{action}:{detail}:{admin_name}"
        if not await self.audited_since(action, scope, now - every):
            await self.audit(admin_name, action, detail, now, scope)

    async def audited_by_since(self, action: str, actor: str, since: datetime) -> int:
        """How many times `actor` recorded `action` since a moment (the rate by the person)."""
        row = await self._conn.fetch_one(
            "SELECT COUNT(*) FROM audit_log WHERE action = ? AND admin_name = ? AND at > ?",
            (action, actor, to_db(since)),
        )
        return int(row[0]) if row else 0

    async def audited_since(self, action: str, scope: str, since: datetime) -> int:
        """How many times `action` was recorded for `scope` since a moment (the rate rule)."""
        row = await self._conn.fetch_one(
            "SELECT COUNT(*) FROM audit_log WHERE action = ? AND scope = ? AND at > ?",
            (action, scope, to_db(since)),
        )
        return int(row[0]) if row else 0

    async def audit_log(self, limit: int = 200) -> list[dict[str, Any]]:
        return [
            dict(row)
            for row in await self._conn.fetch_all(
                "SELECT * FROM audit_log ORDER BY id DESC LIMIT ?", (limit,)
            )
        ]

    async def add_notice(
        self,
        admin_name: str,
        text: str,
        audience: str,
        detail: Any,
        recipients: int,
        requests: int,
        now: datetime,
    ) -> int:
        row = await self._conn.fetch_one(
            "INSERT INTO notices (created_at, admin_name, text, audience, audience_detail,"
            " recipients, requests) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (to_db(now), admin_name, text, audience, json.dumps(detail), recipients, requests),
        )
        assert row is not None
        return int(row[0])

    async def notices(self, limit: int = 50) -> list[dict[str, Any]]:
        return [
            dict(row)
            for row in await self._conn.fetch_all(
                "SELECT n.*, COUNT(o.id) AS rows_total,"
                " SUM(CASE WHEN o.state = 'sent' THEN 1 ELSE 0 END) AS rows_sent,"
                " SUM(CASE WHEN o.state = 'failed' THEN 1 ELSE 0 END) AS rows_failed"
                " FROM notices n LEFT JOIN outbox o ON o.notice_id = n.id"
                " GROUP BY n.id ORDER BY n.id DESC LIMIT ?",
                (limit,),
            )
        ]

    async def broadcasts_since(self, since: datetime) -> int:
        row = await self._conn.fetch_one(
            "SELECT COUNT(*) FROM outbox WHERE kind = 'broadcast' AND created_at >= ?",
            (to_db(since),),
        )
        return row[0] if row else 0


def _admin(row: Any) -> Admin:
    return Admin(
        id=row["id"],
        name=row["name"],
        password_hash=row["password_hash"],
        failed_logins=row["failed_logins"],
        locked_until=from_db(row["locked_until"]),
        role=StaffRole(row["role"]),
    )
