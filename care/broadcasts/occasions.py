"""What a roll-call says happened: the warning that started it (its occasion, landslide:4,
as care.broadcasts.storm names it; quake:5+ for an earthquake), or a disaster in general;
in LINE's words and a call's. Apart from care.broadcasts.rollcall so that its phone calls
(care.broadcasts.by_phone, which rollcall imports) say the same without an import circle."""

from __future__ import annotations

from ground.i18n import Locale


def body(locale: Locale, occasion: str | None, on_call: bool = False) -> str:
    """What the question says happened: the warning that started it (レベル4土砂災害危険警報),
    or a disaster in general. `on_call`: as a roll-call's phone call says it, with its keys
    (care.broadcasts.by_phone), since a call has no buttons to tap."""
    if not occasion:
        return locale.t("phone41.call.question" if on_call else "rollcall.body")
    key = "gaps41.call.warning" if on_call else "storm41.body"
    return locale.t(key, warning=warning_name(locale, occasion))


# An earthquake's occasion (quake:5+) names its strongest seismic intensity in the city.
QUAKE_SCALES = {
    "1": "s1", "2": "s2", "3": "s3", "4": "s4", "5-": "s5lower", "5+": "s5upper",
    "6-": "s6lower", "6+": "s6upper", "7": "s7",
}  # fmt: skip


def quake_occasion(scale: str) -> str:
    return f"quake:{scale}"


def warning_name(locale: Locale, occasion: str) -> str:
    """landslide:4 -> レベル4土砂災害危険警報, quake:5+ -> 震度5強の地震の情報, in the reader's
    words."""
    hazard, level = occasion.rsplit(":", 1)
    if hazard == "quake":
        scale = locale.t(f"quake41.scale.{QUAKE_SCALES[level]}")
        return locale.t("quake41.name", scale=scale)
    return locale.t(
        "storm41.name",
        level=level,
        hazard=locale.t(f"storm41.hazard.{hazard}"),
        rank=locale.t(f"storm41.rank.level{level}"),
    )
