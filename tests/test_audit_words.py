"""The audit log in words (issue 40): every action code the code writes has its words in the
console's locales, and the log shows them with the raw code kept for the 監査 role's exports.

The codes are read from the source (as a reviewer would grep them): every call that writes an
audit line, with its action followed through variables, parameters and the functions that
pass it on, so that a new code without words fails here rather than showing raw in the log."""

from __future__ import annotations

import ast
import string
from collections.abc import Iterator
from pathlib import Path

from admin.audit_log import words_key
from tests.conftest import Bot
from tests.drivers import area_team, staff_signed_in, start_roll_call
from tests.wording import EN, JA, t

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("admin", "bot", "care", "ground", "liff", "mimamori", "phone", "scheduler", "server")
PACKAGES += ("storage",)
# Where an action code goes in: (function, its position among the arguments, its name).
SINKS = {("audit", 1, "action"), ("audit_view", 1, "action"), ("Spend", 0, "action")}
# A placeholder no reading of the source can follow (the action a form names, checked
# against a table): where its values come from.
FORM_CHOSEN = {
    "team_{action}": lambda: __import__("admin.teams").teams.TEAM_ACTIONS,
    "admin_{action}": lambda: __import__("admin.accounts").accounts.CHANGES,
}
WORDS = "admin.reach40.action"


def _modules() -> Iterator[tuple[Path, ast.Module]]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            yield path, ast.parse(path.read_text("utf-8"))


def _name(call: ast.Call) -> str | None:
    func = call.func
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)


def _params(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    """Its parameters in the order a call passes them (keyword-only ones last)."""
    arguments = function.args
    names = [a.arg for a in arguments.posonlyargs + arguments.args + arguments.kwonlyargs]
    return names[1:] if names and names[0] in ("self", "cls") else names


class Codes:
    """The action codes the source writes, and what it could not follow."""

    def __init__(self) -> None:
        self.modules = list(_modules())
        self.constants: dict[str, ast.expr] = {}
        self.functions: list[tuple[ast.AsyncFunctionDef | ast.FunctionDef, Path]] = []
        for path, module in self.modules:
            for node in module.body:
                if not isinstance(node, ast.Assign):
                    continue
                target, value = node.targets[0], node.value
                if isinstance(target, ast.Name):
                    self.constants.setdefault(target.id, value)
                elif isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple):
                    for name, each in zip(target.elts, value.elts, strict=True):
                        if isinstance(name, ast.Name):
                            self.constants.setdefault(name.id, each)
            for node in ast.walk(module):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    self.functions.append((node, path))
        self.found: set[str] = set()
        self.unfollowed: list[str] = []

    def read(self) -> None:
        sinks, done = set(SINKS), set()
        while sinks - done:
            sink = next(iter(sinks - done))
            done.add(sink)
            for function, path in self.functions:
                for call in ast.walk(function):
                    if isinstance(call, ast.Call) and _name(call) == sink[0]:
                        argument = self._argument(call, sink)
                        if argument is not None:
                            where = f"{path.relative_to(ROOT)}:{call.lineno}"
                            for value in self._values(argument, function, where, sinks):
                                self.found.add(value)

    @staticmethod
    def _argument(call: ast.Call, sink: tuple[str, int, str]) -> ast.expr | None:
        for keyword in call.keywords:
            if keyword.arg == sink[2]:
                return keyword.value
        return call.args[sink[1]] if len(call.args) > sink[1] else None

    def _values(
        self,
        expr: ast.expr,
        function: ast.FunctionDef | ast.AsyncFunctionDef,
        where: str,
        sinks: set[tuple[str, int, str]],
    ) -> list[str]:
        if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
            return [expr.value]
        if isinstance(expr, ast.IfExp):
            return self._values(expr.body, function, where, sinks) + self._values(
                expr.orelse, function, where, sinks
            )
        if isinstance(expr, ast.Attribute) and expr.attr == "action":
            return []  # a Spend's action: its constructor is read as a sink
        if isinstance(expr, ast.Await) and isinstance(expr.value, ast.Call):
            returned = self._returned(_name(expr.value))
            if returned:
                return returned
        if isinstance(expr, ast.JoinedStr):
            return self._joined(expr, function, where, sinks)
        if isinstance(expr, ast.Name):
            params = _params(function)
            if expr.id in params:
                # Passed in: the callers' values are read where they call this function.
                sinks.add((function.name, params.index(expr.id), expr.id))
                return []
            assigned = [
                node.value
                for node in ast.walk(function)
                if isinstance(node, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == expr.id for t in node.targets)
            ]
            if not assigned and expr.id in self.constants:
                assigned = [self.constants[expr.id]]
            if assigned:
                return [
                    v for value in assigned for v in self._values(value, function, where, sinks)
                ]
        self.unfollowed.append(f"{where}: {ast.unparse(expr)}")
        return []

    def _joined(
        self,
        expr: ast.JoinedStr,
        function: ast.FunctionDef | ast.AsyncFunctionDef,
        where: str,
        sinks: set[tuple[str, int, str]],
    ) -> list[str]:
        pattern = ast.unparse(expr)[2:-1]
        if pattern in FORM_CHOSEN:
            prefix = pattern.split("{", 1)[0]
            return [prefix + key for key in FORM_CHOSEN[pattern]()]
        made = [""]
        for part in expr.values:
            if isinstance(part, ast.Constant):
                made = [m + str(part.value) for m in made]
                continue
            assert isinstance(part, ast.FormattedValue)
            inner = part.value
            if isinstance(inner, ast.Name) and inner.id in _params(function):
                choices = self._passed(function, inner.id)
            else:
                choices = self._values(inner, function, where, sinks)
            if not choices:
                self.unfollowed.append(f"{where}: {pattern}")
                return []
            made = [m + c for m in made for c in choices]
        return made

    def _returned(self, name: str | None) -> list[str]:
        """The codes a function of that name returns (a refusal it names)."""
        return [
            node.value.value
            for function, _ in self.functions
            if function.name == name
            for node in ast.walk(function)
            if isinstance(node, ast.Return)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ]

    def _passed(self, function: ast.FunctionDef | ast.AsyncFunctionDef, name: str) -> list[str]:
        """What the callers of `function` pass as its parameter `name` (constants only)."""
        index = _params(function).index(name)
        found = []
        for caller, _ in self.functions:
            for call in ast.walk(caller):
                if isinstance(call, ast.Call) and _name(call) == function.name:
                    argument = self._argument(call, (function.name, index, name))
                    if argument is None:
                        continue
                    if isinstance(argument, ast.Name) and argument.id in self.constants:
                        argument = self.constants[argument.id]
                    if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                        found.append(argument.value)
                    elif isinstance(argument, ast.Name):
                        found += (
                            self._passed(caller, argument.id)
                            if argument.id in _params(caller)
                            else []
                        )
        return found


