"""The reference for bench/taps.py: an aiohttp app that only verifies LINE's signature.

python -m bench.bare --port 8090 --secret SECRET
"""

from __future__ import annotations

import argparse

from aiohttp import web
from linebot.v3.webhook import SignatureValidator


def make_app(secret: str) -> web.Application:
    validator = SignatureValidator(secret)

    async def callback(request: web.Request) -> web.Response:
        body = await request.text()
        if not validator.validate(body, request.headers.get("X-Line-Signature", "")):
            return web.json_response({"error": "invalid signature"}, status=400)
        return web.json_response({"status": "ok"})

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.router.add_post("/callback", callback)
    app.router.add_get("/healthz", healthz)
    return app


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--uvloop", action="store_true")
    args = parser.parse_args()
    loop = None
    if args.uvloop:
        import uvloop

        loop = uvloop.new_event_loop()
    web.run_app(make_app(args.secret), host="127.0.0.1", port=args.port, print=None, loop=loop)
