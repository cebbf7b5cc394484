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
    """お元気ですか？ with the quote of the day, one large OK button (its first choice), and
    smaller buttons for the other answers (少し体調が悪い, 助けてほしい)."""
    ok, *others = checkin.choices
    title, quote, instruction = checkin.title, checkin.quote, checkin.text
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
                    {"type": "text", "text": title, "size": "xl", "weight": "bold", "wrap": True},
                    {
                        "type": "text",
                        "text": locale.t("checkin.quote_label"),
                        "size": "sm",
                        "color": "#666666",
                    },
                    {"type": "text", "text": quote, "size": "lg", "wrap": True},
                    {
                        "type": "text",
                        "text": instruction,
                        "size": "md",
                        "wrap": True,
                    },
                ],
            },
            "footer": {
                "type": "box",
                "layout": "vertical",
                "spacing": "sm",
                "contents": [
                    {
                        "type": "button",
                        "style": "primary",
                        "height": "md",
                        "color": "#1f8a4c",
                        "action": {
                            "type": "postback",
                            "label": ok.label[:40],
                            "data": ok.data,
                            "displayText": locale.t("checkin.ok_display"),
                        },
                    },
                    *(
                        {
                            "type": "button",
                            "style": "secondary",
                            "height": "sm",
                            "action": {
                                "type": "postback",
                                "label": choice.label[:40],
                                "data": choice.data,
                                "displayText": choice.label,
                            },
                        }
                        for choice in others
                    ),
                ],
            },
        },
    }


def card(
    title: str,
    body: str,
    buttons: list[QuickItem] | None = None,
    links: list[tuple[str, str]] | None = None,
) -> Message:
    """A short notice with a heading and large buttons: postbacks (label, data, text shown),
    then links (label, https URL) that open a page such as My page."""
    bubble: dict[str, Any] = {
        "type": "bubble",
        "body": {
            "type": "box",
            "layout": "vertical",
            "spacing": "md",
            "contents": [
                {"type": "text", "text": title, "size": "lg", "weight": "bold", "wrap": True},
                {"type": "text", "text": body, "size": "md", "wrap": True},
            ],
        },
    }
    actions: list[dict[str, Any]] = [
        {"type": "postback", "label": label[:40], "data": data, "displayText": shown}
        for label, data, shown in buttons or []
    ]
    actions += [{"type": "uri", "label": label[:40], "uri": uri} for label, uri in links or []]
    if actions:
        bubble["footer"] = {
            "type": "box",
            "layout": "vertical",
            "spacing": "sm",
            "contents": [
                {
                    "type": "button",
                    "style": "primary" if index == 0 else "secondary",
                    "height": "md",
                    "action": action,
                }
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
