"""Signed webhook fixtures: the simulator's builders (shaped as LINE's webhook.yml)."""

from simulator.webhooks import *  # noqa: F403
from simulator.webhooks import BOT_USER_ID, body, group_id, redelivered, sign, user_id  # noqa: F401
