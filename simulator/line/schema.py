"""Whether a request is one LINE would take: LINE's own OpenAPI file, followed through every
discriminator, and the documented limits the file does not carry."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_schema_validator import OAS30Validator
from werkzeug.datastructures import Headers, ImmutableMultiDict

from simulator.line.messages import flex_actions

OPENAPI_DIR = Path(__file__).resolve().parents[1] / "line-openapi"
MESSAGING_API = OPENAPI_DIR / "messaging-api.yml"
MESSAGE_PATHS = (
    "/v2/bot/message/push",
    "/v2/bot/message/multicast",
    "/v2/bot/message/reply",
    "/v2/bot/message/broadcast",
)
RETRY_KEY_PATHS = (
    "/v2/bot/message/push",
    "/v2/bot/message/multicast",
    "/v2/bot/message/broadcast",
)
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)


@functools.cache
def messaging_api() -> OpenAPI:
    return OpenAPI.from_file_path(str(MESSAGING_API))


@functools.cache
def _spec() -> dict[str, Any]:
    return yaml.safe_load(MESSAGING_API.read_text("utf-8"))


@functools.cache
def _validator(name: str) -> OAS30Validator:
    return OAS30Validator({**_spec(), "$ref": f"#/components/schemas/{name}"})


def _properties(name: str) -> dict[str, Any]:
    """A schema's properties, including those it takes through allOf."""
    schema = _spec()["components"]["schemas"][name]
    found: dict[str, Any] = {}
    for part in schema.get("allOf", []):
        if "$ref" in part:
            found.update(_properties(part["$ref"].rsplit("/", 1)[1]))
        found.update(part.get("properties", {}))
    found.update(schema.get("properties", {}))
    return found


def deep_errors(node: Any, name: str, path: str) -> list[str]:
    """Validate `node` as schema `name`, following discriminators all the way down.

    openapi-core stops at a discriminated base (a Flex bubble inside a message, a box inside a
    bubble, an action inside a button), so this walks each polymorphic level itself.
    """
    schema = _spec()["components"]["schemas"][name]
    discriminator = schema.get("discriminator")
    if discriminator and isinstance(node, dict):
        kind = node.get(discriminator["propertyName"])
        ref = discriminator.get("mapping", {}).get(kind)
        if ref is None:
            return [f"{path}: {kind!r} is not a known {name}"]
        name = ref.rsplit("/", 1)[1]
    errors = [f"{path}: {error.message[:200]}" for error in _validator(name).iter_errors(node)]
    if not isinstance(node, dict):
        return errors
    for key, sub in _properties(name).items():
        if key not in node:
            continue
        if "$ref" in sub:
            errors += deep_errors(node[key], sub["$ref"].rsplit("/", 1)[1], f"{path}.{key}")
        elif sub.get("type") == "array" and "$ref" in sub.get("items", {}):
            item_name = sub["items"]["$ref"].rsplit("/", 1)[1]
            for index, item in enumerate(node[key]):
                errors += deep_errors(item, item_name, f"{path}.{key}[{index}]")
    return errors


@dataclass
class OpenApiRequest:
    """openapi-core's request protocol over what the fake received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None
    path_params: dict[str, str]
    content_type: str = "application/json"
    host_url: str = "https://api.line.me"

    @property
    def parameters(self) -> RequestParameters:
        return RequestParameters(
            query=ImmutableMultiDict(),
            header=Headers(self.headers),
            cookie=ImmutableMultiDict(),
            path=self.path_params,
        )

    @property
    def full_url_pattern(self) -> str:
        return self.host_url + self.path


def limits(body: dict[str, Any]) -> list[str]:
    """LINE's documented limits that the OpenAPI file does not carry."""
    errors = []
    to = body.get("to")
    if isinstance(to, list) and not 1 <= len(to) <= 500:
        errors.append(f"multicast to {len(to)} recipients")
    for message in body.get("messages", []):
        if message.get("type") == "flex" and len(message.get("altText", "")) > 1500:
            errors.append("altText over 1500")
        items = message.get("quickReply", {}).get("items", [])
        if len(items) > 13:
            errors.append(f"{len(items)} quick reply items")
        for item in items:
            errors.extend(_action_limits(item["action"], 20))
        for action in flex_actions(message.get("contents")):
            errors.extend(_action_limits(action, 40))
        if message.get("type") == "text" and len(message.get("text", "")) > 5000:
            errors.append("text over 5000")
    return errors


def _action_limits(action: dict[str, Any], label_limit: int) -> list[str]:
    errors = []
    if len(action.get("label", "")) > label_limit:
        errors.append(f"label over {label_limit}: {action['label']}")
    if len(action.get("data", "")) > 300:
        errors.append("postback data over 300")
    if len(action.get("displayText", "")) > 300:
        errors.append("displayText over 300")
    return errors
