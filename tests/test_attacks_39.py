"""Issue 39's refactor attacked: every process that carries decisions has every teller, and the
read-only unit of work reads what the writer wrote, whatever the database."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from storage.database import database_for
from storage.repositories import reading, unit_of_work

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 11, 23, tzinfo=UTC)

# What each entry point imports, alone in a fresh interpreter: `mimamori serve` and the other
# commands (mimamori.cli), the demo and simulator (simulator.demo), the benchmarks in one
# process (bench.inprocess).
ENTRY_POINTS = ["mimamori.cli", "simulator.demo", "bench.inprocess", "care.tellers"]

MISSING_TELLERS = """
import importlib, sys
importlib.import_module(sys.argv[1])
from care.rounds.carry import BY_THE_REPLY, BY_THE_WAVE, TELLERS
from care.rounds.protocol import Audience, table
said = {(t.audience, t.fact) for _, _, decision in table() for t in decision.tell}
to_her = {(Audience.PERSON, fact) for fact in (*BY_THE_WAVE, *BY_THE_REPLY)}
print(sorted(str(pair) for pair in said - to_her - set(TELLERS)))
"""


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_every_process_that_carries_decisions_has_every_teller(entry: str) -> None:
    """The tellers register when their module is imported (care.rounds.carry): a process that
    imported only some would raise LookupError mid-alert. Each entry point, imported alone,
    has them all (the tellers moved into care.rounds.taking included)."""
    found = subprocess.run(
        [sys.executable, "-c", MISSING_TELLERS, entry],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert found.stdout.strip() == "[]", found.stdout


async def test_an_in_memory_database_is_refused_rather_than_read_empty(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MIMAMORI_DATABASE=:memory: opened a database that the reader's second connection cannot
    see (another, empty one): every read-only page failed with 'no such table'. It is refused
    when opened, saying why, and a file works as before."""
    monkeypatch.chdir(tmp_path)  # the arrivals' file beside it would land here
    db = database_for(":memory:")
    with pytest.raises(RuntimeError, match="memory"):
        await db.open()
    await db.close()
    db = database_for(tmp_path / "mimamori.db")
    await db.open()
    async with unit_of_work(db) as repos:
        await repos.members.register("U1", "a", "ja", NOW)
    async with reading(db) as repos:
        assert await repos.members.by_line_id("U1") is not None
    await db.close()


def test_every_module_with_a_teller_is_in_the_list() -> None:
    """A new module with tellers that care.tellers does not name would leave them unloaded in a
    process that imported other surfaces."""
    import care.tellers

    listed = {module.__file__ for module in care.tellers.MODULES}
    registering = {
        str(path)
        for path in (ROOT / "care").rglob("*.py")
        if "\n@teller(" in path.read_text("utf-8")
    }
    assert registering <= listed, sorted(registering - listed)
