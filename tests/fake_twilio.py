"""The tests' stand-in Twilio is the simulator's landline network: one implementation for both."""

from simulator.telephone import ACCOUNT_SID, AUTH_TOKEN, FROM, PlacedCall, TwilioStandIn

FakeTwilio = TwilioStandIn

__all__ = ["ACCOUNT_SID", "AUTH_TOKEN", "FROM", "FakeTwilio", "PlacedCall"]
