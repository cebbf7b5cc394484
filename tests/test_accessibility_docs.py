"""The accessibility evidence a city publishes (docs/accessibility/): the 試験結果 is what its
generator makes of the browser tests' axe records and the hand-judged checklist, and the
ウェブアクセシビリティ方針 claims no more than the results show. The records themselves are
held equal to axe's findings by the browser tests (tests/drivers.axe_findings)."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs" / "accessibility"
GENERATOR = DOCS / "generate.py"


def _results() -> str:
    return (DOCS / "results.md").read_text("utf-8")


def test_the_results_page_is_what_the_records_and_the_checklist_make() -> None:
    done = subprocess.run(
        [sys.executable, str(GENERATOR), "--check"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_results_judge_every_jis_criterion_at_a_and_aa() -> None:
    rows = re.findall(r"^\| (\d\.\d\.\d) .*? \| (A|AA) \| .*? \| (\S+) \| ", _results(), re.M)
    assert len(rows) == 38
    assert {verdict for _, _, verdict in rows} <= {"適合", "不適合", "該当なし", "未確認"}


def test_nothing_is_judged_conforming_without_saying_how() -> None:
    checklist = tomllib.loads((DOCS / "checklist.toml").read_text("utf-8"))
    for number, entry in checklist["criteria"].items():
        assert len(entry["how"]) >= 20, f"{number}: say how it was judged"


def test_the_policy_claims_what_the_results_show() -> None:
    results = _results()
    policy = (DOCS / "policy.md").read_text("utf-8")
    level = re.search(r"\*\*適合レベル AA に(準拠|一部準拠)\*\*", results)
    assert level is not None
    assert f"現在の状態は、**適合レベル AA に{level[1]}**" in policy
    failed = set(re.findall(r"^\| (\d\.\d\.\d) [^|]+\| AA? \| [^|]+\| 不適合 \|", results, re.M))
    listed = set(re.findall(r"^ +- (\d\.\d\.\d) ", policy, re.M))
    assert listed == failed, "the policy lists exactly the criteria the results find failing"
    if "| 未確認 |" in results:
        assert "未確認" in policy
    assert "[results.md](results.md)" in policy
