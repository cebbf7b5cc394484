"""Messages to LINE, recorded before they are sent."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from ground.channels import LINE, VOICE
from ground.telling import Telling
from storage.calls import record_attempt
from storage.database import POSTGRESQL, Connection, from_db, guarded, to_db
from storage.models import OutboxMessage


class OutboxRepository:
    def __init__(self, conn: Connection, call_key: bytes) -> None:
        self._conn = conn
        self._call_key = call_key  # the numbers' hashes in call_attempts
        # Rows added in this unit of work: after it commits, delivery is requested.
        self.added = 0

    async def add(
        self,
        *,
        kind: str,
        recipients: Sequence[str],
        tellings: Sequence[Telling],
        purpose: str,
        now: datetime,
        channel: str = LINE,
        round_id: int | None = None,
        recipient_member_id: int | None = None,
        notice_id: int | None = None,
        subject_member_id: int | None = None,
    ) -> int:
        """A row to send: `tellings` to `recipients` (addresses in `channel`'s terms), which
        the channel renders when it sends them."""
        row = await self._conn.fetch_one(
            "INSERT INTO outbox (kind, channel, recipients, messages, tellings, retry_key,"
            " purpose, round_id, recipient_member_id, next_attempt_at, created_at, notice_id,"
            " subject_member_id) VALUES (?, ?, ?, '[]', ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (
                kind,
                channel,
                json.dumps(list(recipients)),
                json.dumps([telling.to_json() for telling in tellings], ensure_ascii=False),
                str(uuid.uuid4()),
                purpose,
                round_id,
                recipient_member_id,
                to_db(now),
                to_db(now),
                notice_id,
                subject_member_id,
            ),
        )
        assert row is not None
        self.added += 1
        if channel == VOICE:
            # Every call is recorded here, whoever places it: its rate fact (the number's keyed
            # hash) outlives 退会, which scrubs the number from this row.
            for number in recipients:
                await record_attempt(
                    self._conn,
                    self._call_key,
                    number,
                    recipient_member_id,
                    purpose,
                    int(row[0]),
                    now,
                )
        return int(row[0])

    async def renew_claims(self, instance: str, until: datetime) -> None:
        """The heartbeat: rows this instance is still sending stay its own until `until`."""
        await self._conn.execute(
            "UPDATE outbox SET claimed_until = ? WHERE claimed_by = ? AND state = 'pending'",
            (to_db(until), instance),
        )

    async def scrub_about(self, member_id: int, addresses: Sequence[str]) -> None:
        """退会: messages already sent (or given up) about the person or to them keep their row
        (delivery figures) and lose their content; their addresses (LINE id, another channel's)
        leave every recipient list. What is still to be sent (the notice that they left) goes
        as written."""
        await self._conn.execute(
            "UPDATE outbox SET messages = '[]', tellings = '[]' WHERE state != 'pending'"
            " AND (subject_member_id = ? OR recipient_member_id = ?)",
            (member_id, member_id),
        )
        for address in addresses:
            rows = await self._conn.fetch_all(
                "SELECT id, recipients FROM outbox WHERE state != 'pending' AND recipients LIKE ?",
                (f"%{json.dumps(address)}%",),
            )
            for row in rows:
                others = [uid for uid in json.loads(row[1]) if uid != address]
                await self._conn.execute(
                    "UPDATE outbox SET recipients = ?, messages = CASE WHEN ? THEN messages"
                    " ELSE '[]' END, tellings = CASE WHEN ? THEN tellings ELSE '[]' END"
                    " WHERE id = ?",
                    (json.dumps(others), bool(others), bool(others), row[0]),
                )

    async def scrub_sent_to(self, purpose: str, member_ids: Sequence[int]) -> None:
        """Messages of this purpose already sent to these people lose their content (a daily
        note names everyone its manager watches: 退会 of one empties the notes that named her)."""
        for member_id in member_ids:
            await self._conn.execute(
                "UPDATE outbox SET messages = '[]', tellings = '[]' WHERE state != 'pending'"
                " AND purpose = ? AND recipient_member_id = ?",
                (purpose, member_id),
            )

    async def narrow(self, outbox_id: int, recipients: Sequence[str]) -> None:
        """A row not yet sent goes to fewer people (none: it is dropped)."""
        if recipients:
            await self._conn.execute(
                "UPDATE outbox SET recipients = ?"
                f" WHERE id = ? AND {guarded('state')} = 'pending'",
                (json.dumps(list(recipients)), outbox_id),
            )
        else:
            await self._conn.execute(
                f"DELETE FROM outbox WHERE id = ? AND {guarded('state')} = 'pending'",
                (outbox_id,),
            )

    async def claim_due(
        self, now: datetime, limit: int, instance: str, lease: timedelta
    ) -> list[OutboxMessage]:
        """Rows due now that no live instance holds, claimed for `instance` until the lease
        runs out: two instances never send the same row at once, and a row whose instance died
        is sent again by another (with its retry key, which LINE answers with 409)."""
        skip = " FOR UPDATE SKIP LOCKED" if self._conn.dialect == POSTGRESQL else ""
        rows = await self._conn.fetch_all(
            "UPDATE outbox SET claimed_by = ?, claimed_until = ? WHERE id IN ("
            " SELECT id FROM outbox WHERE state = 'pending' AND next_attempt_at <= ?"
            " AND (claimed_until IS NULL OR claimed_until <= ? OR claimed_by = ?)"
            f" ORDER BY next_attempt_at, id LIMIT ?{skip}) RETURNING *",
            (instance, to_db(now + lease), to_db(now), to_db(now), instance, limit),
        )
        found = [OutboxMessage.from_row(row) for row in rows]
        return sorted(found, key=lambda row: row.id)

    async def release_claims(self) -> None:
        """One instance alone on its database (SQLite): whatever it claimed before it stopped
        is its own to send again at once."""
        await self._conn.execute(
            "UPDATE outbox SET claimed_by = NULL, claimed_until = NULL"
            " WHERE claimed_by IS NOT NULL"
        )

    async def earliest_pending(self) -> datetime | None:
        row = await self._conn.fetch_one(
            "SELECT MIN(next_attempt_at) FROM outbox WHERE state = 'pending'"
        )
        return from_db(row[0]) if row else None

    async def mark_sent(self, outbox_id: int, at: datetime) -> None:
        await self._conn.execute(
            "UPDATE outbox SET state = 'sent', sent_at = ?, attempts = attempts + 1,"
            " claimed_by = NULL, claimed_until = NULL"
            f" WHERE id = ? AND {guarded('state')} = 'pending'",
            (to_db(at), outbox_id),
        )

    async def mark_retry(self, outbox_id: int, next_attempt_at: datetime, error: str) -> None:
        await self._conn.execute(
            "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?,"
            " claimed_by = NULL, claimed_until = NULL"
            f" WHERE id = ? AND {guarded('state')} = 'pending'",
            (to_db(next_attempt_at), error[:500], outbox_id),
        )

    async def mark_failed(self, outbox_id: int, at: datetime, error: str) -> None:
        await self._conn.execute(
            "UPDATE outbox SET state = 'failed', sent_at = ?, attempts = attempts + 1,"
            " last_error = ?, claimed_by = NULL, claimed_until = NULL"
            f" WHERE id = ? AND {guarded('state')} = 'pending'",
            (to_db(at), error[:500], outbox_id),
        )

    async def told_about(self, round_id: int, purpose: str) -> bool:
        """Whether a message for this purpose about this round was recorded already."""
        row = await self._conn.fetch_one(
            "SELECT 1 FROM outbox WHERE round_id = ? AND purpose = ? LIMIT 1", (round_id, purpose)
        )
        return row is not None

    async def alerted_members(self, round_id: int) -> list[int]:
        """Who was alerted about this round: they are the ones told the person is safe."""
        return [
            row[0]
            for row in await self._conn.fetch_all(
                "SELECT DISTINCT recipient_member_id FROM outbox"
                " WHERE round_id = ? AND purpose = 'alert' AND recipient_member_id IS NOT NULL",
                (round_id,),
            )
        ]
