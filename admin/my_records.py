"""本人の記録 for a paper disclosure request (個人情報保護法 第76条): 運用管理 produces the same
record the person sees on My page (care.privacy.disclosure), as JSON or CSV, and the audit row says
for whom, under which request reference, in which format and how much. A refusal (no reference,
nobody with that id) says why and produces nothing."""

from __future__ import annotations

from aiohttp import web

from admin.access import OPERATOR, allow
from admin.auth import audit
from admin.render import render, services_of
from care.privacy.disclosure import record_of
from ground.identifiers import row_id

REFERENCE_MIN = 4
REFERENCE_LIMIT = 100
FORMATS = ("json", "csv")


def reference_of(text: str) -> str | None:
    """The request's reference as the form gave it; None when it cannot be recorded."""
    cleaned = " ".join(text.split())
    if not REFERENCE_MIN <= len(cleaned) <= REFERENCE_LIMIT:
        return None
    if any(ord(ch) < 32 for ch in cleaned):
        return None
    return cleaned


def _form(
    request: web.Request, member_id: str = "", reference: str = "", problem: str = ""
) -> web.Response:
    return render(
        request,
        "my_records.html",
        {
            "member_id": member_id,
            "reference": reference,
            "formats": FORMATS,
            "problem": problem,
            "reference_min": REFERENCE_MIN,
            "reference_limit": REFERENCE_LIMIT,
        },
        status=400 if problem else 200,
    )


@allow(OPERATOR)
async def records_form(request: web.Request) -> web.Response:
    return _form(request, member_id=request.query.get("member_id", "")[:20])


@allow(OPERATOR)
async def produce(request: web.Request) -> web.Response:
    form = await request.post()
    typed_id = str(form.get("member_id", ""))[:20]
    typed_reference = str(form.get("reference", ""))[: REFERENCE_LIMIT * 2]
    kind = str(form.get("format", ""))
    reference = reference_of(typed_reference)
    if reference is None or kind not in FORMATS:
        return _form(request, typed_id, typed_reference, "no_reference")
    member_id = row_id(typed_id.strip())
    services = services_of(request)
    async with services.reading() as work:
        member = await work.repos.members.get(member_id) if member_id is not None else None
        if member is None:
            found = None
        else:
            # In the person's own language, as she would read it on My page.
            found = await record_of(work, services.locale(member.language), member)
    if member is None or found is None:
        return _form(request, typed_id, typed_reference, "not_found")
    rows = sum(len(rows) for rows in found.sections.values())
    await audit(
        request,
        "disclosure",
        f"member {member.id}: reference {reference}; {kind}; {rows} rows,"
        f" {found.withheld_notes} staff notes withheld",
    )
    text = found.to_json() if kind == "json" else found.to_csv()
    return web.Response(
        body=text.encode("utf-8"),
        content_type="application/json" if kind == "json" else "text/csv",
        charset="utf-8",
        headers={
            "Content-Disposition": (f'attachment; filename="mimamori-records-{member.id}.{kind}"'),
            "Cache-Control": "no-store",
        },
    )


def add_routes(console: web.Application) -> None:
    add = console.router.add_route
    add("GET", "/records", records_form)
    add("POST", "/records", produce)
