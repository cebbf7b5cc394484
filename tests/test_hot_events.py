"""The rush's events read without the SDK's validation (bot/hot_events.py) are the SDK's own
models, field for field, or left to the SDK: never a different reading of what LINE sent."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from linebot.v3.webhooks import Event, MessageEvent, PostbackEvent

from bot.batch import parse
from bot.hot_events import read_hot
from tests import line_webhook as hook

# Values of every JSON kind, for fields given what LINE never sends there.
_ANY = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.text(max_size=8),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
)
NOW = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
_FIELDS = [
    ("type",),
    ("source",),
    ("source", "type"),
    ("source", "userId"),
    ("source", "groupId"),
    ("timestamp",),
    ("mode",),
    ("webhookEventId",),
    ("deliveryContext",),
    ("deliveryContext", "isRedelivery"),
    ("replyToken",),
    ("postback",),
    ("postback", "data"),
    ("postback", "params"),
    ("message",),
    ("message", "type"),
    ("message", "id"),
    ("message", "text"),
    ("message", "quoteToken"),
    ("message", "quotedMessageId"),
    ("message", "markAsReadToken"),
    ("message", "emojis"),
    ("extra",),
]


def _events() -> st.SearchStrategy[dict[str, Any]]:
    user = st.text(alphabet="0123456789abcdef", min_size=1, max_size=33).map(lambda s: "U" + s)
    postbacks = st.builds(lambda uid, data: hook.postback(uid, data, NOW), user, st.text())
    texts = st.builds(lambda uid, words: hook.text(uid, words, NOW), user, st.text())
    return st.one_of(postbacks, texts).flatmap(
        lambda raw: st.sampled_from([raw, hook.redelivered(raw), {**raw, "mode": "standby"}])
    )


def _spoil(raw: dict[str, Any], path: tuple[str, ...], value: Any, drop: bool) -> dict[str, Any]:
    spoiled = copy.deepcopy(raw)
    place = spoiled
    for key in path[:-1]:
        if not isinstance(place.get(key), dict):
            return spoiled
        place = place[key]
    if drop:
        place.pop(path[-1], None)
    else:
        place[path[-1]] = value
    return spoiled


def _same(fast: Event, sdk: Event) -> None:
    assert type(fast) is type(sdk)
    assert type(fast.source) is type(sdk.source)
    assert fast.dict() == sdk.dict()
    assert list(fast.__dict__) == list(sdk.__dict__)  # each field, in the SDK's order
    assert fast.__fields_set__ == sdk.__fields_set__
    if sdk.source is not None:
        assert fast.source.__fields_set__ == sdk.source.__fields_set__
    assert fast.to_dict() == sdk.to_dict()
    if isinstance(sdk, MessageEvent):
        assert type(fast.message) is type(sdk.message)


def _sdk(raw: Any) -> Event | None:
    try:
        return Event.from_dict(raw)
    except Exception:
        return None


@settings(max_examples=300, derandomize=True, deadline=None)
@given(_events())
def test_the_rushs_events_as_line_sends_them_are_read_as_the_sdk_reads_them(
    raw: dict[str, Any],
) -> None:
    fast = read_hot(raw)
    assert fast is not None
    assert isinstance(fast, PostbackEvent | MessageEvent)
    _same(fast, Event.from_dict(raw))


@settings(max_examples=1500, derandomize=True, deadline=None)
@given(_events(), st.sampled_from(_FIELDS), _ANY, st.booleans())
def test_an_event_of_any_other_shape_is_the_sdks_to_read(
    raw: dict[str, Any], path: tuple[str, ...], value: Any, drop: bool
) -> None:
    spoiled = _spoil(raw, path, value, drop)
    fast = read_hot(spoiled)
    sdk = _sdk(spoiled)
    if fast is not None:
        assert sdk is not None, f"read what the SDK refuses: {spoiled}"
        _same(fast, sdk)
    # Stored and read back as the dispatcher does: the same as the SDK, or skipped as it is.
    parsed = parse("E1", json.dumps(spoiled))
    if sdk is None:
        assert parsed is None
    else:
        assert parsed is not None
        _same(parsed, sdk)


def test_events_the_rush_does_not_bring_are_left_to_the_sdk() -> None:
    follow = hook.follow("Uresident", NOW)
    in_group = hook.text("Uresident", "おはよう", NOW, hook.in_group("Cgroup", "Uresident"))
    with_date = hook.postback("Uresident", "a=1", NOW)
    with_date["postback"]["params"] = {"date": "2026-12-01"}
    redelivered = hook.redelivered(hook.postback("Uresident", "a=1", NOW))
    assert read_hot(redelivered) is not None
    for raw in (follow, in_group, with_date):
        assert read_hot(raw) is None
        parsed = parse("E1", json.dumps(raw))
        assert parsed is not None
        _same(parsed, Event.from_dict(raw))
