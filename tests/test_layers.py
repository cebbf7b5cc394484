"""The layers a reader sees in the folders: no package imports a package above it, and two
surfaces never share code by importing each other. Every import counts, one inside a function
or under TYPE_CHECKING included: a lazy import is still a dependency."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Lower numbers are lower floors. Surfaces share a floor: they may not import each other.
FLOORS = {
    "ground": 0,  # clock, settings, i18n, messages, the LINE client, codecs, branding
    "storage": 1,  # SQLite, PostgreSQL, migrations, repositories
    "care": 2,  # the service layer: every action and rule
    "bot": 3,  # surfaces: the chat ...
    "liff": 3,  # ... My page
    "admin": 3,  # ... the console
    "phone": 3,  # ... Twilio's call webhooks and devices' pings
    "scheduler": 3,  # ... the sweep and the outbox's delivery
    "server": 4,  # the app that mounts every surface, /metrics, the setup check
    "simulator": 5,  # runs the whole app against a stand-in LINE
    "mimamori": 6,  # the command: serve, demo, backups, accounts
    "tests": 7,  # the suite, its fake LINE and drivers
    "bench": 8,  # benchmarks, driving the servers the tests drive
}
NOT_CODE = {"locales"}  # data: the sentences, read by ground.i18n


def imports_of(path: Path) -> set[str]:
    """Every top-level package of the project this module imports, wherever the import is."""
    tree = ast.parse(path.read_text("utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.level > 0:
            found.add(path.relative_to(_root_of(path)).parts[0])
    return found


def _root_of(path: Path) -> Path:
    for parent in path.parents:
        if (parent / "pyproject.toml").exists():
            return parent
    return ROOT


def wrong_imports(root: Path) -> list[str]:
    """Imports that go up a floor or sideways, as 'path imports package'."""
    wrong = []
    for package, floor in FLOORS.items():
        for path in sorted((root / package).rglob("*.py")):
            for imported in imports_of(path) & FLOORS.keys() - {package}:
                if FLOORS[imported] >= floor:
                    wrong.append(f"{path.relative_to(root)} imports {imported}")
    return wrong


def packages(root: Path) -> set[str]:
    return {
        path.parent.name
        for path in root.glob("*/__init__.py")
        if not path.parent.name.startswith(".")
    }


def test_no_package_imports_a_package_above_it_or_beside_it() -> None:
    assert wrong_imports(ROOT) == []


def test_every_package_has_a_floor() -> None:
    assert packages(ROOT) - NOT_CODE == FLOORS.keys()


def test_a_sideways_import_inside_a_function_is_found(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("")
    for package in FLOORS:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "bot" / "features").mkdir()
    (tmp_path / "bot" / "features" / "menu.py").write_text(
        "from care import people\n\n\nasync def show():\n    from admin.views import dashboard\n"
    )
    (tmp_path / "scheduler" / "sweep.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from server.app import x\n"
    )
    assert wrong_imports(tmp_path) == [
        "bot/features/menu.py imports admin",
        "scheduler/sweep.py imports server",
    ]


def test_the_ground_floor_knows_nothing_of_the_service() -> None:
    for path in (ROOT / "ground").rglob("*.py"):
        assert imports_of(path) & FLOORS.keys() <= {"ground"}, path


def test_serving_does_not_load_the_simulator() -> None:
    """`mimamori serve` with credentials imports the app and the CLI, not the simulator."""
    probe = (
        "import sys, mimamori.cli, server.app;"
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
    shipped = [p for p in FLOORS if FLOORS[p] < FLOORS["tests"]]
    for package in [*shipped, "locales"]:
        assert f"COPY {package} ./{package}" in dockerfile, package
        assert f'"{package}*"' in pyproject, package


def test_test_modules_share_helpers_through_the_drivers_only() -> None:
    """A test module imports what it drives the service with from tests/drivers.py (and the
    fixtures' modules), never from another test module."""
    wrong = []
    for path in sorted((ROOT / "tests").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tests.test_"):
                wrong.append(f"{path.name} imports {node.module}")
    assert wrong == []


def modules_imported(path: Path) -> set[str]:
    """Every module this one imports by its full name (`from ground import messages` counts
    as ground.messages)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def test_care_says_what_to_tell_and_no_channel_shapes_it() -> None:
    """The seam for a second channel: care/ writes tellings (ground.telling); LINE's message
    shapes (ground.messages) are the LINE channel's and the chat's, never care's."""
    for path in sorted((ROOT / "care").rglob("*.py")):
        assert "ground.messages" not in modules_imported(path), path


# LINE's client and what is built on it: the SDK, the client, LINE's channel.
LINE_CLIENT = ("linebot", "ground.line_api", "ground.line_channel")


def imports_line_client(path: Path) -> bool:
    return any(
        module == client or module.startswith(client + ".")
        for module in modules_imported(path)
        for client in LINE_CLIENT
    )


def test_care_does_not_import_lines_client() -> None:
    """The service layer asks LINE only through what it describes (ground.line_platform) and
    tells people through the outbox; the client and its SDK are the surfaces' and the sender's
    (rich-menu upkeep runs with LINE's other jobs, in scheduler/)."""
    assert [p for p in sorted((ROOT / "care").rglob("*.py")) if imports_line_client(p)] == []


def test_the_other_channels_do_not_import_line() -> None:
    """The neutral send result is the channels' (ground/channels.py): the phone's channel and
    the test's text gateway send without LINE's client."""
    neutral = ["ground/channels.py", "ground/voice.py", "ground/line_platform.py"]
    neutral.append("tests/fake_texting.py")
    assert [p for p in neutral if imports_line_client(ROOT / p)] == []


def import_circles(package: Path) -> list[list[str]]:
    """Circles among a package's modules by their module-level imports (an import inside a
    function is a dependency, but not one Python must resolve while loading)."""
    modules = {}
    for path in package.rglob("*.py"):
        name = ".".join(path.relative_to(package.parent).with_suffix("").parts)
        modules[name.removesuffix(".__init__")] = path
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found = set()
        for node in ast.parse(path.read_text("utf-8")).body:
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    full = f"{node.module}.{alias.name}"
                    found.add(full if full in modules else node.module)
            elif isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
        graph[name] = {m for m in found if m in modules and m != name}
    circles = []
    for start in sorted(graph):
        # Depth-first from each module: a path back to it is a circle (named once, from its
        # smallest module).
        stack = [(start, [start])]
        while stack:
            here, path = stack.pop()
            for nxt in sorted(graph[here]):
                if nxt == start and start == min(path):
                    circles.append(path)
                elif nxt not in path and nxt > start:
                    stack.append((nxt, [*path, nxt]))
    return circles


def test_care_has_no_import_circle() -> None:
    """A circle (invites → people → teams → invites, once) loads only because Python tolerates
    half-imported modules: it breaks the day someone imports a name instead of the module."""
    assert import_circles(ROOT / "care") == []


def test_a_circle_is_found(tmp_path: Path) -> None:
    (tmp_path / "care").mkdir()
    (tmp_path / "care" / "__init__.py").write_text("")
    (tmp_path / "care" / "a.py").write_text("from care import b\n")
    (tmp_path / "care" / "b.py").write_text("from care.c import thing\n")
    (tmp_path / "care" / "c.py").write_text("import care.a\n")
    assert import_circles(tmp_path / "care") == [["care.a", "care.b", "care.c"]]


def test_care_is_in_rooms() -> None:
    """A newcomer finds a module by what it is about: care/ holds only the services object, the
    refusals and what the whole service shares; the rest lives in its room."""
    top = sorted(p.stem for p in (ROOT / "care").glob("*.py"))
    assert top == ["__init__", "errors", "health", "services", "set_aside", "tellers"]
    rooms = sorted(p.parent.name for p in (ROOT / "care").glob("*/__init__.py"))
    assert rooms == ["broadcasts", "desk", "groups", "members", "privacy", "roster", "rounds"]


def private_imports(root: Path) -> list[str]:
    """`from x import _y` where x is a module of the project: a name with a leading
    underscore is its module's own, and what another module needs belongs in a public name."""
    project = packages(root)
    wrong = []
    for path in sorted(root.rglob("*.py")):
        if any(part.startswith(".") for part in path.relative_to(root).parts):
            continue
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if not isinstance(node, ast.ImportFrom):
                continue
            module = node.module or ""
            if node.level == 0 and module.split(".")[0] not in project:
                continue
            for alias in node.names:
                if alias.name.startswith("_"):
                    where = "." * node.level + module
                    wrong.append(f"{path.relative_to(root)} imports {where}.{alias.name}")
    return wrong


def test_no_module_imports_another_modules_private_name() -> None:
    assert private_imports(ROOT) == []


def test_a_private_import_is_found(tmp_path: Path) -> None:
    for package in ("admin", "liff"):
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "admin" / "desk.py").write_text(
        "from os import _exit\nfrom admin.views import _page, page\nfrom .render import _cached\n"
    )
    assert private_imports(tmp_path) == [
        "admin/desk.py imports admin.views._page",
        "admin/desk.py imports .render._cached",
    ]
