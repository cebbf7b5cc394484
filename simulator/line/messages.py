"""What a person reads in a message LINE delivered, and the buttons it offers."""

from __future__ import annotations

from typing import Any


def message_text(message: dict[str, Any]) -> str:
    """What a person reads in a message, flattened (text, or a Flex bubble's texts)."""
    if message.get("type") == "text":
        return message["text"]
    if message.get("type") == "flex":
        return "\n".join(_flex_texts(message["contents"]))
    return f"[{message.get('type')}]"


def _flex_texts(node: Any) -> list[str]:
    if isinstance(node, dict):
        texts = [node["text"]] if node.get("type") == "text" else []
        for key, value in node.items():
            if key != "action":
                texts.extend(_flex_texts(value))
        return texts
    if isinstance(node, list):
        return [text for item in node for text in _flex_texts(item)]
    return []


def postbacks_in(message: dict[str, Any]) -> list[dict[str, Any]]:
    """Every postback action a message offers (buttons and quick replies), in order."""
    actions = [item["action"] for item in message.get("quickReply", {}).get("items", [])]
    return flex_actions(message.get("contents")) + actions


def flex_actions(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        found = [node["action"]] if isinstance(node.get("action"), dict) else []
        for value in node.values():
            found.extend(flex_actions(value))
        return found
    if isinstance(node, list):
        return [action for item in node for action in flex_actions(item)]
    return []
