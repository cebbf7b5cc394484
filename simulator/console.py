"""The desk's staff in the console, as the tour plays them: signed in with the demo's own
account (its password, then the code its authenticator would show at the demo's clock), they
ask a partner to visit through the same forms a person would submit."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import aiohttp
import pyotp

from admin.passwords import hash_password
from admin.second_factor import seal
from care.services import Services

STAFF_NAME = "demo-desk"  # the demo's own console account; it protects nothing real
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
CASE = re.compile(r'data-case="(\d+)"')
PARTNER = re.compile(r'data-partner="(\d+)"')
PARTNER_CODE = re.compile(r'id="partner-code">([0-9A-Z-]+)<')


@dataclass(frozen=True)
class DemoStaff:
    """What the presenter is shown to sign in with: the password, and the key to add to an
    authenticator app (the console asks every account that sees people for its code)."""

    password: str
    totp_key: str


async def add_staff(services: Services) -> DemoStaff:
    """The demo's console account with a fresh password and second factor."""
    staff = DemoStaff(secrets.token_urlsafe(12), pyotp.random_base32())
    async with services.repositories() as repos:
        if await repos.admin.by_name(STAFF_NAME) is None:
            await repos.admin.add(STAFF_NAME, hash_password(staff.password), services.clock.now())
        else:
            await repos.admin.set_password(STAFF_NAME, hash_password(staff.password))
        admin = await repos.admin.by_name(STAFF_NAME)
        assert admin is not None
        sealed = seal(services.settings.channel_secret, admin.id, staff.totp_key)
        await repos.admin.set_second_factor(admin.id, sealed)
    return staff


class Codes:
    """The demo account's authenticator, at the demo's clock (an app on a phone would follow
    the real one, which the demo's runs days ahead of): for the tour's sign-ins and for the
    presenter, on the phones page. The console takes each code once, so the tour never signs
    in with a step the page has shown."""

    def __init__(self, key: str, now: Callable[[], datetime]) -> None:
        self._totp = pyotp.TOTP(key)
        self._now = now
        self._last_step = -1  # the newest step the tour took
        self._shown_step = -1  # the newest step the page showed

    def shown(self) -> str:
        """The code a person would type now."""
        step = max(self._totp.timecode(self._now()), self._last_step + 1)
        self._shown_step = max(self._shown_step, step)
        return self._totp.generate_otp(step)

    def taken(self) -> str:
        """The tour's code. Signed in again within its 30 seconds (or after the presenter
        typed the one shown), the next step's (taken one step either side) is what a person
        would wait a moment for."""
        now_step = self._totp.timecode(self._now())
        step = max(now_step, self._last_step + 1, self._shown_step + 1)
        if step > now_step + 1:
            # Past the steps the console takes: the code shown was most likely not typed.
            step = max(now_step, self._last_step + 1)
        self._last_step = step
        return self._totp.generate_otp(step)


class Console:
    def __init__(
        self,
        bot_url: str,
        staff: DemoStaff,
        now: Callable[[], datetime],
        codes: Codes | None = None,
    ) -> None:
        self._base = f"{bot_url}/admin"
        self._staff = staff
        self._codes = codes or Codes(staff.totp_key, now)
        self._session: aiohttp.ClientSession | None = None

    async def _token(self, path: str) -> str:
        assert self._session is not None
        async with self._session.get(self._base + path) as response:
            found = CSRF.search(await response.text())
        assert found is not None, f"no form at {path}"
        return found.group(1)

    async def sign_in(self) -> None:
        """Signed in anew: the console's session ends on the demo's clock, which the tour
        moves by days."""
        if self._session is None:
            self._session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        data = {
            "name": STAFF_NAME,
            "password": self._staff.password,
            "csrf_token": await self._token("/login"),
        }
        async with self._session.post(self._base + "/login", data=data) as response:
            response.raise_for_status()
            page = await response.text()
        found = CSRF.search(page)
        assert found is not None, "no code step after the password"
        code = {"code": self._codes.taken(), "csrf_token": found.group(1)}
        async with self._session.post(self._base + "/login/code", data=code) as response:
            response.raise_for_status()

    async def post(self, path: str, data: list[tuple[str, str]]) -> str:
        """Submit a form. -> where the console sends the browser next."""
        return (await self._submit(path, data))[0]

    async def answer(self, path: str, data: list[tuple[str, str]]) -> str:
        """Submit a form whose answer is a page of its own (a partner's one-time code)."""
        return (await self._submit(path, data))[1]

    async def _submit(self, path: str, data: list[tuple[str, str]]) -> tuple[str, str]:
        assert self._session is not None
        token = await self._token("/partners")
        async with self._session.post(
            self._base + path, data=[("csrf_token", token), *data], allow_redirects=False
        ) as response:
            if response.status >= 400:
                raise RuntimeError(f"{path}: {response.status} {await response.text()}")
            return response.headers.get("Location", ""), await response.text()

    async def page(self, path: str) -> str:
        assert self._session is not None
        async with self._session.get(self._base + path) as response:
            response.raise_for_status()
            return await response.text()

    async def open_cases(self) -> list[int]:
        assert self._session is not None
        async with self._session.get(self._base + "/desk") as response:
            return [int(found) for found in CASE.findall(await response.text())]

    async def partner_ids(self) -> list[int]:
        assert self._session is not None
        async with self._session.get(self._base + "/partners") as response:
            return [int(found) for found in PARTNER.findall(await response.text())]

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
