"""The tests' fake LINE is the simulator's stand-in platform: one implementation for both."""

from simulator.platform import OPENAPI_DIR, Call, LinePlatform, message_text, postbacks_in

FakeLine = LinePlatform

__all__ = ["OPENAPI_DIR", "Call", "FakeLine", "message_text", "postbacks_in"]
