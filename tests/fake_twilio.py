"""The tests' stand-in Twilio is the simulator's landline network: one implementation for both."""

from simulator.telephone import ACCOUNT_SID, AUTH_TOKEN, FROM, PlacedCall, TwilioStandIn

FakeTwilio = TwilioStandIn


def calling_through(twilio: FakeTwilio, **more: object) -> dict[str, object]:
    """The settings of a bot that places its calls through the stand-in."""
    return {
        "twilio_account_sid": ACCOUNT_SID,
        "twilio_auth_token": AUTH_TOKEN,
        "twilio_from": FROM,
        "twilio_api_base_url": twilio.url,
        **more,
    }


__all__ = ["ACCOUNT_SID", "AUTH_TOKEN", "FROM", "FakeTwilio", "PlacedCall", "calling_through"]
