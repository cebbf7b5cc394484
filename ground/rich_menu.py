"""The rich menu: the tiles that stay at the bottom of the chat. Elderly residents rely on them
more than on typed words, so each tile is large, labelled in the person's language, and does
what the chat menu does.

Two menus: one for people who are watched (利用者) and one for people who only watch.
Images are drawn in the deployment's colours, or taken from the branding folder
(`richmenu-user.png`, `richmenu-watcher.png`, 2500×843).
"""

from __future__ import annotations

import io
import struct
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from ground.branding import Branding
from ground.i18n import Locale

WIDTH, HEIGHT = 2500, 843  # LINE's compact size: one row of large tiles
TAB_COLUMNS = 3  # the tab's six tiles, in LINE's large size (two rows of three): each as wide
# as a tile of the resident's own five-tile menu would be narrow otherwise
MAX_IMAGE_BYTES = 1024 * 1024  # LINE refuses larger images
FONT_PATHS = (
    "/usr/share/fonts/opentype/ipafont-gothic/ipagp.ttf",
    "/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/fonts-japanese-gothic.ttf",
)


class MenuKind(StrEnum):
    # 利用者, and everyone new: 元気です / お休み・再開 / 設定 / マイページ / 使い方
    USER = "user"
    WATCHER = "watcher"  # only watches: 見守り中の方 / マイページ / 招待する / 使い方
    # A tab of the city's own menu (shared account), two rows: 元気です / お休み・再開 /
    # 見守り中の方, then マイページ / 使い方 / back to the city's menu. One for everyone: the
    # city's menu cannot tell roles.
    TAB = "tab"


TAB_ALIAS = "mimamori"  # the alias the city's menu switches to
TAB_BACK = "menu_tab"  # the postback of the way back: nothing to answer


class RichMenuError(Exception):
    """Why the rich menus cannot be made, in one sentence for the operator."""


@dataclass(frozen=True)
class Tile:
    label_key: str
    action: dict[str, Any]


def tiles(
    kind: MenuKind,
    locale: Locale,
    encode: Callable[..., str],
    my_page: str | None,
    city_alias: str | None = None,
) -> list[Tile]:
    def postback(key: str, action: str, **fields: str | int) -> Tile:
        label = locale.t(key)
        return Tile(
            key,
            {
                "type": "postback",
                "label": label[:20],
                "data": encode(action, **fields),
                "displayText": label,
            },
        )

    page = (
        Tile(
            "richmenu.my_page",
            {"type": "uri", "label": locale.t("richmenu.my_page")[:20], "uri": my_page},
        )
        if my_page
        else postback("richmenu.my_page", "status")
    )
    if kind is MenuKind.TAB:
        back = Tile(
            "richmenu.city_menu",
            {
                "type": "richmenuswitch",
                "label": locale.t("richmenu.city_menu")[:20],
                "richMenuAliasId": city_alias or "",
                "data": encode(TAB_BACK),
            },
        )
        return [
            postback("richmenu.ok", "ok", t=0),
            # お休み・再開: the printed guide and the pause's reply send her here.
            postback("richmenu.pause", "pause_menu"),
            postback("richmenu.watching", "teams"),
            page,
            postback("richmenu.help", "help"),
            back,
        ]
    if kind is MenuKind.USER:
        # t=0: an OK from the menu, not from a particular check-in.
        first = [
            postback("richmenu.ok", "ok", t=0),
            postback("richmenu.pause", "pause_menu"),
            postback("richmenu.settings", "sched"),
            page,
        ]
    else:
        first = [
            postback("richmenu.watching", "teams"),
            page,
            postback("richmenu.invite", "invite_menu"),
        ]
    return [*first, postback("richmenu.help", "help")]


