"""Every link inside the README and docs/ leads somewhere: a relative link names a file or folder
that exists, and an #anchor names a heading of the Markdown file it points to, as GitHub makes
anchors from headings. External links (http, mailto) are not fetched."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.S | re.M)
INLINE_CODE = re.compile(r"`[^`\n]+`")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.M)
ELSEWHERE = ("http://", "https://", "mailto:", "tel:")


def prose(text: str) -> str:
    """The text without code: a link written inside a code block is an example, not a link."""
    return INLINE_CODE.sub("", FENCE.sub("", text))


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: the text as shown (links and code marks gone), lower
    case, punctuation dropped (letters of every script and digits kept), spaces as hyphens."""
    shown = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    shown = re.sub(r"[*_`]", "", shown).strip().lower()
    return re.sub(r"[^\w\- ]", "", shown).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    found: set[str] = set()
    for heading in HEADING.findall(prose(page.read_text("utf-8"))):
        base = slug(heading)
        anchor, n = base, 0
        while anchor in found:  # a repeated heading gets -1, -2, ... as on GitHub
            n += 1
            anchor = f"{base}-{n}"
        found.add(anchor)
    return found


def broken_links(page: Path) -> list[str]:
    broken = []
    for target in LINK.findall(prose(page.read_text("utf-8"))):
        if target.startswith(ELSEWHERE):
            continue
        path_part, _, anchor = unquote(target).partition("#")
        linked = (page.parent / path_part).resolve() if path_part else page
        if not linked.exists():
            broken.append(f"{target}: no such file")
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            broken.append(f"{target}: no heading makes #{anchor}")
    return broken


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_every_link_leads_somewhere(page: Path) -> None:
    assert broken_links(page) == []


def test_the_checker_finds_what_is_broken(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text("# 導入と運用（概要）\n\n## Set-up, step 1\n", "utf-8")
    page = tmp_path / "page.md"
    page.write_text(
        "[ok](other.md#導入と運用概要) [ok](other.md#set-up-step-1) [ok](#here)\n"
        "[gone](missing.md) [no anchor](other.md#nowhere) [web](https://example.jp/x)\n"
        "`[in code](missing.md)`\n\n## Here\n",
        "utf-8",
    )
    assert broken_links(page) == [
        "missing.md: no such file",
        "other.md#nowhere: no heading makes #nowhere",
    ]


def test_no_page_keeps_a_merge_conflict() -> None:
    """A conflict's markers left in a page read as text nobody meant (code and locales would
    not even load; a page would)."""
    markers = ("<<<<<<< ", "=======\n", ">>>>>>> ")
    left = [
        f"{page.relative_to(ROOT)}:{number}"
        for page in PAGES
        for number, line in enumerate(page.read_text("utf-8").splitlines(keepends=True), 1)
        if line.startswith(markers)
    ]
    assert left == []
