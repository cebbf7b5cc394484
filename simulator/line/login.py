"""LINE Login and LIFF: the ID token check My page's API relies on, the channel's stateless
token, 連動アプリの認可取り消し, an access token's profile, and a stand-in LIFF SDK."""

from __future__ import annotations

import json
import uuid

from aiohttp import web

from simulator.line.state import Call, PlatformState

LIFF_STAND_IN = """
(function () {
  // The simulator opens My page with #sim_token=...: keep it for this tab, out of the address.
  var match = /sim_token=([^&]+)/.exec(location.hash);
  if (match) {
    sessionStorage.setItem("mimamori-sim-token", decodeURIComponent(match[1]));
    history.replaceState(null, "", location.pathname + location.search);
  }
})();
window.liff = {
  init: function (config) {
    if (!config || !config.liffId) return Promise.reject(new Error("no liffId"));
    return Promise.resolve();
  },
  isLoggedIn: function () { return true; },
  login: function () {},
  isInClient: function () { return true; },
  getIDToken: function () {
    return window.__TEST_ID_TOKEN || sessionStorage.getItem("mimamori-sim-token") || null;
  },
  getAccessToken: function () { return window.__TEST_ACCESS_TOKEN || null; },
  closeWindow: function () {}
};
"""


class LoginApi:
    def __init__(self, line: PlatformState) -> None:
        self.line = line

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/oauth2/v2.1/verify", self.verify_id_token),
            web.post("/oauth2/v3/token", self.login_channel_token),
            web.post("/user/v1/deauthorize", self.deauthorize),
            web.get("/v2/profile", self.login_profile),
            web.get("/liff-sdk.js", self.liff_sdk),
        ]

    async def verify_id_token(self, request: web.Request) -> web.Response:
        """LINE Login's verify endpoint (not in the Messaging API's OpenAPI file)."""
        form = await request.post()
        call = Call(request.method, request.path, dict(request.headers), dict(form))
        self.line.calls.append(call)
        token, client_id = form.get("id_token"), form.get("client_id")
        if not token or not client_id:
            return self.line.answer(call, 400, {"error": "invalid_request"})
        claims = self.line.id_tokens.get(str(token))
        if claims is None:
            return self.line.answer(
                call, 400, {"error": "invalid_request", "error_description": "Invalid IdToken."}
            )
        if claims["aud"] != client_id and not self.line.lenient_audience:
            return self.line.answer(
                call,
                400,
                {"error": "invalid_request", "error_description": "Invalid IdToken Audience."},
            )
        if claims["exp"] <= self.line.now().timestamp():
            return self.line.answer(
                call, 400, {"error": "invalid_request", "error_description": "IdToken expired."}
            )
        return self.line.answer(call, 200, claims)

    async def login_channel_token(self, request: web.Request) -> web.Response:
        """LINE Login's stateless channel access token (client credentials, 15 minutes)."""
        form = await request.post()
        shown = {k: ("***" if k == "client_secret" else str(v)) for k, v in form.items()}
        call = Call(request.method, request.path, dict(request.headers), shown)
        self.line.calls.append(call)
        failure = self.line.take_failure(request.path)
        if failure is not None:
            return self.line.answer(call, failure.status, failure.body)
        if form.get("grant_type") != "client_credentials" or not form.get("client_secret"):
            return self.line.answer(call, 400, {"error": "invalid_request"})
        token = "login-channel-" + uuid.uuid4().hex
        self.line.login_channel_tokens.add(token)
        return self.line.answer(
            call, 200, {"token_type": "Bearer", "access_token": token, "expires_in": 900}
        )

    async def deauthorize(self, request: web.Request) -> web.Response:
        """LINE Login's 連動アプリの認可取り消し: 204 with no body, as LINE answers."""
        raw = await request.read()
        body = json.loads(raw) if raw else None
        call = Call(request.method, request.path, dict(request.headers), body)
        self.line.calls.append(call)
        failure = self.line.take_failure(request.path)
        if failure is not None:
            return self.line.answer(call, failure.status, failure.body)
        bearer = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if bearer not in self.line.login_channel_tokens:
            return self.line.answer(call, 401, {"message": "Authentication failed"})
        user = self.line.access_tokens.pop(str((body or {}).get("userAccessToken")), None)
        if user is None:
            return self.line.answer(call, 400, {"message": "The access token is invalid"})
        self.line.deauthorized.append(user)
        call.status = 204
        return web.Response(status=204)

    async def login_profile(self, request: web.Request) -> web.Response:
        """LINE Login's profile of an access token's user (GET /v2/profile)."""
        call = Call(request.method, request.path, dict(request.headers), None)
        self.line.calls.append(call)
        bearer = request.headers.get("Authorization", "").removeprefix("Bearer ")
        user = self.line.access_tokens.get(bearer)
        if user is None:
            return self.line.answer(call, 401, {"message": "invalid token"})
        return self.line.answer(call, 200, {"userId": user, "displayName": user})

    async def liff_sdk(self, request: web.Request) -> web.Response:
        """A stand-in for LINE's LIFF SDK: logged in, with the token a test put on the page."""
        return web.Response(text=LIFF_STAND_IN, content_type="application/javascript")
