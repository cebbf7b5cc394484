"""LINE message objects the bot sends, built from locale texts (no wording lives here)."""

from __future__ import annotations

from typing import Any

from ground.i18n import Locale
from ground.telling import Form, Telling

Message = dict[str, Any]
QuickItem = tuple[str, str, str]  # label, postback data, text shown in the chat when tapped

QUICK_REPLY_LIMIT = 13
LABEL_LIMIT = 20


def text(body: str, quick: list[QuickItem] | None = None) -> Message:
    message: Message = {"type": "text", "text": body[:5000]}
    if quick:
        message["quickReply"] = quick_reply(quick)
    return message


def quick_reply(items: list[QuickItem]) -> dict[str, Any]:
    if len(items) > QUICK_REPLY_LIMIT:
        raise ValueError(f"a quick reply holds at most {QUICK_REPLY_LIMIT} items")
    return {
        "items": [
            {
                "type": "action",
                "action": {
                    "type": "postback",
                    "label": label[:LABEL_LIMIT],
                    "data": data,
                    "displayText": shown,
                },
            }
            for label, data, shown in items
        ]
    }


def checkin_bubble(locale: Locale, checkin: Telling) -> Message:
    """お元気ですか？ with the quote of the day and the answers as full-height buttons: OK first
    and green, 少し体調が悪い below it, and 助けてほしい apart at the bottom in red, so a hand
    that shakes cannot take one for the other."""
    ok, *others = checkin.choices
    title, quote, instruction = checkin.title, checkin.quote, checkin.text
    calm = [choice for choice in others if choice.answer != "help"]
    urgent = [choice for choice in others if choice.answer == "help"]
    buttons: list[dict[str, Any]] = [
        _button(_postback(ok.label, ok.data, locale.t("checkin.ok_display")), OK_COLOUR),
        *(_button(_postback(c.label, c.data, c.label)) for c in calm),
    ]
    if urgent:
        buttons.append({"type": "separator", "margin": "xxl"})
        buttons += [
            {**_button(_postback(c.label, c.data, c.label), HELP_COLOUR), "margin": "xxl"}
            for c in urgent
        ]
    return {
        "type": "flex",
        "altText": locale.t("checkin.alt"),
        "contents": {
            "type": "bubble",
            "size": "mega",
            "body": {
                "type": "box",
                "layout": "vertical",
                "spacing": "md",
                "contents": [
                    _text(title, "xl", bold=True),
                    {**_text(locale.t("checkin.quote_label"), "sm"), "color": "#555555"},
                    _text(quote, "lg"),
                    _text(instruction, "md"),
                ],
            },
            "footer": {
                "type": "box",
                "layout": "vertical",
                "spacing": "md",
                "contents": buttons,
            },
        },
    }


# OK's green and help's red are the two colours a resident learns; every other button is grey.
OK_COLOUR = "#1f7a45"
HELP_COLOUR = "#c62828"
# A card's first button: LINE's own default green for a primary button carries its white label
# at about 2.2:1, under what a reader with weak eyes needs (4.5:1); OK's green carries it at 5.3.
PRIMARY_COLOUR = OK_COLOUR


def _text(body: str, size: str, bold: bool = False) -> dict[str, Any]:
    # scaling: the resident's own LINE text size (settings → 文字サイズ) applies to Flex too.
    part: dict[str, Any] = {"type": "text", "text": body, "size": size, "wrap": True}
    if bold:
        part["weight"] = "bold"
    part["scaling"] = True
    return part


def _postback(label: str, data: str, shown: str) -> dict[str, Any]:
    return {"type": "postback", "label": label[:40], "data": data, "displayText": shown}


def _button(
    action: dict[str, Any], colour: str | None = None, primary: bool | None = None
) -> dict[str, Any]:
    """A full-height button that follows her text size: primary when coloured (or asked to
    be), else grey."""
    button: dict[str, Any] = {
        "type": "button",
        "style": "primary" if (colour if primary is None else primary) else "secondary",
        "height": "md",
        "scaling": True,
        "action": action,
    }
    if colour:
        button["color"] = colour
    return button


def card(
    title: str,
    body: str,
    buttons: list[QuickItem] | None = None,
    links: list[tuple[str, str]] | None = None,
    primary: bool = True,
) -> Message:
    """A short notice with a heading and large buttons: postbacks (label, data, text shown),
    then links (label, https URL) that open a page such as My page. The first is the primary
    (coloured) one, unless `primary` is False: a card whose only button is an undo."""
    bubble: dict[str, Any] = {
        "type": "bubble",
        "body": {
            "type": "box",
            "layout": "vertical",
            "spacing": "md",
            "contents": [
                _text(title, "lg", bold=True),
                _text(body, "md"),
            ],
        },
    }
    actions: list[dict[str, Any]] = [
        _postback(label, data, shown) for label, data, shown in buttons or []
    ]
    actions += [{"type": "uri", "label": label[:40], "uri": uri} for label, uri in links or []]
    if actions:
        bubble["footer"] = {
            "type": "box",
            "layout": "vertical",
            "spacing": "sm",
            "contents": [
                _button(action, PRIMARY_COLOUR, primary=True)
                if primary and index == 0
                else _button(action, primary=False)
                for index, action in enumerate(actions)
            ],
        }
    return {"type": "flex", "altText": f"{title} {body}"[:1500], "contents": bubble}


def image(url: str) -> Message:
    return {"type": "image", "originalContentUrl": url, "previewImageUrl": url}


def render(telling: Telling, locale: Locale) -> Message:
    """A telling as LINE shows it: a text, a card, or the check-in's bubble (OK first and
    large; its chat echo is the locale's, the other answers echo their label)."""
    if telling.form is Form.CHECKIN:
        return checkin_bubble(locale, telling)
    if telling.form is Form.CARD:
        return card(
            telling.title,
            telling.text,
            [(c.label, c.data, c.label) for c in telling.choices],
            [(link.label, link.url) for link in telling.links],
        )
    return text(telling.text)
