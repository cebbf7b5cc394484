"""Typed application state: every shared object lives behind one of these keys."""

from __future__ import annotations

from aiohttp import web
from linebot.v3.webhook import WebhookParser

from bot.clock import Clock
from bot.deps import Deps
from bot.dispatch import EventDispatcher
from bot.i18n import I18n
from bot.line_api import LineApi
from bot.settings import Settings
from liff.auth import IdTokenVerifier
from scheduler.engine import CheckinEngine
from storage.database import Database

SETTINGS = web.AppKey("settings", Settings)
CLOCK = web.AppKey("clock", Clock)
I18N = web.AppKey("i18n", I18n)
PARSER = web.AppKey("parser", WebhookParser)
DB = web.AppKey("db", Database)
LINE = web.AppKey("line", LineApi)
ENGINE = web.AppKey("engine", CheckinEngine)
DEPS = web.AppKey("deps", Deps)
DISPATCHER = web.AppKey("dispatcher", EventDispatcher)
LIFF_VERIFIER = web.AppKey("liff_verifier", IdTokenVerifier)
