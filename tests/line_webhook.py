"""Signed webhook fixtures: the simulator's builders (shaped as LINE's webhook.yml)."""

from bot.simulator.webhooks import *  # noqa: F403
from bot.simulator.webhooks import BOT_USER_ID, body, group_id, redelivered, sign, user_id  # noqa: F401
