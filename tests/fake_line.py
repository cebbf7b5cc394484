"""The tests' fake LINE is the simulator's stand-in platform: one implementation for both."""

from simulator.line.messages import message_text, postbacks_in
from simulator.line.schema import OPENAPI_DIR
from simulator.line.state import Call
from simulator.platform import LinePlatform

FakeLine = LinePlatform

__all__ = ["OPENAPI_DIR", "Call", "FakeLine", "message_text", "postbacks_in"]
