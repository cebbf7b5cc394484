"""Calls before the alert: a member's number and consent, a round's call, Twilio's webhooks
taken once, and the month's calls counted against the budget."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from storage.database import Connection, from_db, guarded, to_db
from storage.models import required_time

CALL_PURPOSE = "call"  # the outbox rows that place a call
VERIFY_PURPOSE = "verify_call"  # the outbox rows that read a number's verification code
CHECKIN_PURPOSES = ("checkin", "resend")  # a check-in's calls, of people watched by phone alone
ROLLCALL_PURPOSE = "rollcall_call"  # a roll-call's question, rung to a person without LINE
# Calls to a person watched by phone alone that the daily cap per number does not hold: her
# only channel (a roll-call's call is started by the city or her team's manager, each held to
# its own rate).
OWN_CHANNEL_PURPOSES = (*CHECKIN_PURPOSES, ROLLCALL_PURPOSE)
# How long a call's rate fact is kept (call_attempts): the longest window that counts it is a
# day; a second day is slack for a clock that moved or a sweep that ran late.
ATTEMPTS_KEPT = timedelta(days=2)


def call_key(channel_secret: str) -> bytes:
    """The key of the numbers' hashes, from the deployment's secret (not in the database)."""
    return hmac.new(channel_secret.encode(), b"mimamori call attempts v1", "sha256").digest()


def number_key(key: bytes, number: str) -> str:
    """A number as call_attempts keeps it: the same number gives the same text under the same
    key, and the text gives the number back to nobody without the key."""
    return hmac.new(key, number.encode(), "sha256").hexdigest()


async def record_attempt(
    conn: Connection,
    key: bytes,
    number: str,
    member_id: int | None,
    purpose: str,
    outbox_id: int,
    at: datetime,
) -> None:
    """A call is recorded (an outbox row of the voice channel): its rate fact is kept past 退会,
    which scrubs the number from the outbox row; facts older than ATTEMPTS_KEPT go."""
    await conn.execute(
        "DELETE FROM call_attempts WHERE created_at < ?", (to_db(at - ATTEMPTS_KEPT),)
    )
    await conn.execute(
        "INSERT INTO call_attempts (number_key, member_id, purpose, outbox_id, created_at)"
        " VALUES (?, ?, ?, ?, ?)",
        (number_key(key, number), member_id, purpose, outbox_id, to_db(at)),
    )


@dataclass(frozen=True)
class Verification:
    id: int
    member_id: int
    number: str
    code_hash: str
    created_at: datetime
    expires_at: datetime
    tries: int
    ended_at: datetime | None
    outcome: str | None


class CallRepository:
    def __init__(self, conn: Connection, key: bytes) -> None:
        self._conn = conn
        self._key = key

    async def set_consent(
        self, member_id: int, number: str | None, before_alert: bool, by: str | None
    ) -> None:
        # Another number (or none) is not hers until it is verified again.
        if number is None:
            await self._conn.execute(
                "UPDATE members SET call_verified_at = NULL, call_verified_by = NULL WHERE id = ?",
                (member_id,),
            )
        else:
            await self._conn.execute(
                "UPDATE members SET call_verified_at = NULL, call_verified_by = NULL"
                " WHERE id = ? AND (call_number IS NULL OR call_number != ?)",
                (member_id, number),
            )
        await self._conn.execute(
            "UPDATE members SET call_number = ?, call_before_alert = ?, call_consented_by = ?"
            " WHERE id = ?",
            (number, int(before_alert), by if before_alert or number else None, member_id),
        )

    async def set_verified(self, member_id: int, number: str, by: str, at: datetime) -> bool:
        """Her number is hers (`by`: "call", or the staff who confirmed it with her present).
        -> False when her number is no longer `number`."""
        row = await self._conn.fetch_one(
            "UPDATE members SET call_verified_at = ?, call_verified_by = ?"
            " WHERE id = ? AND call_number = ? RETURNING id",
            (to_db(at), by, member_id, number),
        )
        return row is not None

    # --- verification calls ------------------------------------------------------------------
    async def add_verification(
        self, member_id: int, number: str, code_hash: str, at: datetime, expires: datetime
    ) -> int:
        """A new verification call: any earlier one still waiting for her code is replaced."""
        await self._conn.execute(
            "UPDATE call_verifications SET ended_at = ?, outcome = 'replaced'"
            " WHERE member_id = ? AND ended_at IS NULL",
            (to_db(at), member_id),
        )
        row = await self._conn.fetch_one(
            "INSERT INTO call_verifications (member_id, number, code_hash, created_at, expires_at)"
            " VALUES (?, ?, ?, ?, ?) RETURNING id",
            (member_id, number, code_hash, to_db(at), to_db(expires)),
        )
        assert row is not None
        return int(row[0])

    async def waiting_verification(self, member_id: int) -> Verification | None:
        """Her latest verification call not used, spent or replaced (perhaps expired)."""
        row = await self._conn.fetch_one(
            "SELECT * FROM call_verifications WHERE member_id = ? AND ended_at IS NULL"
            " ORDER BY id DESC LIMIT 1",
            (member_id,),
        )
        if row is None:
            return None
        return Verification(
            id=row["id"],
            member_id=row["member_id"],
            number=row["number"],
            code_hash=row["code_hash"],
            created_at=required_time(row["created_at"]),
            expires_at=required_time(row["expires_at"]),
            tries=row["tries"],
            ended_at=from_db(row["ended_at"]),
            outcome=row["outcome"],
        )

    async def wrong_code(self, verification_id: int) -> int:
        """-> the wrong codes typed for this call, this one included."""
        row = await self._conn.fetch_one(
            "UPDATE call_verifications SET tries = tries + 1 WHERE id = ? RETURNING tries",
            (verification_id,),
        )
        return int(row[0]) if row else 0

    async def end_verification(self, verification_id: int, outcome: str, at: datetime) -> None:
        await self._conn.execute(
            "UPDATE call_verifications SET ended_at = ?, outcome = ?"
            " WHERE id = ? AND ended_at IS NULL",
            (to_db(at), outcome, verification_id),
        )

    async def verifications_since(
        self, since: datetime, member_id: int | None = None, number: str | None = None
    ) -> int:
        """Verification calls recorded since `since` (at most ATTEMPTS_KEPT ago), for a person
        or to a number, whether or not she has left since (call_attempts)."""
        if member_id is not None:
            column, value = "member_id", member_id
        else:
            column, value = "number_key", number_key(self._key, number or "")
        row = await self._conn.fetch_one(
            f"SELECT COUNT(*) FROM call_attempts WHERE {column} = ? AND purpose = ?"
            " AND created_at >= ?",
            (value, VERIFY_PURPOSE, to_db(since)),
        )
        return int(row[0]) if row else 0

    async def forget_verifications(self, member_id: int) -> None:
        """退会: the numbers she had verified, and when, are not kept."""
        await self._conn.execute(
            "DELETE FROM call_verifications WHERE member_id = ?", (member_id,)
        )

    async def calls_to(self, number: str, since: datetime, besides: int | None = None) -> int:
        """Calls of every kind recorded to `number` since `since` (at most ATTEMPTS_KEPT ago)
        and not refused before they were placed, whoever's number it is or was (call_attempts:
        退会 does not take them away): what the daily cap per number counts."""
        row = await self._conn.fetch_one(
            "SELECT COUNT(*) FROM call_attempts a LEFT JOIN outbox o ON o.id = a.outbox_id"
            " WHERE a.number_key = ? AND a.created_at >= ? AND a.outbox_id != ?"
            " AND (o.state IS NULL OR o.state != 'failed')",
            (number_key(self._key, number), to_db(since), besides or 0),
        )
        return int(row[0]) if row else 0

    async def number_taken(self, number: str, besides: int) -> bool:
        """`number` rings another person's check-ins (watched by phone alone) or is another
        member's verified call number: a verification call to it is someone else's phone."""
        row = await self._conn.fetch_one(
            "SELECT 1 FROM members WHERE id != ? AND withdrawn_at IS NULL AND ("
            " (call_number = ? AND call_verified_at IS NOT NULL)"
            " OR (channel = 'voice' AND channel_address = ?)) LIMIT 1",
            (besides, number, number),
        )
        return row is not None

    async def placed_since_for(self, since: datetime, purposes: tuple[str, ...]) -> int:
        """Calls recorded since `since` for these purposes (the budget's forecast)."""
        marks = ", ".join("?" for _ in purposes)
        row = await self._conn.fetch_one(
            f"SELECT COUNT(*) FROM outbox WHERE channel = 'voice' AND created_at >= ?"
            f" AND purpose IN ({marks})",
            (to_db(since), *purposes),
        )
        return int(row[0]) if row else 0

    async def phone_only_schedules(self) -> list[tuple[int, str | None]]:
        """(interval in days, next check-in) of each active person watched by phone alone:
        her check-ins are calls the budget must foresee."""
        rows = await self._conn.fetch_all(
            "SELECT interval_days, next_due_at FROM members WHERE channel = 'voice'"
            " AND status = 'active' AND withdrawn_at IS NULL AND interval_days IS NOT NULL",
            (),
        )
        return [(int(row[0]), row[1]) for row in rows]

    async def placed(self, round_id: int, at: datetime, until: datetime, outbox_id: int) -> None:
        """The round's call is recorded: the alert waits for it until `until` at the most."""
        await self._conn.execute(
            "UPDATE checkin_rounds SET called_at = ?, call_until = ?, call_outbox_id = ?"
            f" WHERE id = ? AND {guarded('state')} = 'resent' AND called_at IS NULL",
            (to_db(at), to_db(until), outbox_id, round_id),
        )

    async def ended(self, round_id: int, at: datetime) -> bool:
        """The call settled nothing (no answer, busy, a machine): the alert is due now.
        -> whether the round was still waiting on it."""
        row = await self._conn.fetch_one(
            "UPDATE checkin_rounds SET call_until = ?"
            f" WHERE id = ? AND {guarded('state')} = 'resent'"
            " AND called_at IS NOT NULL AND call_until > ? RETURNING id",
            (to_db(at), round_id, to_db(at)),
        )
        return row is not None

    async def take_event(self, call_sid: str, kind: str, at: datetime) -> bool:
        """-> False when this webhook of this call was acted on before (Twilio sends again
        what it did not hear back from)."""
        row = await self._conn.fetch_one(
            "INSERT INTO call_events (call_sid, kind, handled_at) VALUES (?, ?, ?)"
            " ON CONFLICT DO NOTHING RETURNING call_sid",
            (call_sid, kind, to_db(at)),
        )
        return row is not None

    async def taken(self, call_sid: str, kind: str) -> bool:
        row = await self._conn.fetch_one(
            "SELECT 1 FROM call_events WHERE call_sid = ? AND kind = ?", (call_sid, kind)
        )
        return row is not None

    async def placed_since(self, since: datetime) -> int:
        """Calls recorded since the moment (the month's start): what the budget counts, the
        check-ins of people watched by phone alone as much as the calls before an alert."""
        row = await self._conn.fetch_one(
            "SELECT COUNT(*) FROM outbox WHERE channel = 'voice' AND created_at >= ?",
            (to_db(since),),
        )
        return int(row[0]) if row else 0
