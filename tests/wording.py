"""What the bot says, looked up through the locales: tests assert meaning, not copy.

`says(text, "checkin.thanks")` holds when `text` contains that sentence, with the values
given filled in and any other placeholder free; rewording `locales/ja.toml` breaks no test.
"""

from __future__ import annotations

import re
import string
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from ground.i18n import I18n, Locale

LOCALES = I18n.load(ZoneInfo("Asia/Tokyo"))
JA = LOCALES.get("ja")
EN = LOCALES.get("en")


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
