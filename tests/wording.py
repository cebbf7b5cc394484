"""What the bot says, looked up through the locales: tests assert meaning, not copy.

`says(text, "checkin.thanks")` holds when `text` contains that sentence, with the values
given filled in and any other placeholder free; rewording `locales/ja.toml` breaks no test.
"""

from __future__ import annotations

import json
import os
import re
import string
import tempfile
import tomllib
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ground.i18n import I18n, Locale, flatten

EASY_LANGUAGE = "ja-x-easy"  # やさしい日本語
LOCALE_FILES = Path(__file__).resolve().parents[1] / "locales"

_HIRAGANA = {code: code + 0x60 for code in range(0x3041, 0x3097)}


def reworded(text: str) -> str:
    """The same sentence written otherwise (hiragana as katakana, the same length, the same
    placeholders): a copy-pasted sentence in a test no longer matches it."""
    parts = []
    for literal, field, spec, conversion in string.Formatter().parse(text):
        parts.append(literal.translate(_HIRAGANA).replace("{", "{{").replace("}", "}}"))
        if field is not None:
            parts.append(
                "{"
                + field
                + (f"!{conversion}" if conversion else "")
                + (f":{spec}" if spec else "")
                + "}"
            )
    return "".join(parts)


def write_reworded_overrides(folder: Path) -> Path:
    """A deployment's override folder that rewords every Japanese sentence, やさしい日本語's
    too (the keys its own file writes)."""
    texts = I18n.load(ZoneInfo("Asia/Tokyo")).get("ja").texts
    _write_reworded(folder / "ja.toml", texts)
    easy = tomllib.loads((LOCALE_FILES / f"{EASY_LANGUAGE}.toml").read_text("utf-8"))
    _write_reworded(folder / f"{EASY_LANGUAGE}.toml", flatten(easy["texts"]))
    return folder


def _write_reworded(path: Path, texts: dict[str, str]) -> None:
    lines = ["[texts]"] + [
        f"{key} = {json.dumps(reworded(value), ensure_ascii=False)}"
        for key, value in texts.items()
    ]
    path.write_text("\n".join(lines) + "\n", "utf-8")


# MIMAMORI_TEST_REWORDED=1 runs the suite against reworded Japanese: a test that repeats a
# sentence instead of looking it up here fails.
REWORDED = (
    write_reworded_overrides(Path(tempfile.mkdtemp(prefix="mimamori-reworded-")))
    if os.environ.get("MIMAMORI_TEST_REWORDED") == "1"
    else None
)
LOCALES = I18n.load(ZoneInfo("Asia/Tokyo"), REWORDED)
JA = LOCALES.get("ja")
EN = LOCALES.get("en")
EASY = LOCALES.get(EASY_LANGUAGE)


def t(key: str, **values: Any) -> str:
    """The Japanese sentence, as the bot says it to a person whose LINE speaks Japanese."""
    return JA.t(key, **values)


def when(moment: datetime) -> str:
    return JA.when(moment)


def pattern(key: str, locale: Locale = JA, **values: Any) -> re.Pattern[str]:
    """The sentence `key` as a regular expression: given values in place, the others free."""
    parts = []
    for literal, field, spec, conversion in string.Formatter().parse(locale.texts[key]):
        parts.append(re.escape(literal))
        if field is None:
            continue
        if field in values:
            value = values[field]
            if conversion == "r":
                value = repr(value)
            parts.append(re.escape(format(value, spec or "")))
        else:
            parts.append(".*?")
    return re.compile("".join(parts), re.S)


def says(text: str, key: str, locale: Locale = JA, **values: Any) -> bool:
    return pattern(key, locale, **values).search(text) is not None


def said(texts: list[str], key: str, locale: Locale = JA, **values: Any) -> list[str]:
    """The texts among `texts` that say `key`."""
    found = pattern(key, locale, **values)
    return [text for text in texts if found.search(text)]