def layout(kind: MenuKind, count: int) -> tuple[int, int]:
    """(columns, rows) of a menu of `count` tiles: one row, or the tab's two rows of three."""
    if kind is MenuKind.TAB and count > TAB_COLUMNS:
        return TAB_COLUMNS, -(-count // TAB_COLUMNS)
    return count, 1


def bounds(kind: MenuKind, count: int) -> list[tuple[int, int, int, int]]:
    """Each tile's (x, y, width, height) on the menu's image."""
    columns, rows = layout(kind, count)
    width = WIDTH // columns
    return [
        ((index % columns) * width, (index // columns) * HEIGHT, width, HEIGHT)
        for index in range(count)
    ]


def size(kind: MenuKind, count: int) -> tuple[int, int]:
    """The image's size: LINE's compact (2500×843), or its large (2500×1686) for two rows."""
    return WIDTH, HEIGHT * layout(kind, count)[1]


def definition(kind: MenuKind, locale: Locale, menu_tiles: list[Tile]) -> dict[str, Any]:
    """The rich menu object LINE's createRichMenu takes."""
    width, height = size(kind, len(menu_tiles))
    return {
        "size": {"width": width, "height": height},
        "selected": True,  # open: a resident should not have to find the tiles
        "name": f"mimamori-{kind.value}",
        "chatBarText": locale.t("richmenu.bar")[:14],
        "areas": [
            {"bounds": {"x": x, "y": y, "width": w, "height": h}, "action": tile.action}
            for tile, (x, y, w, h) in zip(menu_tiles, bounds(kind, len(menu_tiles)), strict=True)
        ],
    }


def image(
    kind: MenuKind, locale: Locale, menu_tiles: list[Tile], branding: Branding, folder: Path | None
) -> bytes:
    """The menu's PNG: the branding folder's own, or drawn in the brand's colours."""
    own = folder / f"richmenu-{kind.value}.png" if folder else None
    if own is not None and own.is_file():
        data = own.read_bytes()
    else:
        data = draw(locale, menu_tiles, branding, kind)
    check_image(data, size(kind, len(menu_tiles)))
    return data


def check_image(data: bytes, expected: tuple[int, int] = (WIDTH, HEIGHT)) -> None:
    if len(data) > MAX_IMAGE_BYTES:
        raise RichMenuError(
            f"a rich menu image must be at most 1 MB, this one is {len(data)} bytes"
        )
    if png_size(data) != expected:
        raise RichMenuError(f"a rich menu image must be a {expected[0]}×{expected[1]} PNG")


def png_size(data: bytes) -> tuple[int, int] | None:
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def draw(
    locale: Locale, menu_tiles: list[Tile], branding: Branding, kind: MenuKind = MenuKind.USER
) -> bytes:
    from PIL import Image, ImageDraw, ImageFont  # only `mimamori richmenu` draws

    font_path = next((p for p in FONT_PATHS if Path(p).is_file()), None)
    if font_path is None:
        raise RichMenuError(
            "no Japanese font to draw the tiles: install fonts-ipafont-gothic, or put"
            " richmenu-user.png and richmenu-watcher.png in the branding folder"
        )
    main = branding.colours.get("primary", "#2e7d32")
    background = branding.colours.get("background", "#ffffff")
    text_colour = branding.colours.get("primary_text", "#ffffff")
    canvas = Image.new("RGB", size(kind, len(menu_tiles)), background)
    pen = ImageDraw.Draw(canvas)
    label_font = ImageFont.truetype(font_path, 120)
    name_font = ImageFont.truetype(font_path, 56)
    for tile, (left, top, width, _) in zip(menu_tiles, bounds(kind, len(menu_tiles)), strict=True):
        pen.rounded_rectangle(
            (left + 24, top + 24, left + width - 24, top + HEIGHT - 24), radius=48, fill=main
        )
        label = locale.t(tile.label_key)
        font = label_font
        box = pen.textbbox((0, 0), label, font=font)
        # A long label on a narrow tile (five of them, on the city's tab) is drawn smaller,
        # never clipped.
        while box[2] - box[0] > width - 96 and font.size > 48:
            font = ImageFont.truetype(font_path, font.size - 8)
            box = pen.textbbox((0, 0), label, font=font)
        x = left + (width - (box[2] - box[0])) / 2
        pen.text((x, top + HEIGHT / 2 - 110), label, font=font, fill=text_colour)
        name_box = pen.textbbox((0, 0), branding.service_name, font=name_font)
        name_x = left + (width - (name_box[2] - name_box[0])) / 2
        pen.text(
            (name_x, top + HEIGHT - 190), branding.service_name, font=name_font, fill=text_colour
        )
    out = io.BytesIO()
    canvas.save(out, format="PNG", optimize=True)
    return out.getvalue()
