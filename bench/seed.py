"""A seeded history: N residents with their managers, teams, schedules, a few groups (つながり),
partners (民生委員) and some people watched by phone alone, and D days of what the service
would have written meanwhile: a check-in round a day each, most answered OK, some re-sent then
answered, a small share alerted (the alert's rows, and for some the desk's case, its steps and
the audit log's lines), the outbox's rows of everything sent (multicasts of 500, calls for the
phone-only) and the calls' rate facts. Built by bulk SQL over sets (`INSERT … SELECT`, a block
of residents and a day at a time), on a database the project's own migrations made, for the
benchmarks of issue 42.

    .venv/bin/python -m bench.seed --residents 100000 --days 400 --database /tmp/seed.db
    .venv/bin/python -m bench.seed --residents 20000 --database postgresql://…

The history ends where the benchmarks' clock stands (bench/inprocess.py, tests/conftest.py:
2026-11-23 00:00 UTC, 09:00 in Tokyo): every round is closed, and each resident's next
check-in (06:00, 07:00 or 08:00 in Tokyo, a third each) is due that morning: the wave that
has not been opened yet.

Reusable: what was seeded is recorded in `bench_seed` (residents, days, the schema's latest
migration, when); asked again for the same, it does nothing. It refuses a database that holds
anything else (another seed, people, messages), and one whose seeding was interrupted.

Each table is filled in the shape the code writes it (storage/rounds.py, storage/outbox.py,
storage/desk.py, care/rounds/checkins.py, care/desk/cases.py): the round's states and moments
follow the ladder's default waits (re-send after 24 h, alert 3 h later, the alert sent again
after 1 h and at the desk 1 h after that). What the seed does not write: webhook events and
the chat's replies (their rows are purged within days), notices, roll-calls, visits, devices.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from storage.calls import number_key
from storage.database import Database, database_for, is_postgres, known_migrations, to_db

END = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)  # the benchmarks' and the tests' clock
TIMEZONE = ZoneInfo("Asia/Tokyo")  # the deployment's (ground.settings' default)
MULTICAST = 500  # recipients a LINE multicast takes (care.rounds.checkins)
PHONE_ONLY_EVERY = 50  # one resident in 50 is watched by phone alone
ENGLISH_EVERY = 20  # one in 20 reads English
RESIDENTS_A_PARTNER = 200  # a 民生委員 for 200 residents' teams
RESIDENTS_A_GROUP = 1000  # a つながり group of 5 for every 1,000 residents, 50 at most
GROUP_SIZE = 5
# Residents seeded together, every day, before the next: a multiple of the multicasts' ranges
# of ids (`_History._group`), so that no multicast spans two blocks.
BLOCK = 3 * MULTICAST * ENGLISH_EVERY
DESK_STAFF = "desk-a"
# Shares of the rounds on the days a round may go wrong (every other day: a round re-sent is
# open until the next day's slot, which it takes): per mille of h (see `_outcome`).
OK_BELOW, RESENT_BELOW, CONFIRMED_BELOW = 900, 988, 998
# Outcome classes of a round.
OK, RESENT, CONFIRMED, AT_DESK = 0, 1, 2, 3
# The ladder's default waits (care.rounds.ladder.Timings), with a desk one hour after the
# alert went out again, in seconds from the slot.
ACCEPTED = 20  # LINE accepted the multicast
RESEND_AT = 86400 + ACCEPTED
ALERT_AT = RESEND_AT + 3 * 3600
REALERT_AT = ALERT_AT + 3600
ESCALATE_AT = REALERT_AT + 3600
MARKER = "bench_seed"
# The tables the seed fills, in the order they are counted.
TABLES = (
    "members",
    "teams",
    "team_members",
    "personal_shares",
    "partners",
    "partner_teams",
    "chat_groups",
    "group_members",
    "group_rounds",
    "group_answers",
    "checkin_rounds",
    "outbox",
    "call_attempts",
    "desk_cases",
    "desk_steps",
    "audit_log",
)
# The tables whose ids the seed gives (PostgreSQL's identities are set past them).
IDENTIFIED = (
    "members",
    "teams",
    "partners",
    "chat_groups",
    "group_rounds",
    "checkin_rounds",
    "outbox",
    "call_attempts",
    "desk_cases",
    "desk_steps",
    "audit_log",
)
# A database holding a row in any of these holds something the seed did not write.
OCCUPIED = (
    *TABLES,
    "admins",
    "notices",
    "roll_calls",
    "webhook_events",
    "roster_people",
)


@dataclass(frozen=True)
class Seeded:
    residents: int
    days: int
    schema: int
    reused: bool
    seconds: float
    rows: dict[str, int]
    size_bytes: int

    @property
    def total(self) -> int:
        return sum(self.rows.values())

    def lines(self) -> list[str]:
        said = "reused (seeded before: nothing added)" if self.reused else "seeded"
        out = [f"{self.residents:,} residents × {self.days} days, schema {self.schema}: {said}"]
        out += [f"  {table:16} {count:>14,}" for table, count in self.rows.items()]
        out.append(f"  {'total':16} {self.total:>14,}")
        if not self.reused:
            rate = self.total / self.seconds if self.seconds else 0.0
            out.append(f"took {self.seconds:,.1f} s: {rate:,.0f} rows a second")
        out.append(f"size on disk: {self.size_bytes / 2**20:,.1f} MiB")
        return out


class Refusal(Exception):
    """The database holds something the seed did not write, or another seed."""


async def seed(target: str | Path, residents: int, days: int) -> Seeded:
    """The database at `target` (a file, or a postgresql:// URL) migrated by the project's own
    runner, then seeded unless it holds this very seed already."""
    if residents < 1 or days < 1:
        raise ValueError("at least one resident and one day")
    db: Database = database_for(target)
    await db.open()  # the migrations, as the server runs them
    await db.close()
    return await asyncio.to_thread(_seed, str(target), residents, days)


def _seed(target: str, residents: int, days: int) -> Seeded:
    schema = max(known_migrations())
    engine = _Postgres(target) if is_postgres(target) else _Sqlite(target)
    with engine.opened():
        before = engine.recorded()
        if before is not None:
            if before != (residents, days, schema):
                raise Refusal(
                    f"{target} holds another seed ({before[0]} residents × {before[1]} days,"
                    f" schema {before[2]}) or one interrupted: seed an empty database"
                )
            return Seeded(residents, days, schema, True, 0.0, engine.counts(), engine.size_bytes())
        for table in OCCUPIED:
            if engine.scalar(f"SELECT COUNT(*) FROM (SELECT 1 FROM {table} LIMIT 1) AS t"):
                raise Refusal(f"{target} holds {table} already: seed an empty database")
        started = time.perf_counter()
        _History(engine, residents, days, schema).write()
        seconds = time.perf_counter() - started
        engine.run(
            f"UPDATE {MARKER} SET seeded_at = {_quoted(to_db(datetime.now(UTC)))},"
            f" seconds = {seconds:.3f}"
        )
        engine.finish()
        return Seeded(
            residents, days, schema, False, seconds, engine.counts(), engine.size_bytes()
        )


class _Engine:
    """The few places where the two engines' SQL differs, and a connection for bulk loading."""

    dialect = ""
    big = "INTEGER"  # a column of 64 bits

    @contextmanager
    def opened(self) -> Iterator[None]:
        raise NotImplementedError

    def run(self, sql: str) -> int:
        raise NotImplementedError

    def scalar(self, sql: str) -> Any:
        raise NotImplementedError

    def commit(self) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        """What a bulk load leaves to do (the planner's figures, the log's checkpoint)."""

    def size_bytes(self) -> int:
        raise NotImplementedError

    def empty(self, table: str) -> str:
        return f"DELETE FROM {table}"

    def ts(self, seconds: str) -> str:
        """Seconds since the epoch as the database keeps a moment (storage.database.to_db)."""
        raise NotImplementedError

    def hex32(self, number: str) -> str:
        raise NotImplementedError

    def padded(self, number: str, width: int) -> str:
        raise NotImplementedError

    def joined(self, text: str, order: str) -> str:
        """The texts of a group joined by commas, in `order`."""
        raise NotImplementedError

    def recorded(self) -> tuple[int, int, int] | None:
        self.run(
            f"CREATE TABLE IF NOT EXISTS {MARKER} (residents INTEGER NOT NULL,"
            " days INTEGER NOT NULL, schema_version INTEGER NOT NULL,"
            " started_at TEXT NOT NULL, seeded_at TEXT, seconds REAL)"
        )
        self.commit()
        row = self.row(f"SELECT residents, days, schema_version, seeded_at FROM {MARKER}")
        if row is None:
            return None
        if row[3] is None:  # interrupted: refused as a database holding something else
            return (-1, -1, -1)
        return int(row[0]), int(row[1]), int(row[2])

    def row(self, sql: str) -> Any:
        raise NotImplementedError

    def counts(self) -> dict[str, int]:
        return {table: int(self.scalar(f"SELECT COUNT(*) FROM {table}")) for table in TABLES}


class _Sqlite(_Engine):
    dialect = "sqlite"

    def __init__(self, path: str) -> None:
        self.path = path

    @contextmanager
    def opened(self) -> Iterator[None]:
        import sqlite3

        self.conn = sqlite3.connect(self.path, isolation_level=None)
        # A bulk load: what a crash would lose is the seed itself, made again from nothing
        # (a seed interrupted is refused). No journal while it runs: the WAL would write
        # every page twice; the server's WAL mode is set again when it is done.
        self.conn.execute("PRAGMA journal_mode = OFF")
        for pragma in (
            "synchronous = OFF",
            "foreign_keys = OFF",
            "cache_size = -1000000",
            "temp_store = MEMORY",
        ):
            self.conn.execute(f"PRAGMA {pragma}")
        self.conn.execute("BEGIN")
        try:
            yield
            self.conn.execute("COMMIT")
        finally:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            self.conn.close()

    def run(self, sql: str) -> int:
        return self.conn.execute(sql).rowcount

    def scalar(self, sql: str) -> Any:
        return self.conn.execute(sql).fetchone()[0]

    def row(self, sql: str) -> Any:
        return self.conn.execute(sql).fetchone()

    def commit(self) -> None:
        self.conn.execute("COMMIT")
        self.conn.execute("BEGIN")

    def finish(self) -> None:
        self.commit()
        self.conn.execute("COMMIT")
        self.conn.execute("PRAGMA journal_mode = WAL")
        self.conn.execute("BEGIN")

    def size_bytes(self) -> int:
        return sum(
            os.path.getsize(self.path + tail)
            for tail in ("", "-wal")
            if os.path.exists(self.path + tail)
        )

    def ts(self, seconds: str) -> str:
        return f"strftime('%Y-%m-%dT%H:%M:%S+00:00', {seconds}, 'unixepoch')"

    def hex32(self, number: str) -> str:
        return f"printf('%032x', {number})"

    def padded(self, number: str, width: int) -> str:
        return f"printf('%0{width}d', {number})"

    def joined(self, text: str, order: str) -> str:
        # SQLite joins in the order it reads the rows: the temporary table's, by resident.
        return f"group_concat({text}, ',')"


class _Postgres(_Engine):
    dialect = "postgresql"
    big = "BIGINT"

    def __init__(self, url: str) -> None:
        self.url = url

    @contextmanager
    def opened(self) -> Iterator[None]:
        import psycopg

        self.conn = psycopg.connect(self.url)
        # What a crash would lose is the seed itself, made again from nothing.
        self.conn.execute("SET synchronous_commit = off")
        self.conn.execute("SET work_mem = '256MB'")
        try:
            yield
            self.conn.commit()
        finally:
            self.conn.close()

    def run(self, sql: str) -> int:
        return self.conn.execute(sql.encode()).rowcount

    def scalar(self, sql: str) -> Any:
        return self.row(sql)[0]

    def row(self, sql: str) -> Any:
        return self.conn.execute(sql.encode()).fetchone()

    def commit(self) -> None:
        self.conn.commit()

    def finish(self) -> None:
        # Rows inserted with their ids: each identity goes on from the largest.
        for table in IDENTIFIED:
            self.run(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                f" COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
            )
        self.conn.commit()
        # What autovacuum does within a minute of a bulk load: the planner's figures.
        self.conn.autocommit = True
        self.conn.execute("ANALYZE")
        self.conn.autocommit = False

    def size_bytes(self) -> int:
        return int(self.scalar("SELECT pg_database_size(current_database())"))

    def empty(self, table: str) -> str:
        # Not DELETE: nothing vacuums a temporary table, and every day's scan of it would
        # read every row deleted before (the seed slowed day by day).
        return f"TRUNCATE {table}"

    def ts(self, seconds: str) -> str:
        return (
            f"to_char(to_timestamp({seconds}) AT TIME ZONE 'UTC',"
            ' \'YYYY-MM-DD"T"HH24:MI:SS"+00:00"\')'
        )

    def hex32(self, number: str) -> str:
        return f"lpad(to_hex({number}), 32, '0')"

    def padded(self, number: str, width: int) -> str:
        return f"lpad(({number})::text, {width}, '0')"

    def joined(self, text: str, order: str) -> str:
        return f"string_agg({text}, ',' ORDER BY {order})"


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _tellings(form: str, language: str, title: str, text: str, choices: list[str]) -> str:
    """A telling as ground.telling.Telling.to_json writes it (a stand-in's words: the seed
    measures sizes and paths, not wording)."""
    shaped: dict[str, Any] = {"form": form, "language": language, "text": text}
    if title:
        shaped["title"] = title
    if choices:
        shaped["choices"] = [[c, c.upper(), f"seed:{c}"] for c in choices]
    return json.dumps([shaped], ensure_ascii=False)


class _History:
    """What the seed writes, every id given by the seed itself (so rows that name each other
    are written in one statement each, with no read back)."""

    def __init__(self, engine: _Engine, residents: int, days: int, schema: int) -> None:
        self.e = engine
        self.n = residents
        self.days = days
        self.schema = schema
        # Local day 0 of the history, at midnight in Tokyo, in seconds since the epoch; the
        # last day is the one before the clock's.
        last = END.astimezone(TIMEZONE).date() - timedelta(days=1)
        first = last - timedelta(days=days - 1)
        self.t0 = int(datetime(first.year, first.month, first.day, tzinfo=TIMEZONE).timestamp())
        self.registered = self.t0 - 30 * 86400
        self.groups = min(50, max(1, residents // RESIDENTS_A_GROUP))
        self.partners = max(1, residents // RESIDENTS_A_PARTNER)
        # The next free id of each table.
        self.next: dict[str, int] = {
            t: 1 for t in ("outbox", "checkin_rounds", "desk_cases", "desk_steps", "audit_log")
        }
        self.next.update(group_rounds=1)

    # -- what a resident is, as SQL over `n` (her id) -------------------------------------

    def hour(self, r: str) -> str:
        return f"(6 + ({r}) % 3)"

    def voice(self, r: str) -> str:
        return f"(CASE WHEN ({r}) % {PHONE_ONLY_EVERY} = 0 THEN 1 ELSE 0 END)"

    def language(self, r: str) -> str:
        return f"(CASE WHEN ({r}) % {ENGLISH_EVERY} = 7 THEN 'en' ELSE 'ja' END)"

    def line_id(self, r: str) -> str:
        return f"('U' || {self.e.hex32(r)})"

    def phone_id(self, r: str) -> str:
        return f"('tel:' || {self.e.hex32(r)})"

    def number(self, r: str) -> str:
        return f"('+8150' || {self.e.padded(r, 8)})"

    def managers(self, r: str) -> str:
        """How many managers (relatives) she has: 1 to 3."""
        return f"(1 + ({r}) % 3)"

    def manager(self, r: str, j: str) -> str:
        """The id of her `j`th manager (1-based): after every resident, hers in a row."""
        # Residents 3q+1, 3q+2, 3q+3 have 2, 3 and 1 managers: 6 for every three.
        before = (
            f"(6 * ((({r}) - 1) / 3)"
            f" + CASE (({r}) - 1) % 3 WHEN 0 THEN 0 WHEN 1 THEN 2 ELSE 5 END)"
        )
        return f"({self.n} + {before} + {j})"

    def slot(self, r: str, day: int) -> str:
        return f"({self.t0 + day * 86400} + 3600 * {self.hour(r)})"

    def outcome(self, r: str, day: int) -> str:
        """How her round of `day` goes: OK, RESENT, CONFIRMED or AT_DESK. Only on odd days,
        and never in the last two (every round is closed when the clock starts)."""
        if day % 2 == 0 or day >= self.days - 2:
            return str(OK)
        h = f"((({r}) * 7919 + {day * 104729} + (({r}) % 97) * {day % 89 * 31}) % 1000)"
        return (
            f"(CASE WHEN {h} < {OK_BELOW} THEN {OK} WHEN {h} < {RESENT_BELOW} THEN {RESENT}"
            f" WHEN {h} < {CONFIRMED_BELOW} THEN {CONFIRMED} ELSE {AT_DESK} END)"
        )

    def held_over(self, r: str, day: int) -> str:
        """Whether her round of the day before was still open at this day's slot (re-sent):
        then there is no round this day (the one-open-round rule)."""
        if day == 0:
            return "0"
        return f"(CASE WHEN {self.outcome(r, day - 1)} <> {OK} THEN 1 ELSE 0 END)"

    def answered(self, r: str, day: int) -> str:
        """The moment of her OK on a round that went well."""
        return f"({self.slot(r, day)} + 300 + (({r}) * 37 + {day * 11}) % 10500)"

    # -- writing -----------------------------------------------------------------------

    def write(self) -> None:
        e = self.e
        e.run(
            f"INSERT INTO {MARKER} (residents, days, schema_version, started_at) VALUES"
            f" ({self.n}, {self.days}, {self.schema}, {_quoted(to_db(datetime.now(UTC)))})"
        )
        e.commit()
        self.numbers()
        self.people()
        e.commit()
        # Resident by resident (a block at a time, every day), not day by day: each round's
        # index entry by (member, slot) then lands beside the one before it, where a day's
        # rounds would touch a page of the index each, most of them out of the cache once
        # the history outgrows it. The rows that follow from the rounds come after, a day at
        # a time, in the order of time.
        for lo in range(0, self.n, BLOCK):
            for day in range(self.days):
                self.day(day, lo, min(self.n, lo + BLOCK))
                e.commit()
        self.next["outbox"] = 1 + self.days * 2 * self.groups_a_day
        for day in range(self.days):
            self.after(day)
            e.commit()

    def numbers(self) -> None:
        e = self.e
        e.run("DROP TABLE IF EXISTS seed_n")
        # (PostgreSQL's INTEGER is 32 bits: the hashes of `outcome` need more.)
        e.run(f"CREATE TEMPORARY TABLE seed_n (n {e.big} PRIMARY KEY)")
        most = max(self.n, self.days, 3)
        if e.dialect == "postgresql":
            e.run(f"INSERT INTO seed_n SELECT generate_series(1, {most})")
        else:
            e.run(
                "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c"
                f" WHERE n < {most}) INSERT INTO seed_n SELECT n FROM c"
            )
        e.run("DROP TABLE IF EXISTS seed_day")
        big = e.big
        e.run(
            f"CREATE TEMPORARY TABLE seed_day (r {big} PRIMARY KEY, s {big} NOT NULL,"
            " voice INTEGER NOT NULL, lang TEXT NOT NULL, cls INTEGER NOT NULL,"
            " k INTEGER NOT NULL, grp INTEGER NOT NULL, rid INTEGER NOT NULL,"
            " cid INTEGER)"
        )
        e.run("DROP TABLE IF EXISTS seed_numbered")
        e.run(f"CREATE TEMPORARY TABLE seed_numbered (r {big} PRIMARY KEY, v {big})")
        # The calls' rate facts keep a keyed hash of the number (storage.calls.number_key),
        # under the deployment's key: the database's default here.
        e.run("DROP TABLE IF EXISTS seed_keys")
        e.run("CREATE TEMPORARY TABLE seed_keys (r INTEGER PRIMARY KEY, k TEXT NOT NULL)")
        keys = [
            f"({r}, {_quoted(number_key(Database.call_key, f'+8150{r:08d}'))})"
            for r in range(PHONE_ONLY_EVERY, self.n + 1, PHONE_ONLY_EVERY)
        ]
        for start in range(0, len(keys), 500):
            e.run(f"INSERT INTO seed_keys VALUES {','.join(keys[start : start + 500])}")

    def people(self) -> None:
        e, n = self.e, self.n
        at = e.ts(str(self.registered))
        first_due = self.slot("n", self.days)
        # Residents: ids 1..N, each scheduled daily; the phone-only registered by the desk.
        e.run(
            "INSERT INTO members (id, line_user_id, display_name, language, registered_at,"
            " status, interval_days, checkin_hour, next_due_at, last_ok_at, terms_accepted_at,"
            " furigana, phone, channel, channel_address)"
            f" SELECT n, CASE WHEN {self.voice('n')} = 1 THEN {self.phone_id('n')}"
            f" ELSE {self.line_id('n')} END, 'resident ' || n, {self.language('n')}, {at},"
            f" 'active', 1, {self.hour('n')}, {e.ts(first_due)},"
            f" {e.ts(self.answered('n', self.days - 1))}, {at}, 'ジュウミン ' || n,"
            f" '090-' || {e.padded('n', 8)},"
            f" CASE WHEN {self.voice('n')} = 1 THEN 'voice' ELSE 'line' END,"
            f" CASE WHEN {self.voice('n')} = 1 THEN {self.number('n')} END"
            f" FROM seed_n WHERE n <= {n}"
        )
        # Managers: 1-3 relatives each, in LINE, with no check-ins of their own.
        e.run(
            "INSERT INTO members (id, line_user_id, display_name, language, registered_at,"
            " status, terms_accepted_at)"
            f" SELECT {self.manager('r.n', 'j.n')}, {self.line_id(self.manager('r.n', 'j.n'))},"
            f" 'manager ' || {self.manager('r.n', 'j.n')}, 'ja', {at}, 'active', {at}"
            f" FROM seed_n r JOIN seed_n j ON j.n <= {self.managers('r.n')}"
            f" WHERE r.n <= {n}"
        )
        # A team a resident (the family's): the managers are alerted first, and an alert
        # nobody takes reaches the desk (desk_watched would send it to the desk at once).
        e.run(
            "INSERT INTO teams (id, name, default_interval_days, default_hour, created_at,"
            f" desk_watched) SELECT n, 'チーム ' || n, 1, {self.hour('n')}, {at}, 0"
            f" FROM seed_n WHERE n <= {n}"
        )
        e.run(
            "INSERT INTO team_members (team_id, member_id, role, joined_at, consented_at)"
            f" SELECT n, n, 'user', {at}, {at} FROM seed_n WHERE n <= {n}"
        )
        e.run(
            "INSERT INTO team_members (team_id, member_id, role, joined_at, alert_turn)"
            f" SELECT r.n, {self.manager('r.n', 'j.n')}, 'manager', {at}, 1"
            f" FROM seed_n r JOIN seed_n j ON j.n <= {self.managers('r.n')} WHERE r.n <= {n}"
        )
        # 「見せる」: half show their details to their first manager.
        e.run(
            "INSERT INTO personal_shares (user_id, manager_id, granted_at)"
            f" SELECT n, {self.manager('n', '1')}, {at} FROM seed_n"
            f" WHERE n <= {n} AND n % 2 = 0"
        )
        # 民生委員: one for every 200 residents' teams.
        e.run(
            "INSERT INTO partners (id, name, kind, phone, area, created_at)"
            f" SELECT n, '民生委員 第' || n || '地区', 'minsei', '03-' || {e.padded('n', 8)},"
            f" '第' || n || '地区', {at} FROM seed_n WHERE n <= {self.partners}"
        )
        e.run(
            "INSERT INTO partner_teams (partner_id, team_id)"
            f" SELECT 1 + (n - 1) % {self.partners}, n FROM seed_n WHERE n <= {n}"
        )
        # つながり: a few LINE groups of five residents each, a daily round at 08:00.
        e.run(
            "INSERT INTO chat_groups (id, line_chat_id, chat_type, name, status, joined_at,"
            " interval_days, checkin_hour, next_due_at, starter_user_id)"
            f" SELECT n, 'C' || {e.hex32('n')}, 'group', 'つながり ' || n, 'active', {at}, 1, 8,"
            f" {e.ts(str(self.t0 + self.days * 86400 + 8 * 3600))},"
            f" {self.line_id(self._group_resident('n', 1))}"
            f" FROM seed_n WHERE n <= {self.groups}"
        )
        e.run(
            "INSERT INTO group_members (group_id, line_user_id, display_name, learnt_at,"
            f" last_ok_at) SELECT g.n, {self.line_id(self._group_resident('g.n', 'i.n'))},"
            f" 'resident ' || {self._group_resident('g.n', 'i.n')}, {at},"
            f" {e.ts(str(self.t0 + (self.days - 1) * 86400 + 9 * 3600))}"
            f" FROM seed_n g JOIN seed_n i ON i.n <= {GROUP_SIZE}"
            f" WHERE g.n <= {self.groups}"
        )

    def _group_resident(self, g: str, i: str | int) -> str:
        """The `i`th member of group `g`: residents in LINE (none of them by phone)."""
        return f"((({g}) - 1) * {GROUP_SIZE} + ({i})) * {PHONE_ONLY_EVERY} - 1"

    def day(self, day: int, lo: int, hi: int) -> None:
        """The rounds of residents lo+1..hi on `day`, with their check-ins and re-sends."""
        e, n = self.e, self.n
        e.run(e.empty("seed_day"))
        # Who has a round this day and how it goes. Ids are given by formula, not counted
        # (a window over the day's rows cost as much as the rows): a round's is the day's
        # first plus her id, a check-in row's the day's first plus its group's (`_group`),
        # so some ids are skipped, as a purge's deletions skip them.
        e.run(
            "INSERT INTO seed_day (r, s, voice, lang, cls, k, grp, rid)"
            f" SELECT n, {self.slot('n', day)}, {self.voice('n')}, {self.language('n')},"
            f" {self.outcome('n', day)}, {self.managers('n')}, {self._group('n')},"
            f" {day * n} + n FROM seed_n WHERE n > {lo} AND n <= {hi}"
            f" AND {self.held_over('n', day)} = 0"
        )
        checkins = 1 + day * 2 * self.groups_a_day
        self._messages(checkins, "s", "checkin", "1 = 1")
        resends = checkins + self.groups_a_day
        # The re-sends, a day later, grouped as the check-ins were.
        self._messages(resends, f"s + {RESEND_AT - ACCEPTED}", "resend", f"cls > {OK}")
        self._rounds(checkins, resends, day)

    def after(self, day: int) -> None:
        """What followed the day's alerts (read back from its rounds), and the groups'."""
        e, n = self.e, self.n
        e.run(e.empty("seed_day"))
        e.run(
            "INSERT INTO seed_day (r, s, voice, lang, cls, k, grp, rid)"
            f" SELECT member_id, {self.slot('member_id', day)}, 0, 'ja',"
            f" CASE close_reason WHEN 'confirmed' THEN {CONFIRMED} ELSE {AT_DESK} END,"
            f" {self.managers('member_id')}, 0, id FROM checkin_rounds"
            f" WHERE id > {day * n} AND id <= {(day + 1) * n} AND alerted_at IS NOT NULL"
        )
        self._alerts()
        self._desk()
        self._groups(day)

    def _group(self, r: str) -> str:
        """Her check-in's row among the day's (0-based): in LINE, a multicast for each slot
        and language to every 1,500 residents by id in Japanese (a third of them a slot: some
        500), to every 30,000 in English; a call each for the phone-only."""
        japanese, english = self._groups_of()
        return (
            f"(CASE WHEN {self.voice(r)} = 1"
            f" THEN {japanese + english} + ({r}) / {PHONE_ONLY_EVERY}"
            f" WHEN {self.language(r)} = 'en' THEN {japanese}"
            f" + ((({r}) - 1) / {3 * MULTICAST * ENGLISH_EVERY}) * 3 + ({r}) % 3"
            f" ELSE ((({r}) - 1) / {3 * MULTICAST}) * 3 + ({r}) % 3 END)"
        )

    def _groups_of(self) -> tuple[int, int]:
        japanese = ((self.n - 1) // (3 * MULTICAST) + 1) * 3
        english = ((self.n - 1) // (3 * MULTICAST * ENGLISH_EVERY) + 1) * 3
        return japanese, english

    @property
    def groups_a_day(self) -> int:
        japanese, english = self._groups_of()
        return japanese + english + self.n // PHONE_ONLY_EVERY + 1

    def _number(self, column: str, numbered: str, rows: str) -> None:
        """seed_day's `column` set from a window over some of its rows (through a table of
        their own: a window in a correlated sub-select would be computed again a row)."""
        e = self.e
        e.run(e.empty("seed_numbered"))
        e.run(f"INSERT INTO seed_numbered (r, v) SELECT r, {numbered} FROM ({rows}) AS a")
        e.run(
            f"UPDATE seed_day SET {column} = (SELECT v FROM seed_numbered"
            " WHERE seed_numbered.r = seed_day.r)"
            " WHERE r IN (SELECT r FROM seed_numbered)"
        )

    def _messages(self, base: int, created: str, purpose: str, where: str) -> int:
        """The outbox's rows of a day's check-ins (or re-sends), ids from the next free one
        by `group`, and the calls' rate facts of those that were calls."""
        e = self.e
        group = "grp"
        tellings = {
            (voice, lang): _quoted(
                _tellings(
                    "call" if voice else "checkin",
                    lang,
                    f"{purpose} title",
                    f"{purpose} words of the day",
                    ["ok", "unwell", "help"],
                )
            )
            for voice in (0, 1)
            for lang in ("ja", "en")
        }
        chosen = " ".join(
            f"WHEN voice = {voice} AND lang = '{lang}' THEN {text}"
            for (voice, lang), text in tellings.items()
        )
        address = f"CASE WHEN voice = 1 THEN {self.number('r')} ELSE {self.line_id('r')} END"
        quoted = f"'\"' || {address} || '\"'"
        written = e.run(
            "INSERT INTO outbox (id, kind, channel, recipients, messages, tellings, retry_key,"
            " purpose, state, attempts, next_attempt_at, created_at, sent_at)"
            f" SELECT {base} + {group}, CASE WHEN COUNT(*) > 1 THEN 'multicast' ELSE 'push' END,"
            " CASE WHEN voice = 1 THEN 'voice' ELSE 'line' END,"
            f" '[' || {e.joined(quoted, 'r')} || ']',"
            f" '[]', CASE {chosen} END, {self._retry_key(f'{base} + {group}')}, '{purpose}',"
            f" 'sent', 1, {e.ts(created)}, {e.ts(created)}, {e.ts(f'{created} + {ACCEPTED}')}"
            f" FROM seed_day WHERE {where} GROUP BY {group}, s, voice, lang"
        )
        e.run(
            "INSERT INTO call_attempts (number_key, member_id, purpose, outbox_id, created_at)"
            f" SELECT k.k, NULL, '{purpose}', {base} + {group}, {e.ts(created)}"
            f" FROM seed_day d JOIN seed_keys k ON k.r = d.r WHERE d.voice = 1 AND {where}"
        )
        return written

    def _retry_key(self, id_: str) -> str:
        """Unique, as long as the uuid4 the code writes."""
        return f"('00000000-5eed-4000-8000-' || {self.e.padded(id_, 12)})"

    def _rounds(self, checkins: int, resends: int, day: int) -> int:
        e = self.e
        # (An OK's moment as `answered` says, which members.last_ok_at repeats.)
        closed = (
            f"CASE cls WHEN {OK} THEN s + 300 + (r * 37 + {day * 11}) % 10500"
            f" WHEN {RESENT} THEN s + {RESEND_AT} + 600 + r % 3000"
            f" WHEN {CONFIRMED} THEN s + {ALERT_AT} + 3600"
            f" ELSE s + {ESCALATE_AT} + 7200 END"
        )
        alerted = f"CASE WHEN cls >= {CONFIRMED} THEN {e.ts(f's + {ALERT_AT}')} END"
        return e.run(
            "INSERT INTO checkin_rounds (id, member_id, slot_at, state, opened_at, sent_at,"
            " resent_at, alerted_at, closed_at, close_reason, checkin_outbox_id,"
            " resend_outbox_id, answer, taken_by, taken_at, confirmed_by, realerted_at,"
            " escalated_at, turn, turn_at, reminded_at)"
            f" SELECT rid, r, {self._at(day, 0)}, 'answered', {self._at(day, 0)},"
            f" {self._at(day, ACCEPTED)},"
            f" CASE WHEN cls > {OK} THEN {e.ts(f's + {RESEND_AT}')} END, {alerted},"
            f" {e.ts(closed)},"
            f" CASE cls WHEN {OK} THEN 'ok' WHEN {RESENT} THEN 'ok'"
            f" WHEN {CONFIRMED} THEN 'confirmed' ELSE 'desk_confirmed' END,"
            f" {checkins} + grp, CASE WHEN cls > {OK} THEN {resends} + grp END,"
            f" CASE WHEN cls <= {RESENT} THEN 'ok' END,"
            f" CASE WHEN cls = {CONFIRMED} THEN {self.manager('r', '1')} END,"
            f" CASE WHEN cls = {CONFIRMED} THEN {e.ts(f's + {ALERT_AT} + 900')} END,"
            f" CASE WHEN cls = {CONFIRMED} THEN {self.manager('r', '1')} END,"
            f" CASE WHEN cls = {AT_DESK} THEN {e.ts(f's + {REALERT_AT}')} END,"
            f" CASE WHEN cls = {AT_DESK} THEN {e.ts(f's + {ESCALATE_AT}')} END,"
            f" 1, {alerted}, {alerted}"
            " FROM seed_day"
        )

    def _at(self, day: int, offset: int) -> str:
        """`s + offset` as the database keeps a moment, for the day's three slots: written
        out here rather than computed a row (a third of the rounds' cost on SQLite)."""
        slots = [self.t0 + day * 86400 + 3600 * hour for hour in (6, 7)]
        at = [
            _quoted(to_db(datetime.fromtimestamp(v + offset, UTC)))
            for v in (*slots, slots[1] + 3600)
        ]
        return (
            f"(CASE s WHEN {slots[0]} THEN {at[0]} WHEN {slots[1]} THEN {at[1]} ELSE {at[2]} END)"
        )

    def _alerts(self) -> None:
        """The alert to each of her managers (and, after the desk found her safe, the word
        that it did), as care.rounds.alerts and care.desk.cases write them."""
        e = self.e
        for purpose, where, at in (
            ("alert", f"d.cls >= {CONFIRMED}", f"d.s + {ALERT_AT}"),
            ("desk_confirmed", f"d.cls = {AT_DESK}", f"d.s + {ESCALATE_AT} + 7200"),
        ):
            base = self.next["outbox"]
            manager = self.manager("d.r", "j.n")
            text = _quoted(
                _tellings(
                    "card",
                    "ja",
                    f"{purpose} title",
                    f"{purpose} words",
                    ["take"] if purpose == "alert" else [],
                )
            )
            self.next["outbox"] += e.run(
                "INSERT INTO outbox (id, kind, channel, recipients, messages, tellings,"
                " retry_key, purpose, round_id, recipient_member_id, subject_member_id, state,"
                " attempts, next_attempt_at, created_at, sent_at)"
                f" SELECT {base} - 1 + ROW_NUMBER() OVER (ORDER BY d.r, j.n), 'push', 'line',"
                f" '[\"' || {self.line_id(manager)} || '\"]', '[]', {text},"
                f" {self._retry_key(f'{base} - 1 + ROW_NUMBER() OVER (ORDER BY d.r, j.n)')},"
                f" '{purpose}', d.rid, {manager}, d.r, 'sent', 1, {e.ts(at)}, {e.ts(at)},"
                f" {e.ts(f'{at} + 1')}"
                # CROSS JOIN: SQLite then reads the day's few alerts first, and no more than
                # three numbers for each (rather than every number for every alert).
                f" FROM seed_day d CROSS JOIN seed_n j WHERE j.n <= d.k AND {where}"
            )

    def _desk(self) -> None:
        """An alert nobody took reaches the desk: its case, opened by the service, taken,
        the person called and reached, closed as 外出していた (safe); each step of staff
        audited (care.desk.cases)."""
        e = self.e
        case0 = self.next["desk_cases"]
        self._number(
            "cid",
            f"{case0} - 1 + ROW_NUMBER() OVER (ORDER BY r)",
            f"SELECT r FROM seed_day WHERE cls = {AT_DESK}",
        )
        opened = f"s + {ESCALATE_AT}"
        taken = f"{opened} + 600"
        called = f"{opened} + 1800"
        closed = f"{opened} + 7200"
        cases = e.run(
            "INSERT INTO desk_cases (id, member_id, round_id, reason, urgent, opened_at,"
            " taken_by, taken_at, closed_at, closed_by, outcome)"
            f" SELECT cid, r, rid, 'untaken', 0, {e.ts(opened)}, '{DESK_STAFF}', {e.ts(taken)},"
            f" {e.ts(closed)}, '{DESK_STAFF}', 'out' FROM seed_day WHERE cls = {AT_DESK}"
        )
        self.next["desk_cases"] += cases
        steps = (
            ("", "opened", "'untaken'", opened),
            (DESK_STAFF, "taken", "NULL", taken),
            (DESK_STAFF, "call", "'reached'", called),
            (DESK_STAFF, "closed", "'out'", closed),
        )
        step0 = self.next["desk_steps"]
        for index, (staff, kind, result, at) in enumerate(steps):
            e.run(
                "INSERT INTO desk_steps (id, case_id, at, staff, kind, result)"
                f" SELECT {step0} + (cid - {case0}) * {len(steps)} + {index}, cid, {e.ts(at)},"
                f" '{staff}', '{kind}', {result} FROM seed_day WHERE cls = {AT_DESK}"
            )
        self.next["desk_steps"] += cases * len(steps)
        audits = (
            ("desk_taken", "'case ' || cid", taken),
            ("desk_call", "'case ' || cid || ': reached'", called),
            ("desk_closed", "'case ' || cid || ': out'", closed),
        )
        audit0 = self.next["audit_log"]
        for index, (action, detail, at) in enumerate(audits):
            e.run(
                "INSERT INTO audit_log (id, at, admin_name, action, detail)"
                f" SELECT {audit0} + (cid - {case0}) * {len(audits)} + {index}, {e.ts(at)},"
                f" '{DESK_STAFF}', '{action}', {detail} FROM seed_day WHERE cls = {AT_DESK}"
            )
        self.next["audit_log"] += cases * len(audits)

    def _groups(self, day: int) -> None:
        """Each group's round of the day: the post, four of five answering, the report 23 h
        later (care.groups.rounds)."""
        e = self.e
        post = self.t0 + day * 86400 + 8 * 3600
        report = post + 23 * 3600
        round0, ob = self.next["group_rounds"], self.next["outbox"]
        text = _quoted(_tellings("checkin", "ja", "group title", "group words", ["ok"]))
        for offset, purpose, at in ((0, "group_checkin", post), (1, "group_report", report)):
            e.run(
                "INSERT INTO outbox (id, kind, channel, recipients, messages, tellings,"
                " retry_key, purpose, state, attempts, next_attempt_at, created_at, sent_at)"
                f" SELECT {ob} + (n - 1) * 2 + {offset}, 'push', 'line',"
                f" '[\"C' || {e.hex32('n')} || '\"]', '[]', {text},"
                f" {self._retry_key(f'{ob} + (n - 1) * 2 + {offset}')}, '{purpose}', 'sent', 1,"
                f" {e.ts(str(at))}, {e.ts(str(at))}, {e.ts(str(at + ACCEPTED))}"
                f" FROM seed_n WHERE n <= {self.groups}"
            )
        self.next["outbox"] += 2 * self.groups
        e.run(
            "INSERT INTO group_rounds (id, group_id, slot_at, state, opened_at, posted_at,"
            f" reported_at, post_outbox_id) SELECT {round0} - 1 + n, n, {e.ts(str(post))},"
            f" 'reported', {e.ts(str(post))}, {e.ts(str(post + ACCEPTED))}, {e.ts(str(report))},"
            f" {ob} + (n - 1) * 2 FROM seed_n WHERE n <= {self.groups}"
        )
        e.run(
            "INSERT INTO group_answers (round_id, line_user_id, answered_at, answer)"
            f" SELECT {round0} - 1 + g.n, {self.line_id(self._group_resident('g.n', 'i.n'))},"
            f" {e.ts(f'{post} + 600 * i.n')}, 'ok'"
            f" FROM seed_n g JOIN seed_n i ON i.n < {GROUP_SIZE} WHERE g.n <= {self.groups}"
        )
        self.next["group_rounds"] += self.groups


def _print_lines(seeded: Seeded, out: Callable[[str], None] = print) -> None:
    for line in seeded.lines():
        out(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--residents", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=400)
    parser.add_argument(
        "--database",
        required=True,
        help="an SQLite file or a postgresql:// URL (kept, reused); `postgres`: a private"
        " cluster made for the run and removed after it (to measure the seeding only)",
    )
    args = parser.parse_args()
    cluster = None
    target = args.database
    if target == "postgres":
        from bench.standins import start_durable_postgres

        cluster = start_durable_postgres()
        target = cluster.fresh_database("seed")
    try:
        seeded = asyncio.run(seed(target, args.residents, args.days))
    except Refusal as refusal:
        raise SystemExit(f"refused: {refusal}") from None
    finally:
        if cluster is not None:
            cluster.stop()
    _print_lines(seeded)


if __name__ == "__main__":
    main()
