"""The city's roster file read line by line: its encoding found (UTF-8 with or without a BOM,
or Shift_JIS as Japanese offices' Excel writes it), its columns named by the header or in the
documented order, and each line either a person or refused with every reason found."""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass, field

from care.rounds import calls, numbers

# What the console takes: the console's request limit (1 MB, the server's) less the form.
MAX_BYTES = 900 * 1024
MAX_LINES = 10_000
LIMITS = {"roster_id": 40, "name": 50, "furigana": 100, "address": 200, "phone": 30, "carer": 50}
COLUMNS = ("roster_id", "name", "furigana", "address", "phone", "carer", "consent")
# How a city's header names each column (NFKC, lower case, spaces and brackets taken out).
HEADERS = {
    "roster_id": ("id", "名簿id", "番号", "名簿番号", "管理番号"),
    "name": ("氏名", "名前", "氏名漢字"),
    "furigana": ("ふりがな", "フリガナ", "よみがな", "カナ氏名", "氏名カナ"),
    "address": ("住所",),
    "phone": ("電話", "電話番号", "連絡先"),
    "carer": (
        "担当",
        "担当民生委員",
        "担当民生委員または町会",
        "担当民生委員町会",
        "町会",
        "担当者",
    ),
    "consent": ("平常時同意", "同意", "情報提供同意", "平常時の情報提供への同意"),
}
YES = frozenset(
    {"同意", "有", "あり", "有り", "はい", "済", "○", "〇", "◯", "1", "yes", "y", "true"}
)
NO = frozenset({"不同意", "無", "なし", "無し", "いいえ", "未", "×", "0", "no", "n", "false", ""})


class FileRefused(Exception):
    """The whole file is refused (too large, an encoding it is not in, too many lines)."""

    def __init__(self, reason: str, **values: object) -> None:
        super().__init__(reason)
        self.reason = reason
        self.values = values


@dataclass(frozen=True)
class Line:
    """One line of the file: the person it lists, or why it is refused (`problems`: locale
    keys' last parts, each with its values)."""

    number: int  # as a spreadsheet counts it, the header being line 1
    roster_id: str
    values: dict[str, object] = field(default_factory=dict)
    problems: list[tuple[str, dict[str, object]]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def decoded(data: bytes) -> tuple[str, str]:
    """(text, encoding): UTF-8 (a BOM or none), else Shift_JIS (CP932, Excel's in Japan)."""
    if len(data) > MAX_BYTES:
        raise FileRefused("too_large", limit=MAX_BYTES // 1024)
    if not data.strip():
        raise FileRefused("empty")
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict"), "UTF-8 (BOM)"
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp932"), "Shift_JIS"
    except UnicodeDecodeError:
        raise FileRefused("encoding") from None


def _header_key(cell: str) -> str:
    plain = unicodedata.normalize("NFKC", cell).lower()
    return "".join(ch for ch in plain if ch not in " \u3000()（）・/／_-")


def _columns(first: list[str]) -> dict[str, int] | None:
    """Which cell holds each column, when the first line is a header; None when it is not."""
    found: dict[str, int] = {}
    for index, cell in enumerate(first):
        key = _header_key(cell)
        for column, names in HEADERS.items():
            if key in names and column not in found:
                found[column] = index
    if not found:
        return None
    return found


def _clean(text: str) -> str:
    """NFKC for what a person typed in a spreadsheet (full-width digits and letters), spaces
    at either end taken off; kana and kanji stay as written."""
    return unicodedata.normalize("NFKC", text).strip()


def _has_control(text: str) -> bool:
    return any(unicodedata.category(ch) == "Cc" for ch in text)


# Characters a spreadsheet shows as nothing: every format character (Unicode's Cf: the bidi
# controls U+202A-U+202E, U+2066-U+2069, U+061C, U+200E-U+200F, the zero-width U+200B-U+200D
# and U+2060, a BOM inside a cell, but also the soft hyphen U+00AD, the invisible operators
# U+2061-U+2064, U+180E and the tags U+E0000-U+E007F) and the letters drawn blank (the Hangul
# fillers). A name holding one reads as another on the tally, the letter and the carer's list
# (U+202E turns it round), and two people look alike who are not; an ID holding one is
# another ID, so the update by ID would take the person off the register and add a stranger
# in her name. The line is refused, not cleaned, since which name the city meant is the
# city's to say. (異体字's variation selectors are not Cf: they stay.)
BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0")


def _has_invisible(text: str) -> bool:
    return any(unicodedata.category(ch) == "Cf" or ch in BLANK_LETTERS for ch in text)


def read(text: str, countries: frozenset[str]) -> tuple[list[Line], dict[str, int]]:
    """Every line of the file, read. -> (lines, columns as found). Empty lines are skipped."""
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        raise FileRefused("empty")
    columns = _columns(rows[0])
    start = 1
    if columns is None:
        columns = {column: index for index, column in enumerate(COLUMNS)}
        start = 0
    missing = [c for c in ("roster_id", "name") if c not in columns]
    if missing:
        raise FileRefused("columns", missing=", ".join(missing))
    if len(rows) - start > MAX_LINES:
        raise FileRefused("too_many", limit=MAX_LINES)
    lines = [
        _line(number, row, columns, countries)
        for number, row in enumerate(rows[start:], start=start + 1)
        if any(cell.strip() for cell in row)
    ]
    return _duplicates(lines), columns


def _line(number: int, row: list[str], columns: dict[str, int], countries: frozenset[str]) -> Line:
    problems: list[tuple[str, dict[str, object]]] = []
    raw = {c: (row[i] if i < len(row) else "") for c, i in columns.items()}
    if len(row) < max(columns.values()) + 1:
        problems.append(("short", {"found": len(row), "wanted": max(columns.values()) + 1}))
    values: dict[str, object] = {}
    for column in COLUMNS:
        value = _clean(raw.get(column, ""))
        if column in LIMITS and len(value) > LIMITS[column]:
            problems.append(("too_long", {"column": column, "limit": LIMITS[column]}))
        if _has_control(value):
            problems.append(("control", {"column": column}))
        if _has_invisible(raw.get(column, "")):
            problems.append(("invisible", {"column": column}))
        values[column] = value
    roster_id = str(values.pop("roster_id"))
    if not roster_id:
        problems.append(("no_id", {}))
    if not values["name"]:
        problems.append(("no_name", {}))
    phone = str(values["phone"])
    if phone:
        dialled = calls.e164(phone)
        if dialled is None or numbers.refusal(dialled, countries) is not None:
            problems.append(("bad_phone", {"phone": phone}))
    consent = str(values["consent"]).lower()
    if consent in YES:
        values["consent"] = True
    elif consent in NO:
        values["consent"] = False
    else:
        problems.append(("bad_consent", {"value": values["consent"]}))
    return Line(number, roster_id, values, problems)


def _duplicates(lines: list[Line]) -> list[Line]:
    """An ID on two lines refuses both: which one is the person is the city's to say."""
    seen: dict[str, list[int]] = {}
    for line in lines:
        if line.roster_id:
            seen.setdefault(line.roster_id, []).append(line.number)
    for line in lines:
        others = [n for n in seen.get(line.roster_id, []) if n != line.number]
        if others:
            line.problems.append(("duplicate_id", {"lines": ", ".join(map(str, others))}))
    return lines
