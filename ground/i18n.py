"""Every sentence a person reads, from `locales/*.toml` (Japanese first), with overrides."""

from __future__ import annotations

import logging
import string
import tomllib
from dataclasses import dataclass
from datetime import date, datetime
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

log = logging.getLogger("mimamori.i18n")

DEFAULT_LANGUAGE = "ja"


class LocaleError(ValueError):
    """A deployment's locale override cannot be read."""


@dataclass(frozen=True)
class Locale:
    language: str
    texts: dict[str, str]
    quotes: tuple[str, ...]
    timezone: ZoneInfo

    def t(self, key: str, **values: Any) -> str:
        return self.texts[key].format(**values)

    def when(self, moment: datetime | None) -> str:
        """A moment as a person reads it, in the deployment's time zone."""
        if moment is None:
            return self.t("time.never")
        local = moment.astimezone(self.timezone)
        return self.t(
            "time.datetime",
            year=local.year,
            month=local.month,
            day=local.day,
            hour=local.hour,
            minute=local.minute,
            weekday=self.texts["time.weekdays"].split(",")[local.weekday()],
        )

    def day(self, day: date) -> str:
        """A local date as a person reads it (the last day of a pause)."""
        return self.t(
            "time.date",
            year=day.year,
            month=day.month,
            day=day.day,
            weekday=self.texts["time.weekdays"].split(",")[day.weekday()],
        )

    def short_day(self, day: date) -> str:
        """A local date, short (the history chart's axis)."""
        return self.t("time.short_date", month=day.month, day=day.day)

    def schedule(self, interval_days: int | None, hour: int | None) -> str:
        if interval_days is None or hour is None:
            return self.t("schedule.none")
        key = "schedule.daily" if interval_days == 1 else "schedule.every"
        return self.t(key, days=interval_days, hour=hour)

    def section(self, prefix: str) -> dict[str, str]:
        """The texts under `prefix.`, keyed without it (what a page's script is given)."""
        start = f"{prefix}."
        return {k.removeprefix(start): v for k, v in self.texts.items() if k.startswith(start)}

    def quote_of_the_day(self, day: date) -> str:
        # The same index in every language, so one day's check-in says the same thing to all.
        return self.quotes[day.toordinal() % len(self.quotes)]


class I18n:
    def __init__(self, locales: dict[str, Locale]) -> None:
        self._locales = locales
        # Japanese first, then its varieties (やさしい日本語), then the rest.
        self._languages = tuple(
            sorted(locales, key=lambda code: (code != DEFAULT_LANGUAGE, code[:2] != "ja", code))
        )

    @classmethod
    def load(cls, timezone: ZoneInfo, overrides: Path | None = None) -> I18n:
        locales = {}
        bases: dict[str, str] = {}
        for entry in resources.files("locales").iterdir():
            if not entry.name.endswith(".toml"):
                continue
            language = entry.name.removesuffix(".toml")
            data = tomllib.loads(entry.read_text("utf-8"))
            if overrides is not None and (overrides / entry.name).is_file():
                # A deployment rewords any text (its own check-in wording) without code changes.
                path = overrides / entry.name
                try:
                    extra = tomllib.loads(path.read_text("utf-8"))
                except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
                    raise LocaleError(f"{path}: {error}") from None
                _check_override(path, flatten(data.get("texts", {})), extra)
                data = _merge(data, extra)
            texts = flatten(data.get("texts", {}))
            quotes = tuple(data.get("quotes", ())) or ("",)
            locales[language] = Locale(language, texts, quotes, timezone)
            if "base" in data.get("meta", {}):
                bases[language] = str(data["meta"]["base"])
        if DEFAULT_LANGUAGE not in locales:
            raise RuntimeError("locales/ja.toml is missing")
        for language, base in bases.items():
            # A variety of a language (やさしい日本語) writes what a person reads; the console's
            # texts, for staff, come from the language it is a variety of.
            own = locales[language]
            texts = {**locales[base].texts, **own.texts}
            quotes = own.quotes if own.quotes != ("",) else locales[base].quotes
            locales[language] = Locale(language, texts, quotes, timezone)
        return cls(locales)

    @property
    def languages(self) -> tuple[str, ...]:
        return self._languages

    def get(self, language: str | None) -> Locale:
        """The locale for a LINE profile language ("ja", "en", "zh-Hant", ...)."""
        if language:
            if language.lower() in self._locales:
                return self._locales[language.lower()]
            base = language.split("-")[0].lower()
            if base in self._locales:
                return self._locales[base]
        return self._locales[DEFAULT_LANGUAGE]


def first_language(accept_language: str) -> str | None:
    """A web page's language from the browser's Accept-Language, before LINE says who calls."""
    return accept_language.split(",")[0].split(";")[0].strip() or None


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def _check_override(path: Path, base: dict[str, str], extra: dict[str, Any]) -> None:
    """An override may reword a text, not invent keys or ask for values nobody passes."""
    for key, text in flatten(extra.get("texts", {})).items():
        if key not in base:
            raise LocaleError(f"{path}: unknown text {key!r}")
        unknown = placeholders(text) - placeholders(base[key])
        if unknown:
            raise LocaleError(f"{path}: {key} uses {sorted(unknown)}, not available there")


def flatten(data: dict[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = str(value)
    return flat


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged
