"""My page's HTML: one page shell per screen, rendered with jinja2 in the deployment's brand."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import urlsplit

import jinja2
from aiohttp import web

from care.services import SERVICES
from ground.branding import load_branding
from ground.i18n import first_language

TEMPLATES = Path(__file__).resolve().parent / "templates"
STATIC = Path(__file__).resolve().parent / "static"
PAGES = {
    "mypage": "/liff/",
    "teams": "/liff/teams",
    "terms": "/liff/terms",
    # Her card: her phone number, address and 緊急時メモ, for those she shows them to
    # (care.members.cards).
    "card": "/liff/card/{member_id}",
}

_environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined
)


def content_security_policy(sdk_url: str) -> str:
    parts = urlsplit(sdk_url)
    sdk_origin = f"{parts.scheme}://{parts.netloc}"
    return "; ".join(
        [
            "default-src 'none'",
            f"script-src 'self' {sdk_origin}",
            "style-src 'self'",
            "img-src 'self' data: blob:",
            f"connect-src 'self' https://*.line.me https://*.line-scdn.net {sdk_origin}",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )


def page(name: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handler(request: web.Request) -> web.Response:
        settings = request.app[SERVICES].settings
        locale = request.app[SERVICES].i18n.get(
            first_language(request.headers.get("Accept-Language", ""))
        )
        branding = load_branding(settings.branding)
        texts = locale.section("liff")
        body = _environment.get_template("page.html").render(
            page=name,
            pages=PAGES,
            language=locale.language,
            texts=texts,
            service_name=branding.service_name,
            contact=branding.contact,
            terms_html=branding.terms_html,
            liff_id=settings.liff_id or "",
            sdk_url=settings.liff_sdk_url,
        )
        response = web.Response(text=body, content_type="text/html")
        response.headers["Content-Security-Policy"] = content_security_policy(
            settings.liff_sdk_url
        )
        response.headers["Cache-Control"] = "no-store"
        return response

    return handler


async def brand_css(request: web.Request) -> web.Response:
    branding = load_branding(request.app[SERVICES].settings.branding)
    variables = "".join(
        f"--{name.replace('_', '-')}:{value};" for name, value in branding.colours.items()
    )
    return web.Response(text=f":root{{{variables}}}", content_type="text/css")


async def banner(request: web.Request) -> web.FileResponse:
    return web.FileResponse(load_branding(request.app[SERVICES].settings.branding).banner)
