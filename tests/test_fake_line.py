"""The fake LINE refuses what LINE would refuse: the tests that rely on it can fail."""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp import ClientSession

from tests.fake_line import FakeLine

TEXT = {"type": "text", "text": "x"}
USER = "U" + "0" * 32


async def post(fake: FakeLine, path: str, body: dict[str, Any], **headers: str) -> int:
    async with (
        ClientSession() as session,
        session.post(
            fake.url + path, json=body, headers={"Authorization": "Bearer t", **headers}
        ) as response,
    ):
        return response.status


async def test_invalid_requests_are_refused_and_recorded(fake_line: FakeLine) -> None:
    quick = {
        "items": [{"type": "action", "action": {"type": "postback", "label": "l", "data": "d"}}]
        * 14
    }
    bad_flex = {
        "type": "flex",
        "altText": "a",
        "contents": {
            "type": "bubble",
            "body": {"type": "box", "layout": "sideways", "contents": []},
        },
    }
    cases = [
        ("/v2/bot/message/push", {"to": USER, "messages": [TEXT] * 6}, {}),
        ("/v2/bot/message/push", {"to": USER, "messages": [{**TEXT, "quickReply": quick}]}, {}),
        ("/v2/bot/message/push", {"to": USER, "messages": [bad_flex]}, {}),
        ("/v2/bot/message/multicast", {"to": [USER] * 501, "messages": [TEXT]}, {}),
        (
            "/v2/bot/message/reply",
            {"replyToken": "r", "messages": [TEXT]},
            {"X-Line-Retry-Key": str(uuid.uuid4())},
        ),
        (
            "/v2/bot/message/push",
            {"to": USER, "messages": [TEXT]},
            {"X-Line-Retry-Key": "not-a-uuid"},
        ),
    ]
    for path, body, headers in cases:
        assert await post(fake_line, path, body, **headers) == 400, body
    assert len({error.split(":")[0] for error in fake_line.schema_errors}) >= 2
    assert [c.status for c in fake_line.calls] == [400] * len(cases)
    fake_line.schema_errors.clear()


async def test_retry_keys_behave_as_on_line(fake_line: FakeLine) -> None:
    key = str(uuid.uuid4())
    body = {"to": USER, "messages": [TEXT]}
    fake_line.fail_next("/v2/bot/message/push", 500)
    assert await post(fake_line, "/v2/bot/message/push", body, **{"X-Line-Retry-Key": key}) == 500
    assert await post(fake_line, "/v2/bot/message/push", body, **{"X-Line-Retry-Key": key}) == 200
    assert await post(fake_line, "/v2/bot/message/push", body, **{"X-Line-Retry-Key": key}) == 409
    assert len(fake_line.pushes) == 1


def test_the_stand_in_checks_against_the_shared_openapi_files() -> None:
    """The copies shipped with the simulator are LINE's files from ../shared/line-openapi."""
    from pathlib import Path

    import pytest

    from tests.fake_line import OPENAPI_DIR

    shared = Path(__file__).resolve().parents[2] / "shared" / "line-openapi"
    if not shared.is_dir():
        pytest.skip("../shared is not beside this clone")
    for name in ("messaging-api.yml", "webhook.yml"):
        assert (OPENAPI_DIR / name).read_bytes() == (shared / name).read_bytes(), name
