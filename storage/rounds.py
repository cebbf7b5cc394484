"""Check-in rounds: one row per scheduled check-in of one person, from sent to closed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from storage.database import (
    Connection,
    from_db,
    from_db_cached,
    guarded,
    insert_rows,
    to_db,
    to_db_cached,
)
from storage.models import AwaitingMessage, CheckinRound, RoundState

_OPEN = "('open', 'resent', 'alerted')"


class RoundRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def open_unless_open(
        self, openings: Sequence[tuple[int, datetime, int | None]], now: datetime
    ) -> set[int]:
        """Open a round per (member, slot, the outbox row of its check-in); skipped where the
        member has an open round (the one-open-round index) or a round for that slot already
        (the member/slot key). -> the members whose round opened."""
        opened = to_db(now)
        rows = await insert_rows(
            self._conn,
            "INSERT INTO checkin_rounds (member_id, slot_at, state, opened_at, checkin_outbox_id)"
            " VALUES {values} ON CONFLICT DO NOTHING RETURNING member_id",
            [
                (member_id, to_db_cached(slot), "open", opened, outbox_id)
                for member_id, slot, outbox_id in openings
            ],
        )
        return {member_id for (member_id,) in rows}

    async def open_round(self, member_id: int) -> CheckinRound | None:
        return await self._one(
            f"SELECT * FROM checkin_rounds WHERE member_id = ? AND state IN {_OPEN}", (member_id,)
        )

    async def attach_outbox(self, round_ids: Sequence[int], outbox_id: int, resend: bool) -> None:
        column = "resend_outbox_id" if resend else "checkin_outbox_id"
        for start in range(0, len(round_ids), 500):
            chunk = list(round_ids[start : start + 500])
            marks = ",".join("?" * len(chunk))
            await self._conn.execute(
                f"UPDATE checkin_rounds SET {column} = ? WHERE id IN ({marks})",
                [outbox_id, *chunk],
            )

    async def mark_delivered(self, outbox_id: int, at: datetime) -> None:
        """LINE accepted the check-in or re-send carried by this outbox row: the clock starts."""
        when = to_db(at)
        await self._conn.execute(
            "UPDATE checkin_rounds SET sent_at = COALESCE(sent_at, ?) WHERE checkin_outbox_id = ?",
            (when, outbox_id),
        )
        await self._conn.execute(
            "UPDATE checkin_rounds SET resent_at = COALESCE(resent_at, ?)"
            " WHERE resend_outbox_id = ?",
            (when, outbox_id),
        )

    async def awaiting_message(
        self, resend: bool, limit: int, heat: bool | None = None
    ) -> list[AwaitingMessage]:
        """Rounds opened (or moved to re-send) whose message is not yet in the outbox, with
        who gets it, ordered so that rounds sharing a slot and a language come together;
        `heat`: only the rounds a heat check named (True), or only the others (False)."""
        # Literal states: SQLite then uses the partial indexes of migration 0005.
        where = (
            "r.state = 'resent' AND r.resend_outbox_id IS NULL"
            if resend
            else "r.state = 'open' AND r.checkin_outbox_id IS NULL"
        )
        rows = await self._conn.fetch_all(
            "SELECT r.id, r.member_id, r.slot_at, m.line_user_id, m.language, m.channel,"
            " m.channel_address"
            " FROM checkin_rounds r"
            f" JOIN members m ON m.id = r.member_id WHERE {where}{_heat(heat, 'r')}"
            " ORDER BY r.slot_at, m.language, r.id LIMIT ?",
            (limit,),
        )
        return [
            AwaitingMessage(round_id, member_id, from_db_cached(slot), user, language, channel, to)
            for round_id, member_id, slot, user, language, channel, to in rows
        ]

    async def waiting(
        self,
        state: str,
        since_column: str,
        since_at_most: datetime,
        limit: int,
        untaken: str | None = None,
        called: bool | None = None,
        heat: bool | None = None,
    ) -> list[CheckinRound]:
        """Rounds in `state` whose `since_column` moment is at or before `since_at_most`: the
        filter of one step of the ladder (care.rounds.ladder.WAITS says which state and column);
        `heat`: only the rounds a heat check named (True) or only the others (False)."""
        column = _clock_column(since_column)
        return await self._many(
            f"SELECT * FROM checkin_rounds WHERE {_in_state(state)} AND {column} <= ?"
            f"{_untaken(untaken)}{_called(called)}{_heat(heat, 'checkin_rounds')}"
            f" ORDER BY {column}, id LIMIT ?",
            (to_db(since_at_most), limit),
        )

    async def earliest_waiting(
        self,
        state: str,
        since_column: str,
        untaken: str | None = None,
        called: bool | None = None,
        heat: bool | None = None,
    ) -> datetime | None:
        column = _clock_column(since_column)
        row = await self._conn.fetch_one(
            f"SELECT MIN({column}) FROM checkin_rounds WHERE {_in_state(state)}"
            f"{_untaken(untaken)}{_called(called)}{_heat(heat, 'checkin_rounds')}",
        )
        return from_db(row[0]) if row else None

    async def of_member_since(self, member_id: int, since: datetime) -> list[CheckinRound]:
        return await self._many(
            "SELECT * FROM checkin_rounds WHERE member_id = ? AND slot_at >= ? ORDER BY slot_at",
            (member_id, to_db(since)),
        )

    async def any_of(self, member_id: int) -> bool:
        """Whether she has had a check-in at all (one row is enough)."""
        row = await self._conn.fetch_one(
            "SELECT 1 FROM checkin_rounds WHERE member_id = ? LIMIT 1", (member_id,)
        )
        return row is not None

    async def get(self, round_id: int) -> CheckinRound | None:
        return await self._one("SELECT * FROM checkin_rounds WHERE id = ?", (round_id,))

    async def open_alert(self, member_id: int, at: datetime) -> int:
        """A round opened as an alert (助けてほしい with no check-in waiting). Its slot is the
        moment of asking; should a closed round hold that very moment already (a second call
        for help within the same second), the second before it that is free is taken (moments
        are stored to the second; earlier, not later, so that it never takes the slot of a
        check-in still to come): a call for help is never refused for its timing, nor reopens
        a closed round."""
        slot = at
        while True:
            row = await self._conn.fetch_one(
                "INSERT INTO checkin_rounds (member_id, slot_at, state, opened_at, sent_at)"
                " VALUES (?, ?, 'alerted', ?, ?) ON CONFLICT DO NOTHING RETURNING id",
                (member_id, to_db(slot), to_db(at), to_db(at)),
            )
            if row is not None:
                return int(row[0])
            slot -= timedelta(seconds=1)

    async def raise_urgent(self, round_id: int, at: datetime, words: str | None) -> None:
        await self._conn.execute(
            "UPDATE checkin_rounds SET state = 'alerted', urgent = 1, answer = 'help',"
            " alerted_at = ?, reminded_at = ?, taken_by = NULL, taken_at = NULL,"
            " taker_asked_at = NULL, realerted_at = NULL,"
            # A case the desk holds stays its (care.rounds.protocol: help at the desk); a taken
            # alert raised again is everyone's, the desk's wait included.
            " escalated_at = CASE WHEN taken_by IS NULL THEN escalated_at END,"
            " turn_at = ?, next_turn_at = NULL,"
            " help_words = ? WHERE id = ?",
            (to_db(at), to_db(at), to_db(at), words, round_id),
        )

    async def take_alert(self, round_id: int, manager_id: int, at: datetime) -> bool:
        """True for the first manager to take the alert; nobody takes it twice."""
        cursor = await self._conn.execute(
            "UPDATE checkin_rounds SET taken_by = ?, taken_at = ?"
            f" WHERE id = ? AND {guarded('state')} = 'alerted' AND taken_by IS NULL",
            (manager_id, to_db(at), round_id),
        )
        return cursor.rowcount == 1

    async def mark_reminded(self, round_id: int, at: datetime) -> None:
        await self._conn.execute(
            "UPDATE checkin_rounds SET reminded_at = ? WHERE id = ?", (to_db(at), round_id)
        )

    async def ask_taker(self, round_id: int, at: datetime) -> None:
        await self._conn.execute(
            "UPDATE checkin_rounds SET taker_asked_at = ? WHERE id = ? AND taken_by IS NOT NULL",
            (to_db(at), round_id),
        )

    async def untake(self, round_id: int, at: datetime) -> None:
        """The taker did not find the person (or is gone): nobody has the alert; it counts as
        sent again to everyone now, and the desk's wait starts over."""
        await self._conn.execute(
            "UPDATE checkin_rounds SET taken_by = NULL, taken_at = NULL, taker_asked_at = NULL,"
            " realerted_at = ?, escalated_at = NULL, next_turn_at = NULL"
            f" WHERE id = ? AND {guarded('state')} = 'alerted'",
            (to_db(at), round_id),
        )

    async def taken_by_manager(self, manager_id: int) -> list[CheckinRound]:
        """The open alerts a manager has taken."""
        return await self._many(
            "SELECT * FROM checkin_rounds WHERE state = 'alerted' AND taken_by = ?",
            (manager_id,),
        )

    async def confirm(self, round_id: int, manager_id: int, at: datetime) -> None:
        await self._conn.execute(
            "UPDATE checkin_rounds SET state = 'answered', close_reason = 'confirmed',"
            f" confirmed_by = ?, closed_at = ? WHERE id = ? AND {guarded('state')} = 'alerted'",
            (manager_id, to_db(at), round_id),
        )

    async def told_turn(
        self, round_id: int, turn: int, at: datetime, next_turn_at: datetime | None
    ) -> None:
        """The managers of `turn` were alerted at `at`; the next turn's moment (None: none)."""
        await self._conn.execute(
            "UPDATE checkin_rounds SET turn = ?, turn_at = ?, next_turn_at = ? WHERE id = ?",
            (turn, to_db(at), to_db(next_turn_at) if next_turn_at else None, round_id),
        )

    async def mark_escalated(self, round_id: int, at: datetime) -> None:
        await self._conn.execute(
            "UPDATE checkin_rounds SET escalated_at = ? WHERE id = ?", (to_db(at), round_id)
        )

    async def mark_realerted(self, round_id: int, at: datetime) -> None:
        await self._conn.execute(
            "UPDATE checkin_rounds SET realerted_at = ? WHERE id = ?", (to_db(at), round_id)
        )

    async def set_state(self, round_id: int, state: RoundState, at: datetime) -> None:
        if state is RoundState.ALERTED:
            await self._conn.execute(
                "UPDATE checkin_rounds SET state = ?, alerted_at = ?, turn_at = ?,"
                " reminded_at = ? WHERE id = ?",
                (state.value, to_db(at), to_db(at), to_db(at), round_id),
            )
        else:
            await self._conn.execute(
                "UPDATE checkin_rounds SET state = ? WHERE id = ?", (state.value, round_id)
            )

    async def close(
        self,
        round_id: int,
        state: RoundState,
        reason: str,
        at: datetime,
        answer: str | None = None,
    ) -> None:
        await self._conn.execute(
            f"UPDATE checkin_rounds SET state = ?, close_reason = ?, closed_at = ?,"
            f" answer = COALESCE(?, answer) WHERE id = ? AND {guarded('state')} IN {_OPEN}",
            (state.value, reason, to_db(at), answer, round_id),
        )

    async def _one(self, sql: str, params: tuple[object, ...]) -> CheckinRound | None:
        row = await self._conn.fetch_one(sql, params)
        return CheckinRound.from_row(row) if row else None

    async def _many(self, sql: str, params: tuple[object, ...]) -> list[CheckinRound]:
        return [CheckinRound.from_row(row) for row in await self._conn.fetch_all(sql, params)]


