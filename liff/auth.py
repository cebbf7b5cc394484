"""Who is calling My page: the LIFF ID token, verified by LINE, never a user id from the page."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

import aiohttp
from aiohttp import web

from ground.clock import Clock

log = logging.getLogger("mimamori.liff.auth")

CACHE_LIMIT = 10_000


class VerificationUnavailable(Exception):
    """LINE could not be asked (network, 5xx): the caller should try again, not be refused."""


@dataclass(frozen=True)
class VerifiedToken:
    user_id: str
    name: str
    expires_at: datetime


class IdTokenVerifier:
    """POST {LINE_API_BASE_URL}/oauth2/v2.1/verify; answers are cached until the token expires."""

    def __init__(
        self, session: aiohttp.ClientSession, base_url: str, channel_id: str, clock: Clock
    ) -> None:
        self._session = session
        self._url = f"{base_url.rstrip('/')}/oauth2/v2.1/verify"
        self._channel_id = channel_id
        self._clock = clock
        self._cache: dict[str, VerifiedToken] = {}

    async def verify(self, id_token: str) -> VerifiedToken | None:
        key = hashlib.sha256(id_token.encode()).hexdigest()
        now = self._clock.now()
        cached = self._cache.get(key)
        if cached is not None:
            if cached.expires_at > now:
                return cached
            del self._cache[key]
        verified = await self._ask_line(id_token, now)
        if verified is not None:
            self._remember(key, verified, now)
        return verified

    async def _ask_line(self, id_token: str, now: datetime) -> VerifiedToken | None:
        form = {"id_token": id_token, "client_id": self._channel_id}
        try:
            async with self._session.post(
                self._url, data=form, timeout=aiohttp.ClientTimeout(total=10)
            ) as response:
                if response.status >= 500:
                    raise VerificationUnavailable(f"LINE answered {response.status}")
                body = await response.json(content_type=None)
                status = response.status
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            raise VerificationUnavailable(str(error)) from error
        if status != 200 or not isinstance(body, dict):
            log.info("ID token refused by LINE: %s", str(body)[:200])
            return None
        return self._accept(body, now)

    def _accept(self, claims: dict[str, object], now: datetime) -> VerifiedToken | None:
        """LINE said yes; still check what it said (audience, expiry, subject)."""
        subject, audience, expires = claims.get("sub"), claims.get("aud"), claims.get("exp")
        if audience != self._channel_id or not isinstance(subject, str) or not subject:
            log.warning("ID token for another channel or without subject refused")
            return None
        if not isinstance(expires, int | float):
            return None
        expires_at = datetime.fromtimestamp(expires, UTC)
        if expires_at <= now:
            return None
        return VerifiedToken(subject, str(claims.get("name") or ""), expires_at)

    def _remember(self, key: str, verified: VerifiedToken, now: datetime) -> None:
        if len(self._cache) >= CACHE_LIMIT:
            self._cache = {k: v for k, v in self._cache.items() if v.expires_at > now}
        if len(self._cache) < CACHE_LIMIT:
            self._cache[key] = verified


LIFF_VERIFIER = web.AppKey("liff_verifier", IdTokenVerifier)


class LoginDeauthorizer:
    """退会 revokes what she authorized the LIFF app to do (LINE Login's development guideline
    requires it): POST {LINE_API_BASE_URL}/user/v1/deauthorize with her access token, under a
    stateless channel access token of the LINE Login channel (POST /oauth2/v3/token, valid 15
    minutes: asked afresh each time, 退会 being rare, so nothing is kept)."""

    def __init__(
        self, session: aiohttp.ClientSession, base_url: str, channel_id: str, secret: str
    ) -> None:
        self._session = session
        self._base = base_url.rstrip("/")
        self._channel_id = channel_id
        self._secret = secret

    async def deauthorize(self, user_access_token: str, line_user_id: str) -> bool:
        """True once LINE revoked it; False (logged) when it could not: 退会 goes on anyway.
        The token must be hers (LINE Login's profile for it names the caller): a token of
        someone else's, sent with another's 退会, revokes nothing."""
        timeout = aiohttp.ClientTimeout(total=10)
        try:
            async with self._session.get(
                f"{self._base}/v2/profile",
                headers={"Authorization": f"Bearer {user_access_token}"},
                timeout=timeout,
            ) as response:
                profile = await response.json(content_type=None)
                owner = profile.get("userId") if isinstance(profile, dict) else None
                if response.status != 200 or owner != line_user_id:
                    log.warning("退会 without revoking: the access token is not the caller's")
                    return False
        except (aiohttp.ClientError, TimeoutError, ValueError) as problem:
            log.warning("cannot ask LINE whose access token it is now: %s", problem)
            return False
        form = {
            "grant_type": "client_credentials",
            "client_id": self._channel_id,
            "client_secret": self._secret,
        }
        try:
            async with self._session.post(
                f"{self._base}/oauth2/v3/token", data=form, timeout=timeout
            ) as response:
                body = await response.json(content_type=None)
                if response.status != 200 or not isinstance(body, dict):
                    log.warning("LINE Login channel token refused: %s", response.status)
                    return False
                channel_token = str(body.get("access_token") or "")
            async with self._session.post(
                f"{self._base}/user/v1/deauthorize",
                json={"userAccessToken": user_access_token},
                headers={"Authorization": f"Bearer {channel_token}"},
                timeout=timeout,
            ) as response:
                if response.status != 204:
                    log.warning("LINE did not deauthorize the app: %s", response.status)
                    return False
        except (aiohttp.ClientError, TimeoutError, ValueError) as problem:
            log.warning("cannot ask LINE to deauthorize the app now: %s", problem)
            return False
        return True


LIFF_DEAUTHORIZER = web.AppKey("liff_deauthorizer", LoginDeauthorizer)
