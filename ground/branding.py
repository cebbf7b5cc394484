"""The deployment's brand: banner, terms of use, service name, colours, contact.

A folder (`MIMAMORI_BRANDING`) with `banner.png`, `terms.md` or `terms.html` and `service.toml`
overrides the defaults in `liff/branding_default/`; whatever it lacks falls back to them. Files are
read when a page is served, so a new banner or new terms need no rebuild.
"""

from __future__ import annotations

import html
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

DEFAULTS = Path(__file__).resolve().parent / "branding_default"
_COLOUR = re.compile(r"^#[0-9a-fA-F]{3,8}$")
BANNER_NAMES = ("banner.png", "banner.jpg", "banner.svg")
TERMS_NAMES = ("terms.html", "terms.md")  # the deployment's own HTML first


@dataclass(frozen=True)
class Branding:
    service_name: str
    contact: str
    colours: dict[str, str]
    banner: Path
    terms_html: str


def load_branding(folder: Path | None) -> Branding:
    service = tomllib.loads((DEFAULTS / "service.toml").read_text("utf-8"))
    custom = folder / "service.toml" if folder else None
    if custom is not None and custom.is_file():
        extra = tomllib.loads(custom.read_text("utf-8"))
        service = {
            **service,
            **extra,
            "colours": {**service["colours"], **extra.get("colours", {})},
        }
    colours = {
        name: value for name, value in service["colours"].items() if _COLOUR.match(str(value))
    }
    return Branding(
        service_name=str(service["name"]),
        contact=str(service.get("contact", "")),
        colours=colours,
        banner=_first(folder, BANNER_NAMES),
        terms_html=_terms(folder),
    )


def _first(folder: Path | None, names: tuple[str, ...]) -> Path:
    for base in (folder, DEFAULTS):
        if base is None:
            continue
        for name in names:
            if (base / name).is_file():
                return base / name
    raise FileNotFoundError(names)


def _terms(folder: Path | None) -> str:
    for base in (folder, DEFAULTS):
        if base is None:
            continue
        if (base / "terms.html").is_file():
            # The deployment's own HTML: trusted like its banner.
            return (base / "terms.html").read_text("utf-8")
        if (base / "terms.md").is_file():
            return markdown_to_html((base / "terms.md").read_text("utf-8"))
    return ""


def markdown_to_html(text: str) -> str:
    """The little Markdown terms of use need: headings, lists, paragraphs; everything escaped."""
    blocks: list[str] = []
    paragraph: list[str] = []
    items: list[str] = []

    def flush() -> None:
        if paragraph:
            blocks.append("<p>" + "<br>".join(paragraph) + "</p>")
            paragraph.clear()
        if items:
            blocks.append("<ul>" + "".join(f"<li>{item}</li>" for item in items) + "</ul>")
            items.clear()

    for raw in text.splitlines():
        line = raw.strip()
        heading = re.match(r"^(#{1,3})\s+(.*)$", line)
        if not line:
            flush()
        elif heading:
            flush()
            level = len(heading.group(1)) + 1
            blocks.append(f"<h{level}>{html.escape(heading.group(2))}</h{level}>")
        elif line.startswith(("- ", "* ")):
            if paragraph:
                flush()
            items.append(html.escape(line[2:]))
        else:
            if items:
                flush()
            paragraph.append(html.escape(line))
    flush()
    return "\n".join(blocks)
