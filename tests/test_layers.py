"""The layers a reader sees in the folders: no package imports a package above it, and two
surfaces never share code by importing each other."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Lower numbers are lower floors. Surfaces share a floor: they may not import each other.
FLOORS = {
    "ground": 0,  # clock, settings, i18n, messages, the LINE client, codecs, branding
    "storage": 1,  # SQLite, migrations, repositories
    "care": 2,  # the service layer: every action and rule
    "scheduler": 3,  # surfaces ...
    "liff": 3,
    "admin": 3,
    "bot": 4,  # the chat surface, and the app that mounts every surface
    "simulator": 5,  # runs the whole app against a stand-in LINE
}


def module_imports(path: Path) -> set[str]:
    """Top-level packages this module imports when it is loaded (imports inside functions
    load only when called: the CLI's `demo` loads the simulator that way)."""
    tree = ast.parse(path.read_text("utf-8"))
    found = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found & FLOORS.keys()


def test_no_package_imports_a_package_above_it_or_beside_it() -> None:
    wrong = []
    for package, floor in FLOORS.items():
        for path in sorted((ROOT / package).rglob("*.py")):
            for imported in module_imports(path) - {package}:
                if FLOORS[imported] >= floor:
                    wrong.append(f"{path.relative_to(ROOT)} imports {imported}")
    assert wrong == []


def test_the_ground_floor_knows_nothing_of_the_service() -> None:
    for path in (ROOT / "ground").rglob("*.py"):
        assert module_imports(path) <= {"ground"}, path


def test_serving_does_not_load_the_simulator() -> None:
    """`mimamori serve` with credentials imports the app and the CLI, not the simulator."""
    probe = (
        "import sys, bot.cli, bot.app;"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('simulator', 'tests'));"
        "print(loaded); sys.exit(1 if loaded else 0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_image_and_the_package_carry_every_layer() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text("utf-8")
    pyproject = (ROOT / "pyproject.toml").read_text("utf-8")
    for package in [*FLOORS, "locales"]:
        assert f"COPY {package} ./{package}" in dockerfile, package
        assert f'"{package}*"' in pyproject, package
