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
    totp_secret: str | None = None  # sealed (admin/second_factor.py)
    totp_last_step: int | None = None
    disabled_at: datetime | None = None
    must_change_password: bool = False


@dataclass(frozen=True)
class AdminSession:
    admin: Admin
    csrf_token: str
    expires_at: datetime
    idle_until: datetime | None = None


@dataclass(frozen=True)
class PendingSignin:
    """A sign-in past its password, before its session: which step it waits for."""

    admin: Admin
    step: str  # 'code', 'enrol' or 'new_password'
    csrf_token: str
    enrol_secret: str | None  # sealed, while a second factor is being enrolled
    wrong_codes: int


@dataclass(frozen=True)
class Account:
    """An account as `mimamori admin list` and the accounts page show it (no secret)."""

    name: str
    role: StaffRole
    second_factor: bool
    disabled: bool
    last_login_at: datetime | None
    open_sessions: int


@dataclass(frozen=True)
class LoginFailures:
    """Failed sign-ins from one address in a window."""

    known: int  # wrong passwords and codes for names that exist
    unknown: int  # names no account has
    with_name: int  # for the name now tried, of any kind


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

    async def set_password(self, name: str, password_hash: str, must_change: bool = False) -> None:
        await self._conn.execute(
            "UPDATE admins SET password_hash = ?, must_change_password = ? WHERE name = ?",
            (password_hash, int(must_change), name),
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
        self,
        token_hash: str,
        admin_id: int,
        csrf_token: str,
        now: datetime,
        expires: datetime,
        idle_until: datetime | None = None,
    ) -> None:
        await self._conn.execute(
            "INSERT INTO admin_sessions (token_hash, admin_id, csrf_token, created_at, expires_at,"
            " idle_until) VALUES (?, ?, ?, ?, ?, ?)",
            (
                token_hash,
                admin_id,
                csrf_token,
                to_db(now),
                to_db(expires),
                to_db(idle_until or expires),
            ),
        )
        await self._conn.execute(
            "DELETE FROM admin_sessions WHERE expires_at < ? OR idle_until < ?",
            (to_db(now), to_db(now)),
        )

    async def session(self, token_hash: str, now: datetime) -> AdminSession | None:
        """The live session of an enabled account: before both its absolute and its idle end."""
        row = await self._conn.fetch_one(
            "SELECT a.*, s.csrf_token, s.expires_at AS session_expires,"
            " s.idle_until AS session_idle_until FROM admin_sessions s"
            " JOIN admins a ON a.id = s.admin_id WHERE s.token_hash = ? AND s.expires_at > ?"
            " AND s.idle_until > ? AND a.disabled_at IS NULL",
            (token_hash, to_db(now), to_db(now)),
        )
        if row is None:
            return None
        expires = from_db(row["session_expires"])
        assert expires is not None
        return AdminSession(
            _admin(row), row["csrf_token"], expires, from_db(row["session_idle_until"])
        )

    async def touch_session(self, token_hash: str, idle_until: datetime) -> None:
        await self._conn.execute(
            "UPDATE admin_sessions SET idle_until = ? WHERE token_hash = ? AND idle_until < ?",
            (to_db(idle_until), token_hash, to_db(idle_until)),
        )

    async def end_session(self, token_hash: str) -> None:
        await self._conn.execute("DELETE FROM admin_sessions WHERE token_hash = ?", (token_hash,))

    async def end_sessions(self, admin_id: int) -> int:
        """Ends every session of the account, and any sign-in it has half done; -> sessions."""
        await self._conn.execute("DELETE FROM admin_signins WHERE admin_id = ?", (admin_id,))
        ended = await self._conn.execute(
            "DELETE FROM admin_sessions WHERE admin_id = ?", (admin_id,)
        )
        return ended.rowcount

    async def start_signin(
        self,
        token_hash: str,
        admin_id: int,
        step: str,
        csrf_token: str,
        now: datetime,
        expires: datetime,
        enrol_secret: str | None = None,
    ) -> None:
        await self._conn.execute("DELETE FROM admin_signins WHERE expires_at < ?", (to_db(now),))
        await self._conn.execute(
            "INSERT INTO admin_signins (token_hash, admin_id, step, csrf_token, enrol_secret,"
            " created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (token_hash, admin_id, step, csrf_token, enrol_secret, to_db(now), to_db(expires)),
        )

    async def signin(self, token_hash: str, now: datetime) -> PendingSignin | None:
        row = await self._conn.fetch_one(
            "SELECT a.*, p.step, p.csrf_token, p.enrol_secret, p.wrong_codes"
            " FROM admin_signins p JOIN admins a ON a.id = p.admin_id"
            " WHERE p.token_hash = ? AND p.expires_at > ? AND a.disabled_at IS NULL",
            (token_hash, to_db(now)),
        )
        if row is None:
            return None
        return PendingSignin(
            _admin(row), row["step"], row["csrf_token"], row["enrol_secret"], row["wrong_codes"]
        )

    async def signin_step(self, token_hash: str, step: str) -> None:
        await self._conn.execute(
            "UPDATE admin_signins SET step = ?, enrol_secret = NULL WHERE token_hash = ?",
            (step, token_hash),
        )

    async def signin_wrong_code(self, token_hash: str) -> int:
        row = await self._conn.fetch_one(
            "UPDATE admin_signins SET wrong_codes = wrong_codes + 1 WHERE token_hash = ?"
            " RETURNING wrong_codes",
            (token_hash,),
        )
        return int(row[0]) if row else 0

    async def end_signin(self, token_hash: str) -> None:
        await self._conn.execute("DELETE FROM admin_signins WHERE token_hash = ?", (token_hash,))

    async def set_second_factor(
        self, admin_id: int, sealed_secret: str, step: int | None = None
    ) -> None:
        """Sets (or replaces) the account's factor outright: for the demo's account and tests'
        seeding. A sign-in's enrolment uses enrol_second_factor, which never replaces one."""
        await self._conn.execute(
            "UPDATE admins SET totp_secret = ?, totp_last_step = ? WHERE id = ?",
            (sealed_secret, step, admin_id),
        )

    async def enrol_second_factor(self, admin_id: int, sealed_secret: str, step: int) -> bool:
        """Keeps the factor just enrolled, only where none is (False: another enrolment of the
        account finished first, and its factor stays)."""
        written = await self._conn.execute(
            "UPDATE admins SET totp_secret = ?, totp_last_step = ? WHERE id = ?"
            " AND totp_secret IS NULL",
            (sealed_secret, step, admin_id),
        )
        return written.rowcount == 1

    async def end_other_signins(self, admin_id: int, token_hash: str) -> int:
        """Every half-done sign-in of the account but this one (started with the password
        before a factor was enrolled, they are not to finish past it)."""
        ended = await self._conn.execute(
            "DELETE FROM admin_signins WHERE admin_id = ? AND token_hash <> ?",
            (admin_id, token_hash),
        )
        return ended.rowcount

    async def second_factor_used(self, admin_id: int, step: int) -> bool:
        """Records the step of a code just taken; False when the same step (or a newer one)
        was taken meanwhile: two requests with one code, only one signs in."""
        written = await self._conn.execute(
            "UPDATE admins SET totp_last_step = ? WHERE id = ?"
            " AND (totp_last_step IS NULL OR totp_last_step < ?)",
            (step, admin_id, step),
        )
        return written.rowcount == 1

    async def clear_second_factor(self, admin_id: int) -> None:
        await self._conn.execute(
            "UPDATE admins SET totp_secret = NULL, totp_last_step = NULL WHERE id = ?",
            (admin_id,),
        )
        await self._conn.execute(
            "DELETE FROM admin_recovery_codes WHERE admin_id = ?", (admin_id,)
        )

    async def set_recovery_codes(self, admin_id: int, hashes: list[str], now: datetime) -> None:
        await self._conn.execute(
            "DELETE FROM admin_recovery_codes WHERE admin_id = ?", (admin_id,)
        )
        await self._conn.executemany(
            "INSERT INTO admin_recovery_codes (admin_id, code_hash, created_at) VALUES (?, ?, ?)",
            [(admin_id, code_hash, to_db(now)) for code_hash in hashes],
        )

    async def use_recovery_code(self, admin_id: int, code_hash: str, now: datetime) -> bool:
        written = await self._conn.execute(
            "UPDATE admin_recovery_codes SET used_at = ?"
            " WHERE admin_id = ? AND code_hash = ? AND used_at IS NULL",
            (to_db(now), admin_id, code_hash),
        )
        return written.rowcount == 1

    async def recovery_codes_left(self, admin_id: int) -> int:
        row = await self._conn.fetch_one(
            "SELECT COUNT(*) FROM admin_recovery_codes WHERE admin_id = ? AND used_at IS NULL",
            (admin_id,),
        )
        return int(row[0]) if row else 0

    async def set_disabled(self, admin_id: int, at: datetime | None) -> None:
        await self._conn.execute(
            "UPDATE admins SET disabled_at = ? WHERE id = ?",
            (to_db(at) if at else None, admin_id),
        )

    async def set_role(self, admin_id: int, role: StaffRole) -> None:
        await self._conn.execute("UPDATE admins SET role = ? WHERE id = ?", (str(role), admin_id))

    async def remove(self, admin_id: int) -> None:
        """The account and all it holds; the audit log keeps its name."""
        await self.end_sessions(admin_id)
        await self._conn.execute(
            "DELETE FROM admin_recovery_codes WHERE admin_id = ?", (admin_id,)
        )
        await self._conn.execute("DELETE FROM admins WHERE id = ?", (admin_id,))

    async def enabled_operators(self) -> list[str]:
        rows = await self._conn.fetch_all(
            "SELECT name FROM admins WHERE role = ? AND disabled_at IS NULL ORDER BY name",
            (str(StaffRole.OPERATOR),),
        )
        return [row["name"] for row in rows]

    async def accounts(self, now: datetime) -> list[Account]:
        rows = await self._conn.fetch_all(
            "SELECT a.name, a.role, a.totp_secret IS NOT NULL AS enrolled, a.disabled_at,"
            " a.last_login_at, COUNT(s.token_hash) AS open_sessions FROM admins a"
            " LEFT JOIN admin_sessions s ON s.admin_id = a.id AND s.expires_at > ?"
            " AND s.idle_until > ?"
            " GROUP BY a.id, a.name, a.role, a.totp_secret, a.disabled_at, a.last_login_at"
            " ORDER BY a.name",
            (to_db(now), to_db(now)),
        )
        return [
            Account(
                name=row["name"],
                role=StaffRole(row["role"]),
                second_factor=bool(row["enrolled"]),
                disabled=row["disabled_at"] is not None,
                last_login_at=from_db(row["last_login_at"]),
                open_sessions=int(row["open_sessions"]),
            )
            for row in rows
        ]

    async def login_failures(self, address: str, name: str, since: datetime) -> LoginFailures:
        """Failed sign-ins from this address since a moment, by what they were (LoginFailures)."""
        row = await self._conn.fetch_one(
            "SELECT COALESCE(SUM(CASE WHEN kind <> 'unknown' THEN 1 ELSE 0 END), 0),"
            " COALESCE(SUM(CASE WHEN kind = 'unknown' THEN 1 ELSE 0 END), 0),"
            " COALESCE(SUM(CASE WHEN name = ? THEN 1 ELSE 0 END), 0)"
            " FROM login_failures WHERE address = ? AND at > ?",
            (name, address, to_db(since)),
        )
        if row is None:
            return LoginFailures(0, 0, 0)
        return LoginFailures(int(row[0]), int(row[1]), int(row[2]))

    async def wrong_codes_since(self, name: str, since: datetime) -> int:
        """Wrong second-factor and recovery codes for this account since a moment, from every
        address (the account's ceiling)."""
        row = await self._conn.fetch_one(
            "SELECT COUNT(*) FROM login_failures WHERE name = ? AND kind = 'code' AND at > ?",
            (name, to_db(since)),
        )
        return int(row[0]) if row else 0

    async def login_failed(
        self,
        address: str,
        name: str,
        now: datetime,
        forget_before: datetime,
        kind: str = "password",
    ) -> None:
        """kind: 'password' (a wrong password for an account), 'unknown' (a name no account
        has) or 'code' (a wrong second-factor or recovery code)."""
        await self._conn.execute(
            "DELETE FROM login_failures WHERE at <= ?", (to_db(forget_before),)
        )
        await self._conn.execute(
            "INSERT INTO login_failures (address, name, at, kind) VALUES (?, ?, ?, ?)",
            (address, name, to_db(now), kind),
        )

    async def login_forgiven(self, address: str, name: str) -> None:
        """The right password: its wrong passwords from this address are forgotten, never its
        wrong codes (those only when the whole sign-in succeeds, signin_forgiven)."""
        await self._conn.execute(
            "DELETE FROM login_failures WHERE address = ? AND name = ? AND kind = 'password'",
            (address, name),
        )

    async def wrong_codes_forgiven(self, name: str) -> None:
        """An operator reset the account's password or second factor: the wrong codes that
        closed its code step no longer do."""
        await self._conn.execute(
            "DELETE FROM login_failures WHERE name = ? AND kind = 'code'", (name,)
        )

    async def signin_forgiven(self, address: str, name: str) -> None:
        """A sign-in ended in a session: what this address got wrong for the account is
        forgotten. Wrong codes from other addresses still count toward the account's ceiling."""
        await self._conn.execute(
            "DELETE FROM login_failures WHERE address = ? AND name = ?"
            " AND kind IN ('password', 'code')",
            (address, name),
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

    async def audit_log(
        self,
        limit: int = 200,
        *,
        action: str | None = None,
        account: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        before: int | None = None,
        after: int | None = None,
    ) -> list[dict[str, Any]]:
        """The newest rows first, at most `limit`, of those that match every filter given:
        the action, the account (who acted, or the name a sign-in tried), a time range
        (since <= at < until), and for paging: rows older than the id `before`, or the rows
        just newer than the id `after`."""
        where: list[str] = ["1 = 1"]
        params: list[Any] = []
        if action:
            where.append("action = ?")
            params.append(action)
        if account:
            where.append("admin_name = ?")
            params.append(account)
        if since is not None:
            where.append("at >= ?")
            params.append(to_db(since))
        if until is not None:
            where.append("at < ?")
            params.append(to_db(until))
        if before is not None:
            where.append("id < ?")
            params.append(before)
        if after is not None:
            where.append("id > ?")
            params.append(after)
        # Newer rows are the oldest of those after the id, read upwards and turned round.
        order = "ASC" if after is not None and before is None else "DESC"
        rows = await self._conn.fetch_all(
            f"SELECT * FROM audit_log WHERE {' AND '.join(where)} ORDER BY id {order} LIMIT ?",
            (*params, limit),
        )
        found = [dict(row) for row in rows]
        return found[::-1] if order == "ASC" else found

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
        totp_secret=row["totp_secret"],
        totp_last_step=row["totp_last_step"],
        disabled_at=from_db(row["disabled_at"]),
        must_change_password=bool(row["must_change_password"]),
    )
