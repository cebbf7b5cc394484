"""つながり groups: the group, the members it has learnt, its rounds and their OKs."""

from __future__ import annotations

from datetime import datetime

from storage.database import Connection, from_db, to_db
from storage.models import ChatGroup, GroupMember, GroupRound

_SETTINGS = {"paused", "restricted", "quiet_when_all_ok", "summary_only"}


class GroupRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def by_chat_id(self, line_chat_id: str) -> ChatGroup | None:
        row = await self._conn.fetch_one(
            "SELECT * FROM chat_groups WHERE line_chat_id = ?", (line_chat_id,)
        )
        return ChatGroup.from_row(row) if row else None

    async def get(self, group_id: int) -> ChatGroup | None:
        row = await self._conn.fetch_one("SELECT * FROM chat_groups WHERE id = ?", (group_id,))
        return ChatGroup.from_row(row) if row else None

    async def joined(
        self, line_chat_id: str, chat_type: str, name: str, now: datetime
    ) -> tuple[ChatGroup, bool]:
        """Record that the bot is in the group; -> (group, whether it was known before)."""
        known = await self.by_chat_id(line_chat_id)
        if known is None:
            await self._conn.execute(
                "INSERT INTO chat_groups (line_chat_id, chat_type, name, joined_at)"
                " VALUES (?, ?, ?, ?)",
                (line_chat_id, chat_type, name, to_db(now)),
            )
        else:
            await self._conn.execute(
                "UPDATE chat_groups SET status = 'active', left_at = NULL, joined_at = ?,"
                " name = CASE WHEN ? != '' THEN ? ELSE name END WHERE id = ?",
                (to_db(now), name, name, known.id),
            )
        group = await self.by_chat_id(line_chat_id)
        assert group is not None
        return group, known is not None

    async def left(self, group_id: int, now: datetime) -> None:
        await self._conn.execute(
            "UPDATE chat_groups SET status = 'left', left_at = ?, next_due_at = NULL WHERE id = ?",
            (to_db(now), group_id),
        )
        await self._conn.execute(
            "UPDATE group_rounds SET state = 'cancelled' WHERE group_id = ? AND state = 'open'",
            (group_id,),
        )

    async def purge_left_before(self, before: datetime) -> int:
        """Delete what is kept of groups the bot left before `before` (the retention period)."""
        cursor = await self._conn.execute(
            "DELETE FROM chat_groups WHERE status = 'left' AND left_at < ?", (to_db(before),)
        )
        return cursor.rowcount

    async def set_schedule(
        self, group_id: int, interval_days: int, hour: int, next_due: datetime, starter: str
    ) -> None:
        await self._conn.execute(
            "UPDATE chat_groups SET interval_days = ?, checkin_hour = ?, next_due_at = ?,"
            " paused = 0, starter_user_id = COALESCE(starter_user_id, ?) WHERE id = ?",
            (interval_days, hour, to_db(next_due), starter, group_id),
        )

    async def claim_starter(self, group_id: int, line_user_id: str) -> None:
        await self._conn.execute(
            "UPDATE chat_groups SET starter_user_id = COALESCE(starter_user_id, ?) WHERE id = ?",
            (line_user_id, group_id),
        )

    async def set_next_due(self, group_id: int, next_due: datetime | None) -> None:
        await self._conn.execute(
            "UPDATE chat_groups SET next_due_at = ? WHERE id = ?",
            (to_db(next_due) if next_due else None, group_id),
        )

    async def set_flag(self, group_id: int, name: str, value: bool) -> None:
        if name not in _SETTINGS:
            raise ValueError(f"unknown group setting {name}")
        await self._conn.execute(
            f"UPDATE chat_groups SET {name} = ? WHERE id = ?", (int(value), group_id)
        )

    async def due(self, now: datetime, limit: int) -> list[ChatGroup]:
        return [
            ChatGroup.from_row(row)
            for row in await self._conn.fetch_all(
                "SELECT * FROM chat_groups WHERE status = 'active' AND paused = 0"
                " AND next_due_at <= ? ORDER BY next_due_at, id LIMIT ?",
                (to_db(now), limit),
            )
        ]

    async def earliest_due(self) -> datetime | None:
        row = await self._conn.fetch_one(
            "SELECT MIN(next_due_at) FROM chat_groups WHERE status = 'active' AND paused = 0",
        )
        return from_db(row[0]) if row else None

    # --- members ------------------------------------------------------------------------
    async def member(self, group_id: int, line_user_id: str) -> GroupMember | None:
        row = await self._conn.fetch_one(
            "SELECT * FROM group_members WHERE group_id = ? AND line_user_id = ?",
            (group_id, line_user_id),
        )
        return GroupMember.from_row(row) if row else None

    async def learn_member(
        self, group_id: int, line_user_id: str, display_name: str, now: datetime
    ) -> None:
        await self._conn.execute(
            "INSERT INTO group_members (group_id, line_user_id, display_name, learnt_at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (group_id, line_user_id) DO UPDATE SET"
            " display_name = CASE WHEN excluded.display_name != '' THEN excluded.display_name"
            " ELSE group_members.display_name END",
            (group_id, line_user_id, display_name, to_db(now)),
        )

    async def forget_member(self, group_id: int, line_user_id: str) -> None:
        await self._conn.execute(
            "DELETE FROM group_members WHERE group_id = ? AND line_user_id = ?",
            (group_id, line_user_id),
        )

    async def members(self, group_id: int) -> list[GroupMember]:
        return [
            GroupMember.from_row(row)
            for row in await self._conn.fetch_all(
                "SELECT * FROM group_members WHERE group_id = ? ORDER BY learnt_at, line_user_id",
                (group_id,),
            )
        ]

    # --- rounds -------------------------------------------------------------------------
    async def open_round(self, group_id: int) -> GroupRound | None:
        row = await self._conn.fetch_one(
            "SELECT * FROM group_rounds WHERE group_id = ? AND state = 'open'",
            (group_id,),
        )
        return GroupRound.from_row(row) if row else None

    async def open_unless_open(
        self, group_id: int, slot_at: datetime, now: datetime
    ) -> int | None:
        """A new round for the slot, unless one is open or the slot has one already."""
        row = await self._conn.fetch_one(
            "INSERT INTO group_rounds (group_id, slot_at, state, opened_at)"
            " VALUES (?, ?, 'open', ?) ON CONFLICT DO NOTHING RETURNING id",
            (group_id, to_db(slot_at), to_db(now)),
        )
        return int(row[0]) if row else None

    async def attach_post(self, round_id: int, outbox_id: int) -> None:
        await self._conn.execute(
            "UPDATE group_rounds SET post_outbox_id = ? WHERE id = ?", (outbox_id, round_id)
        )

    async def mark_posted(self, outbox_id: int, at: datetime) -> None:
        await self._conn.execute(
            "UPDATE group_rounds SET posted_at = COALESCE(posted_at, ?) WHERE post_outbox_id = ?",
            (to_db(at), outbox_id),
        )

    async def waiting(
        self, state: str, since_column: str, since_at_most: datetime, limit: int
    ) -> list[GroupRound]:
        """Group rounds in `state` since `since_at_most` or earlier (care.rounds.ladder.WAITS)."""
        if since_column != "posted_at":
            raise ValueError(f"no group round clock in column {since_column}")
        return [
            GroupRound.from_row(row)
            for row in await self._conn.fetch_all(
                "SELECT * FROM group_rounds WHERE state = ? AND posted_at <= ?"
                " ORDER BY posted_at, id LIMIT ?",
                (state, to_db(since_at_most), limit),
            )
        ]

    async def earliest_waiting(self, state: str, since_column: str) -> datetime | None:
        if since_column != "posted_at":
            raise ValueError(f"no group round clock in column {since_column}")
        row = await self._conn.fetch_one(
            "SELECT MIN(posted_at) FROM group_rounds WHERE state = ?", (state,)
        )
        return from_db(row[0]) if row else None

    async def mark_reported(self, round_id: int, at: datetime) -> None:
        await self._conn.execute(
            "UPDATE group_rounds SET state = 'reported', reported_at = ? WHERE id = ?",
            (to_db(at), round_id),
        )

    async def record_ok(
        self, round_id: int, group_id: int, line_user_id: str, at: datetime, answer: str = "ok"
    ) -> bool:
        """True when the answer is news: the person's first on the round, or one that says
        they are unwell or need help after all (a second OK counts nothing)."""
        before = await self._conn.fetch_one(
            "SELECT answer FROM group_answers WHERE round_id = ? AND line_user_id = ?",
            (round_id, line_user_id),
        )
        await self._conn.execute(
            "UPDATE group_members SET last_ok_at = ? WHERE group_id = ? AND line_user_id = ?",
            (to_db(at), group_id, line_user_id),
        )
        if before is None:
            await self._conn.execute(
                "INSERT INTO group_answers (round_id, line_user_id, answered_at, answer)"
                " VALUES (?, ?, ?, ?)",
                (round_id, line_user_id, to_db(at), answer),
            )
            return True
        if answer == "ok" or answer == before[0]:
            return False
        await self._conn.execute(
            "UPDATE group_answers SET answer = ?, answered_at = ?"
            " WHERE round_id = ? AND line_user_id = ?",
            (answer, to_db(at), round_id, line_user_id),
        )
        return True

    async def answers(self, round_id: int) -> dict[str, str]:
        """Who answered the round, and how (ok, unwell, help)."""
        rows = await self._conn.fetch_all(
            "SELECT line_user_id, answer FROM group_answers WHERE round_id = ?",
            (round_id,),
        )
        return {row[0]: row[1] for row in rows}
