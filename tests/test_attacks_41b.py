"""Issue 41, attacked again after the storm reader learnt the 特別警報 bulletin and the legacy
summary, and the gaps were closed: what a resident, the city's staff and JMA's feed could make
go wrong, each shown failing before its fix."""

from __future__ import annotations

import re

import pytest

from care.broadcasts import storm
from tests.conftest import Bot
from tests.drivers import (
    STORM_DOCUMENTS,
    add_admin,
    commit,
    login,
    roster,
    upload,
)

RECORDED = STORM_DOCUMENTS / "recorded"
OSHIMA = frozenset({"1336100"})  # 大島町, under the 大雨特別警報 of 2026-09-07
HIMEJI = frozenset({"2820100"})  # 姫路市, under the レベル４大雨危険警報 of 2026-09-14
SUMMARY = storm.SUMMARY


def recorded(file: str) -> str:
    return (RECORDED / file).read_text("utf-8")


def hyogo(reported_at: str, notice: str) -> str:
    """Hyōgo's summary of 2026-09-14 as if issued at `reported_at`, its Notice `notice`."""
    text = recorded("vpww53_hyogo_danger_20260914_trimmed.xml")
    text = text.replace("2026-09-14T20:31:00+09:00", reported_at)
    old = "〈レベル４大雨危険警報〉姫路市　たつの市　多可町＊"
    assert old in text
    return text.replace(old, notice)


# 1. The register's import: a character a spreadsheet shows as nothing.


@pytest.mark.parametrize(
    "hidden",
    [
        "\u00ad",  # SOFT HYPHEN: shown nowhere but at a line's end
        "\u2062",  # INVISIBLE TIMES
        "\u180e",  # MONGOLIAN VOWEL SEPARATOR
        "\U000e0041",  # TAG LATIN CAPITAL LETTER A
        "\u3164",  # HANGUL FILLER: a letter, drawn blank
    ],
)
async def test_every_invisible_character_in_a_register_line_is_refused(
    bot: Bot, hidden: str
) -> None:
    """An ID with a soft hyphen looks like R001 and is another ID: the update by ID would take
    the person off the register (missing from the file) and add a stranger in her name."""
    await add_admin(bot)
    await login(bot.client)
    lines = [
        "ID,氏名,ふりがな,住所,電話,担当,平常時同意",
        "B001,名簿の方A,めいぼのかたえー,本町1丁目1-1,,民生委員 東地区,同意",
        f"B0{hidden}02,名簿の方B,めいぼのかたびー,本町1丁目1-2,,民生委員 東地区,同意",
        f"B003,名簿の{hidden}方C,めいぼのかたしー,本町1丁目1-3,,民生委員 東地区,同意",
    ]
    preview = await upload(bot.client, "hidden.csv", "\n".join(lines).encode())
    found: dict[int, list[str]] = {}
    for line, cell in re.findall(r'<tr data-line="(\d+)">(.*?)</tr>', preview, re.S):
        found[int(line)] = re.findall(r'data-reason="(\w+)"', cell)
    assert found == {3: ["invisible"], 4: ["invisible"]}
    status, page = await commit(bot.client, preview)
    assert status == 200, page
    assert set(await roster(bot)) == {"B001"}
