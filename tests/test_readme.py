"""The README's two commands are what people and CI run."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text("utf-8")
    return re.findall(r"```sh\n(.+?)\n```", text, flags=re.S)


def test_ci_runs_the_readme_test_command() -> None:
    serve, tests = readme_commands()[:2]
    assert "mimamori serve" in serve and "pip install ." in serve
    assert tests in (ROOT / ".ci" / "run").read_text("utf-8").splitlines()
