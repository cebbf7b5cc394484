"""What the daily purge deletes (care/privacy/retention.py), a batch per statement, and what it
keeps: a finished month's report figures, and its own bookkeeping (when it last finished, the audit
log's line)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from storage.database import POSTGRESQL, Connection, from_db, to_db


class RetentionRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def _delete(self, table: str, key: str, where: str, params: tuple[Any, ...]) -> int:
        """Delete at most `limit` (the last param) rows of `table` matching `where`, oldest
        ids first: a LIMIT on DELETE is neither engine's common SQL, a sub-select by key is."""
        written = await self._conn.execute(
            f"DELETE FROM {table} WHERE {key} IN"
            f" (SELECT {key} FROM {table} WHERE {where} ORDER BY {key} LIMIT ?)",
            params,
        )
        return written.rowcount

    async def _ids(self, select: str, params: tuple[Any, ...]) -> list[Any]:
        return [row[0] for row in await self._conn.fetch_all(select, params)]

    async def _delete_ids(
        self,
        table: str,
        ids: list[Any],
        unlink: tuple[tuple[str, str], ...] = (),
        dependents: tuple[tuple[str, str], ...] = (),
    ) -> int:
        """Delete `table`'s rows of `ids`: first the links to them that outlive them set to
        NULL (`unlink`: table, column), then the rows that live and die with them
        (`dependents`: table, column). -> rows of `table` deleted."""
        if not ids:
            return 0
        marks = ",".join("?" * len(ids))
        for other, column in unlink:
            await self._conn.execute(
                f"UPDATE {other} SET {column} = NULL WHERE {column} IN ({marks})", ids
            )
        for other, column in dependents:
            await self._conn.execute(f"DELETE FROM {other} WHERE {column} IN ({marks})", ids)
        written = await self._conn.execute(f"DELETE FROM {table} WHERE id IN ({marks})", ids)
        return written.rowcount

    async def purge_rounds(self, before: datetime, limit: int) -> int:
        """Check-in rounds whose slot fell before `before`, and what points at them: the
        outbox rows keep their bookkeeping without the round, a desk case (kept longer) loses
        only its link to it."""
        ids = await self._ids(
            "SELECT id FROM checkin_rounds WHERE slot_at < ?"
            " AND state IN ('answered', 'cancelled') ORDER BY id LIMIT ?",
            (to_db(before), limit),
        )
        unlink = (
            ("outbox", "round_id"),
            ("desk_cases", "round_id"),
            ("heat_check_people", "round_id"),
        )
        return await self._delete_ids("checkin_rounds", ids, unlink=unlink)

    async def purge_heat_days(self, before: datetime, limit: int) -> int:
        """Alert days before `before` with whom each day's heat check named (their rounds go
        by purge_rounds), and the heat documents and forecasts read before it."""
        day = before.date().isoformat()
        days = await self._ids(
            "SELECT day FROM heat_days WHERE day < ? ORDER BY day LIMIT ?", (day, limit)
        )
        for found in days:
            await self._conn.execute("DELETE FROM heat_check_people WHERE day = ?", (found,))
            await self._conn.execute("DELETE FROM heat_days WHERE day = ?", (found,))
        await self._conn.execute("DELETE FROM heat_wbgt WHERE day < ?", (day,))
        await self._conn.execute(
            "DELETE FROM heat_documents WHERE received_at < ?", (to_db(before),)
        )
        return len(days)

    async def purge_roll_calls(self, before: datetime, limit: int) -> int:
        """Roll-calls that started before `before`, with each person's and group's answer; a
        desk case or a JMA report (an earthquake, a warning) keeps itself without the link. By
        the start, closed or not: the console may start one with no closing time
        (admin/rollcalls.py), and one left open must not keep everyone's answers for good;
        `before` is at least 62 days back (ground/settings.py), long past any roll-call still
        being answered."""
        ids = await self._ids(
            "SELECT id FROM roll_calls WHERE started_at < ? ORDER BY id LIMIT ?",
            (to_db(before), limit),
        )
        return await self._delete_ids(
            "roll_calls",
            ids,
            unlink=(
                ("desk_cases", "roll_call_id"),
                ("jma_reports", "roll_call_id"),
                ("storm_reports", "roll_call_id"),
            ),
            dependents=(
                ("roll_call_people", "roll_call_id"),
                ("roll_call_groups", "roll_call_id"),
            ),
        )

    async def purge_group_rounds(self, before: datetime, limit: int) -> int:
        """A group's check-ins (reported or cancelled) whose slot fell before `before`, with
        who answered them."""
        ids = await self._ids(
            "SELECT id FROM group_rounds WHERE slot_at < ? AND state IN ('reported', 'cancelled')"
            " ORDER BY id LIMIT ?",
            (to_db(before), limit),
        )
        dependents = (("group_answers", "round_id"),)
        return await self._delete_ids("group_rounds", ids, dependents=dependents)

    async def purge_words(self, before: datetime, limit: int) -> int:
        """Her own words quoted from a round (助けて in her words) of a round closed before."""
        written = await self._conn.execute(
            # In closing order, by checkin_rounds_help_words: by id the engine read every round.
            "UPDATE checkin_rounds SET help_words = NULL WHERE id IN (SELECT id FROM"
            " checkin_rounds WHERE help_words IS NOT NULL AND closed_at < ?"
            " ORDER BY closed_at, id LIMIT ?)",
            (to_db(before), limit),
        )
        return written.rowcount

    async def purge_calls(self, before: datetime, limit: int) -> int:
        """Call records: each attempt (a keyed hash of the number), each verification, each
        of Twilio's events handled."""
        moment = to_db(before)
        done = await self._delete("call_attempts", "id", "created_at < ?", (moment, limit))
        done += await self._delete(
            "call_verifications", "id", "created_at < ? AND ended_at IS NOT NULL", (moment, limit)
        )
        done += await self._delete("call_events", "call_sid", "handled_at < ?", (moment, limit))
        return done

    async def purge_cases(self, before: datetime, limit: int) -> int:
        """Desk cases closed before `before`, with their steps and partners' visits."""
        ids = await self._ids(
            "SELECT id FROM desk_cases WHERE closed_at < ? ORDER BY id LIMIT ?",
            (to_db(before), limit),
        )
        dependents = (("desk_steps", "case_id"), ("visits", "case_id"))
        return await self._delete_ids("desk_cases", ids, dependents=dependents)

    async def purge_roster_removed(self, before: datetime, limit: int) -> int:
        """People the city's roster stopped listing before `before` (their phone member was
        retired at the removal, storage.roster)."""
        return await self._delete("roster_people", "id", "removed_at < ?", (to_db(before), limit))

    async def purge_person_notes(self, before: datetime, limit: int) -> int:
        """The desk's notes on a person, kept as long as its cases."""
        return await self._delete("person_notes", "id", "at < ?", (to_db(before), limit))

    async def purge_message_bodies(self, before: datetime, limit: int) -> int:
        """What a message said, of messages delivered (or given up) before `before`; the row
        stays, with its purpose, recipients and times (the month's message count)."""
        # By outbox_kept, in sending order: ordered by id, each batch walked past every row
        # already emptied (a year of them), the moment being COALESCE(sent_at, …).
        emptied = "UPDATE outbox SET messages = '[]', tellings = '[]' WHERE id IN (SELECT id FROM"
        kept = " outbox WHERE (messages != '[]' OR tellings != '[]') AND state != 'pending'"
        written = await self._conn.execute(
            f"{emptied}{kept} AND sent_at < ? ORDER BY sent_at, id LIMIT ?)",
            (to_db(before), limit),
        )
        done: int = written.rowcount
        if done < limit:
            # A row that was never sent is placed by its last attempt.
            written = await self._conn.execute(
                f"{emptied}{kept} AND sent_at IS NULL AND next_attempt_at < ?"
                " ORDER BY id LIMIT ?)",
                (to_db(before), limit - done),
            )
            done += written.rowcount
        return done

    async def audit_floor(self) -> str:
        """The latest audit line the database allows (migration 0043): a year before its own
        clock, in to_db's form. Asked first, so a purge on a clock run ahead draws nothing
        instead of failing on the trigger."""
        if self._conn.dialect == POSTGRESQL:
            sql = (
                "SELECT to_char((clock_timestamp() AT TIME ZONE 'UTC') - interval '365 days',"
                ' \'YYYY-MM-DD"T"HH24:MI:SS"+00:00"\')'
            )
        else:
            sql = "SELECT strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now', '-365 days')"
        row = await self._conn.fetch_one(sql)
        return str(row[0]) if row else ""

    async def audit_line(self) -> str:
        row = await self._conn.fetch_one("SELECT audit_before FROM retention_state WHERE id = 1")
        return str(row[0]) if row else ""

    async def draw_audit_line(self, before: datetime) -> tuple[datetime | None, bool]:
        """Audit rows older than `before` may go (the triggers of migrations 0040 and 0043
        refuse any younger, and a line later than a year before the database's clock); the
        line only moves forward. -> the line in force (None: none drawn yet), and whether this
        moved it."""
        line, wanted = await self.audit_line(), to_db(before)
        if wanted <= line or wanted > await self.audit_floor():
            return from_db(line), False
        await self._conn.execute(
            "INSERT INTO retention_state (id, audit_before) VALUES (1, ?) ON CONFLICT (id)"
            " DO UPDATE SET audit_before = excluded.audit_before"
            " WHERE retention_state.audit_before < excluded.audit_before",
            (wanted,),
        )
        return before, True

    async def purge_audit(self, before: datetime, limit: int) -> int:
        return await self._delete("audit_log", "id", "at < ?", (to_db(before), limit))

    async def compact_people_search(self) -> None:
        """Rewrite SQLite's index of names and numbers (migration 0063) without what was
        deleted from it: a contentless FTS5 table only marks a deletion, and keeps the
        withdrawn or changed name, three letters at a time with their places, in its older
        segments until they merge (secure_delete overwrites the pages they then free). SQLite
        3.42's secure-delete option would do it at each deletion; Debian's is older. Once a
        purge: a rewrite of the whole index, too long for each 退会 on the writer.
        PostgreSQL's people_search is a table: its old rows are vacuumed as the members' are."""
        if self._conn.dialect != POSTGRESQL:
            await self._conn.execute(
                "INSERT INTO people_search (people_search) VALUES ('optimize')", ()
            )

    async def purged_at(self) -> datetime | None:
        row = await self._conn.fetch_one("SELECT purged_at FROM retention_state WHERE id = 1")
        return from_db(row[0]) if row else None

    async def finished(self, now: datetime) -> None:
        await self._conn.execute(
            "INSERT INTO retention_state (id, purged_at) VALUES (1, ?) ON CONFLICT (id)"
            " DO UPDATE SET purged_at = excluded.purged_at",
            (to_db(now),),
        )

    async def earliest(self) -> datetime | None:
        """The first moment any monthly figure counts: the oldest round, case or roll-call."""
        row = await self._conn.fetch_one(
            "SELECT MIN(m) FROM (SELECT MIN(slot_at) AS m FROM checkin_rounds"
            " UNION ALL SELECT MIN(opened_at) FROM desk_cases"
            " UNION ALL SELECT MIN(started_at) FROM roll_calls) AS firsts"
        )
        return from_db(row[0]) if row and row[0] else None

    async def stored_months(self) -> set[str]:
        rows = await self._conn.fetch_all("SELECT month FROM monthly_figures")
        return {row[0] for row in rows}

    async def store_month(self, month: str, figures: dict[str, Any], now: datetime) -> None:
        """A month's figures, once: the first stored stay (the rows they counted may be gone)."""
        await self._conn.execute(
            "INSERT INTO monthly_figures (month, figures, stored_at) VALUES (?, ?, ?)"
            " ON CONFLICT (month) DO NOTHING",
            (month, json.dumps(figures, ensure_ascii=False), to_db(now)),
        )

    async def month_figures(self, month: str) -> dict[str, Any] | None:
        row = await self._conn.fetch_one(
            "SELECT figures FROM monthly_figures WHERE month = ?", (month,)
        )
        return json.loads(row[0]) if row else None