def _untaken(which: str | None) -> str:
    """The SQL of care.rounds.ladder.Untaken: alerts nobody took, not yet sent again, or sent again
    and not yet at the desk."""
    if which is None:
        return ""
    if which == "turns_left":
        return " AND taken_by IS NULL AND realerted_at IS NULL AND next_turn_at IS NOT NULL"
    if which == "not_realerted":
        return " AND taken_by IS NULL AND realerted_at IS NULL AND next_turn_at IS NULL"
    if which == "realerted":
        return " AND taken_by IS NULL AND realerted_at IS NOT NULL AND escalated_at IS NULL"
    if which == "taken":
        return " AND taken_by IS NOT NULL AND taker_asked_at IS NULL"
    if which == "taker_asked":
        return " AND taken_by IS NOT NULL AND taker_asked_at IS NOT NULL"
    raise ValueError(f"no such wait on untaken alerts: {which}")


def _called(called: bool | None) -> str:
    """The SQL of care.rounds.ladder.Wait.called: rounds whose person was called before the
    alert."""
    if called is None:
        return ""
    return " AND called_at IS NOT NULL" if called else " AND called_at IS NULL"


def _heat(heat: bool | None, rounds: str) -> str:
    """The rounds a heat check named (care.rounds.due: they climb with the heat day's waits):
    its own round, or her regular one it found waiting. `rounds`: how the query names
    checkin_rounds."""
    if heat is None:
        return ""
    named = f"EXISTS (SELECT 1 FROM heat_check_people h WHERE h.round_id = {rounds}.id)"
    return f" AND {named}" if heat else f" AND NOT {named}"


def _in_state(state: str) -> str:
    """The state written out, not a parameter: both engines then read the rounds waiting in it
    by its own partial indexes (migration 0061), never the year of closed ones."""
    return f"state = '{RoundState(state).value}'"


def _clock_column(name: str) -> str:
    if name not in (
        "sent_at",
        "resent_at",
        "alerted_at",
        "turn_at",
        "next_turn_at",
        "realerted_at",
        "call_until",
        "taken_at",
        "taker_asked_at",
        "reminded_at",
    ):
        raise ValueError(f"no ladder clock in column {name}")
    return name
