"""The people who follow the bot."""

from __future__ import annotations

from datetime import date, datetime

from storage.database import (
    Connection,
    fetch_in,
    from_db,
    from_db_cached,
    to_db,
)
from storage.models import (
    PERSONAL_FIELDS,
    DueMember,
    Member,
    PersonalFields,
    parse_date,
)


class MemberRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def get(self, member_id: int) -> Member | None:
        return await self._one("SELECT * FROM members WHERE id = ?", (member_id,))

    async def by_line_id(self, line_user_id: str) -> Member | None:
        return await self._one("SELECT * FROM members WHERE line_user_id = ?", (line_user_id,))

    async def by_line_ids(self, line_user_ids: list[str]) -> dict[str, Member]:
        sql = "SELECT * FROM members WHERE line_user_id IN ({marks})"
        rows = await fetch_in(self._conn, sql, line_user_ids)
        return {row["line_user_id"]: Member.from_row(row) for row in rows}

    async def known(self, line_user_ids: list[str]) -> set[str]:
        """Which of these LINE users the bot knows already."""
        sql = "SELECT line_user_id FROM members WHERE line_user_id IN ({marks})"
        return {row[0] for row in await fetch_in(self._conn, sql, line_user_ids)}

    async def register(
        self, line_user_id: str, display_name: str, language: str, now: datetime
    ) -> tuple[Member, bool]:
        """Insert a new member, or re-activate one who blocked and came back. -> (member, new)"""
        existing = await self.by_line_id(line_user_id)
        if existing is None:
            await self._conn.execute(
                "INSERT INTO members (line_user_id, display_name, language, registered_at)"
                " VALUES (?, ?, ?, ?)",
                (line_user_id, display_name, language, to_db(now)),
            )
        else:
            await self._conn.execute(
                "UPDATE members SET status = 'active', display_name = ?, language = ?,"
                " withdrawn_at = NULL WHERE id = ?",
                (display_name or existing.display_name, language, existing.id),
            )
        member = await self.by_line_id(line_user_id)
        assert member is not None
        return member, existing is None

    async def withdraw(self, member_id: int, now: datetime) -> None:
        """退会: the row keeps its 会員ID and the date; the LINE name and choices go."""
        await self._conn.execute(
            "UPDATE members SET withdrawn_at = ?, display_name = '', dialog = NULL,"
            " daily_note = 0, daily_note_sent_on = NULL, terms_accepted_at = NULL WHERE id = ?",
            (to_db(now), member_id),
        )
        # Her 「見せる」, given or received, ends with 退会 (and, before it, whenever the
        # manager no longer watches her: storage.teams.forget_ended_shares).
        await self._conn.execute(
            "DELETE FROM personal_shares WHERE user_id = ? OR manager_id = ?",
            (member_id, member_id),
        )

    async def has_withdrawn(self, member_id: int) -> bool:
        row = await self._conn.fetch_one(
            "SELECT withdrawn_at FROM members WHERE id = ?", (member_id,)
        )
        return row is not None and row[0] is not None

    async def block(self, member_id: int) -> None:
        await self._conn.execute(
            "UPDATE members SET status = 'blocked', dialog = NULL WHERE id = ?", (member_id,)
        )

    async def set_schedule(
        self, member_id: int, interval_days: int, hour: int, next_due_at: datetime
    ) -> None:
        await self._conn.execute(
            # Asking for check-ins again after 退会 is coming back.
            "UPDATE members SET interval_days = ?, checkin_hour = ?, next_due_at = ?,"
            " withdrawn_at = NULL WHERE id = ?",
            (interval_days, hour, to_db(next_due_at), member_id),
        )

    async def clear_schedule(self, member_id: int) -> None:
        await self._conn.execute(
            "UPDATE members SET interval_days = NULL, checkin_hour = NULL, next_due_at = NULL"
            " WHERE id = ?",
            (member_id,),
        )

    async def set_next_due(self, member_id: int, next_due_at: datetime) -> None:
        await self._conn.execute(
            "UPDATE members SET next_due_at = ? WHERE id = ?", (to_db(next_due_at), member_id)
        )

    async def set_next_due_many(self, next_due: list[tuple[int, datetime]]) -> None:
        # A wave moves thousands of people to the same next moment: one statement per 500.
        by_moment: dict[datetime, list[int]] = {}
        for member_id, moment in next_due:
            by_moment.setdefault(moment, []).append(member_id)
        for moment, ids in by_moment.items():
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                marks = ",".join("?" * len(chunk))
                await self._conn.execute(
                    f"UPDATE members SET next_due_at = ? WHERE id IN ({marks})",
                    [to_db(moment), *chunk],
                )

    async def set_last_ok(self, member_id: int, at: datetime) -> None:
        await self._conn.execute(
            "UPDATE members SET last_ok_at = ? WHERE id = ?", (to_db(at), member_id)
        )

    async def set_dialog(self, member_id: int, dialog: str | None) -> None:
        await self._conn.execute("UPDATE members SET dialog = ? WHERE id = ?", (dialog, member_id))

    async def due(self, now: datetime, limit: int) -> list[DueMember]:
        """Active members whose check-in is due, earliest first: only what opening their
        rounds needs (a wave of a hundred thousand builds no Member for each)."""
        # Unpacked, not indexed: PostgreSQL's row indexes in Python (nine calls a member).
        return [
            DueMember(
                member_id,
                interval_days,
                hour,
                from_db_cached(next_due_at),
                parse_date(paused_until),
                line_user_id,
                language,
                channel,
                address,
            )
            for (
                member_id,
                interval_days,
                hour,
                next_due_at,
                paused_until,
                line_user_id,
                language,
                channel,
                address,
            ) in await self._conn.fetch_all(
                "SELECT id, interval_days, checkin_hour, next_due_at, paused_until, line_user_id,"
                " language, channel, channel_address FROM members"
                " WHERE status = 'active' AND next_due_at <= ?"
                " ORDER BY next_due_at, id LIMIT ?",
                (to_db(now), limit),
            )
        ]

    async def earliest_due(self) -> datetime | None:
        row = await self._conn.fetch_one(
            "SELECT MIN(next_due_at) FROM members WHERE status = 'active'"
        )
        return from_db(row[0]) if row else None

    async def _one(self, sql: str, params: tuple[object, ...]) -> Member | None:
        row = await self._conn.fetch_one(sql, params)
        return Member.from_row(row) if row else None

    async def set_personal(self, member_id: int, fields: PersonalFields) -> None:
        await self._conn.execute(
            "UPDATE members SET full_name = ?, furigana = ?, gender = ?, birth_date = ?,"
            " phone = ?, address = ? WHERE id = ?",
            (*(getattr(fields, name) for name in PERSONAL_FIELDS), member_id),
        )

    async def set_daily_note(self, member_id: int, on: bool) -> None:
        await self._conn.execute(
            "UPDATE members SET daily_note = ? WHERE id = ?", (int(on), member_id)
        )

    async def wanting_daily_note(self, today: str, limit: int) -> list[Member]:
        rows = await self._conn.fetch_all(
            "SELECT * FROM members WHERE daily_note = 1 AND status = 'active'"
            " AND (daily_note_sent_on IS NULL OR daily_note_sent_on < ?) ORDER BY id LIMIT ?",
            (today, limit),
        )
        return [Member.from_row(row) for row in rows]

    async def daily_note_sent(self, member_id: int, today: str) -> None:
        await self._conn.execute(
            "UPDATE members SET daily_note_sent_on = ? WHERE id = ?", (today, member_id)
        )

    async def daily_note_count(self) -> int:
        row = await self._conn.fetch_one(
            "SELECT COUNT(*) FROM members WHERE daily_note = 1 AND status = 'active'"
        )
        return row[0] if row else 0

    async def all_current(self) -> list[Member]:
        """Every member not withdrawn, those who blocked the account included."""
        rows = await self._conn.fetch_all(
            "SELECT * FROM members WHERE withdrawn_at IS NULL ORDER BY id",
        )
        return [Member.from_row(row) for row in rows]

    async def all_active(self) -> list[Member]:
        rows = await self._conn.fetch_all(
            "SELECT * FROM members WHERE status = 'active' AND withdrawn_at IS NULL ORDER BY id",
        )
        return [Member.from_row(row) for row in rows]

    async def set_memo(self, member_id: int, memo: str) -> None:
        await self._conn.execute(
            "UPDATE members SET emergency_memo = ? WHERE id = ?", (memo, member_id)
        )

    async def accept_terms(self, member_id: int, at: datetime) -> None:
        await self._conn.execute(
            "UPDATE members SET terms_accepted_at = COALESCE(terms_accepted_at, ?) WHERE id = ?",
            (to_db(at), member_id),
        )

    async def set_paused_until(self, member_id: int, until: date | None) -> None:
        await self._conn.execute(
            # A new pause, or none, is never the open one (退院するまで sets its reminder after).
            "UPDATE members SET paused_until = ?, pause_reminder_at = NULL WHERE id = ?",
            (until.isoformat() if until else None, member_id),
        )

    async def set_pause_reminder(self, member_id: int, at: datetime | None) -> None:
        await self._conn.execute(
            "UPDATE members SET pause_reminder_at = ? WHERE id = ?",
            (to_db(at) if at else None, member_id),
        )

    async def pause_reminders_due(self, now: datetime, limit: int) -> list[Member]:
        rows = await self._conn.fetch_all(
            "SELECT * FROM members WHERE pause_reminder_at IS NOT NULL AND pause_reminder_at <= ?"
            " AND status = 'active' ORDER BY pause_reminder_at, id LIMIT ?",
            (to_db(now), limit),
        )
        return [Member.from_row(row) for row in rows]

    async def earliest_pause_reminder(self) -> datetime | None:
        row = await self._conn.fetch_one(
            "SELECT MIN(pause_reminder_at) FROM members WHERE status = 'active'"
            " AND pause_reminder_at IS NOT NULL"
        )
        return from_db(row[0]) if row else None

    async def set_language(self, member_id: int, language: str) -> None:
        await self._conn.execute(
            "UPDATE members SET language = ? WHERE id = ?", (language, member_id)
        )

    async def set_schedule_by_managers(
        self, member_id: int, allowed: bool, at: datetime | None = None
    ) -> None:
        """家族に設定してもらう asked (`at`: when) or answered (allowed False)."""
        await self._conn.execute(
            "UPDATE members SET schedule_by_managers = ?, schedule_asked_at = ? WHERE id = ?",
            (int(allowed), to_db(at) if allowed and at else None, member_id),
        )

    async def set_channel(self, member_id: int, channel: str, address: str | None) -> None:
        """How the person is reached from now on: LINE (no address: their LINE id) or another
        channel at `address`."""
        await self._conn.execute(
            "UPDATE members SET channel = ?, channel_address = ? WHERE id = ?",
            (channel, address, member_id),
        )

    async def get_many(self, member_ids: list[int]) -> dict[int, Member]:
        rows = await fetch_in(
            self._conn, "SELECT * FROM members WHERE id IN ({marks})", member_ids
        )
        return {row["id"]: Member.from_row(row) for row in rows}