def test_every_action_code_has_its_words() -> None:
    codes = Codes()
    codes.read()
    assert not codes.unfollowed, f"action codes the test cannot follow: {codes.unfollowed}"
    assert {"desk_viewed", "notice_sent", "rollcall_console", "login"} <= codes.found
    for locale in (JA, EN):
        missing = sorted(c for c in codes.found if words_key(locale, c) not in locale.texts)
        assert not missing, f"{locale.language}: no words for {missing}"
        # An action's words name no value: the row's detail says which.
        fields = [
            words_key(locale, c)
            for c in codes.found
            if any(
                f for _, f, _, _ in string.Formatter().parse(locale.texts[words_key(locale, c)])
            )
        ]
        assert not fields, fields


async def test_the_log_says_each_action_in_words_and_keeps_the_code(bot: Bot) -> None:
    """desk_viewed and `case 1` were what the log showed: now words, the raw code in its own
    column (and the row's data), the raw detail in the readable one's title."""
    await area_team(bot, "district", 1)
    await staff_signed_in(bot)
    roll_call_id = await start_roll_call(bot, audience="everyone")
    assert (await bot.client.get(f"/admin/rollcalls/{roll_call_id}")).status == 200
    page = await (await bot.client.get("/admin/audit")).text()
    for code in ("login", "rollcall_console", "rollcall_viewed"):
        assert f'data-action="{code}"' in page
        assert t(f"{WORDS}.{code}") in page
        assert f"<code>{code}</code>" in page, "the raw code stays on the page"
    assert t("admin.reach40.detail.roll_call", id=roll_call_id) in page
    assert f'title="roll-call {roll_call_id}"' in page
    # The raw code filters the log as before.
    filtered = await (await bot.client.get("/admin/audit?action=rollcall_viewed")).text()
    assert t(f"{WORDS}.rollcall_viewed") in filtered
    assert t(f"{WORDS}.login") not in filtered
