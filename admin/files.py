"""The console's files: CSV a spreadsheet opens safely, and the form that states the purpose
a file of people's details is taken out for."""

from __future__ import annotations

import csv
import io
import unicodedata
from typing import Any

from aiohttp import web

from admin.auth import audit
from admin.render import render
from care.privacy import exports

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> Any:
    """A text cell a spreadsheet will not run as a formula (OWASP's CSV injection advice: a
    leading =, +, -, @, tab or carriage return is prefixed with a quote). Japanese spreadsheet
    programs also read the full-width ＝＋－＠ as formulas, and skip leading spaces: the
    first character is read as NFKC would have it, after any spaces."""
    if not isinstance(value, str):
        return value
    first = unicodedata.normalize("NFKC", value.lstrip(" \u3000")[:1])
    if value.startswith(FORMULA_START) or first.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_file(name: str, header: list[str], rows: list[list[Any]]) -> web.Response:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows([[cell(value) for value in row] for row in rows])
    # A BOM so that spreadsheet programs in Japan open the UTF-8 file correctly.
    return web.Response(
        body=("\ufeff" + buffer.getvalue()).encode("utf-8"),
        content_type="text/csv",
        charset="utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            # People's names and phone numbers: no proxy or browser cache keeps a copy.
            "Cache-Control": "no-store",
        },
    )


async def export_page(
    request: web.Request, found: exports.Export, problem: bool = False
) -> web.Response:
    """What a file of people's details will hold, and the form that states its purpose."""
    return render(
        request,
        "export.html",
        {
            "export": found,
            "action": request.path,
            "purposes": exports.PURPOSES,
            "text_min": exports.PURPOSE_TEXT_MIN,
            "text_limit": exports.PURPOSE_TEXT_LIMIT,
            "problem": problem,
        },
        status=400 if problem else 200,
    )


async def purposeful_csv(request: web.Request, found: exports.Export, action: str) -> web.Response:
    """The file, once the form stated a purpose (else the form again, saying it is needed);
    the audit row says what, how many rows, how many fields were withheld, and why."""
    form = await request.post()
    purpose = exports.purpose_of(str(form.get("purpose", "")), str(form.get("purpose_text", "")))
    if purpose is None:
        return await export_page(request, found, problem=True)
    await audit(request, action, found.detail(purpose))
    response = csv_file(found.name, found.header, found.rows)
    response.headers["X-Withheld-Fields"] = str(found.withheld)
    return response
