"""The console's roster (避難行動要支援者名簿): the list by 担当, the import (a preview first,
then the commit), the letter a person is mailed (its code and QR), and a roll-call's tally of
the roster's people by 担当, printable and as a file for the 被災者支援 systems. Who sees whose
details is care.roster.visibility's."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

from aiohttp import web

from admin.access import DESK, OPERATOR, allow
from admin.auth import session_of
from admin.files import export_page, purposeful_csv
from admin.pages import page, page_status, read_tally, roll_call_of
from admin.render import admin_locale, services_of
from care.desk.reading import VIEW_AUDIT_EVERY
from care.errors import Refused
from care.privacy import exports
from care.roster import carers, csv_file, importing, letters, tally, visibility
from ground.identifiers import row_id, row_ids
from ground.qr_codes import qr_png
from storage.roster import PENDING_KEPT


@allow(OPERATOR, DESK)
async def roster(request: web.Request) -> web.Response:
    """The roster by 担当: 運用管理 see everyone; the 窓口, those it may see now (with 平常時同意,
    or everyone during a declared disaster), and how many it may not."""
    session = session_of(request)
    role = session.admin.role
    async with services_of(request).unit_of_work() as work:
        moment = await visibility.now(work)
        people = await work.repos.roster.everyone(removed_too=role is OPERATOR)
        members = await work.repos.members.get_many([p.member_id for p in people])
        await work.repos.admin.audit_view(
            session.admin.name, "roster_viewed", "roster", work.now, VIEW_AUDIT_EVERY
        )
    shown = [p for p in people if visibility.staff_sees(role, p, moment)]
    rows = [
        {
            "person": p,
            "reached_by": letters.reached_by(p, members.get(p.member_id)),
            "letter_until": letters.expires(p) if p.letter_code else None,
        }
        for p in shown
    ]
    context = {
        "rows": rows,
        "hidden": len(people) - len(shown),
        "moment": moment,
        "operator": role is OPERATOR,
    }
    return await page(request, "roster.html", context)


# The reasons a line is refused whose words are in admin.gaps41.reason (the rest:
# admin.register41.reason).
GAPS41_REASONS = frozenset({"invisible"})


@allow(OPERATOR)
async def import_form(request: web.Request) -> web.Response:
    return await page(request, "roster_import.html", _import_context())


def _import_context(**more: Any) -> dict[str, Any]:
    return {
        "preview": None,
        "done": None,
        "problem": None,
        "import_id": None,
        "limit_kb": csv_file.MAX_BYTES // 1024,
        "limit_lines": csv_file.MAX_LINES,
        "gaps41_reasons": GAPS41_REASONS,
        **more,
    }


async def _refused_file(request: web.Request, refused: csv_file.FileRefused) -> web.Response:
    problem = admin_locale(request).t(f"admin.register41.file.{refused.reason}", **refused.values)
    return await page_status(request, "roster_import.html", _import_context(problem=problem), 400)


@allow(OPERATOR)
async def import_action(request: web.Request) -> web.Response:
    """preview: the file read against the roster, kept until its commit; commit: applied as
    the preview showed it, or refused when the roster changed in between."""
    form = await request.post()
    staff = session_of(request).admin.name
    action = str(form.get("action", ""))
    if action == "preview":
        upload = form.get("file")
        if not isinstance(upload, web.FileField):
            return await _refused_file(request, csv_file.FileRefused("empty"))
        data = upload.file.read(csv_file.MAX_BYTES + 1)
        try:
            text, encoding = csv_file.decoded(data)
            async with services_of(request).unit_of_work() as work:
                found = await importing.preview(work, text, encoding)
                await work.repos.roster_imports.forget_before(work.now - PENDING_KEPT, staff)
                import_id = await work.repos.roster_imports.keep(
                    staff, f"{encoding}\n{text}", found.state, work.now
                )
                detail = " ".join(f"{k} {v}" for k, v in found.counts().items())
                await work.repos.admin.audit(staff, "roster_previewed", detail, work.now)
        except csv_file.FileRefused as refused:
            return await _refused_file(request, refused)
        context = _import_context(preview=found, import_id=import_id)
        return await page(request, "roster_import.html", context)
    if action == "commit":
        import_id = row_id(form.get("import_id"))
        async with services_of(request).unit_of_work() as work:
            kept = await work.repos.roster_imports.get(import_id or 0, staff)
            if kept is None or kept[2] + PENDING_KEPT <= work.now:
                stale = True
            else:
                content, state, _ = kept
                encoding, text = content.split("\n", 1)
                try:
                    done = await importing.commit(work, text, encoding, state, staff)
                    await work.repos.roster_imports.forget(import_id or 0)
                    stale = False
                except importing.Stale:
                    stale = True
        if stale:
            problem = admin_locale(request).t("admin.register41.stale")
            context = _import_context(problem=problem)
            return await page_status(request, "roster_import.html", context, 409)
        return await page(request, "roster_import.html", _import_context(done=done))
    raise web.HTTPBadRequest(text="unknown action")


@allow(OPERATOR)
async def letter(request: web.Request) -> web.Response:
    """The letter the city mails: her name and address for the envelope's window, the code
    and its QR (the bot's chat with the code typed in), and until when it works."""
    services = services_of(request)
    person_id = row_id(request.match_info["person_id"])
    staff = session_of(request).admin.name
    try:
        async with services.unit_of_work() as work:
            person = await letters.person(work, person_id)
            await work.repos.admin.audit_view(
                staff, "roster_letter_viewed", f"roster {person.id}", work.now, VIEW_AUDIT_EVERY
            )
            until = letters.expires(person)
            if until is not None and until > work.now:
                # Shown to print: her code is on a letter now (the pages of letters skip her).
                await letters.printed(work, person)
    except Refused:
        raise web.HTTPNotFound(text="no such person on the roster") from None
    locale = services.i18n.get("ja")
    qr = link = None
    if person.letter_code and person.linked_at is None:
        link = await letters.chat_link(services.line, locale, person.letter_code)
        if link:
            png = await asyncio.to_thread(qr_png, link)
            qr = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    until = letters.expires(person)
    context = {
        "person": person,
        "qr": qr,
        "link": link,
        "until": until,
        "expired": until is not None and until <= services.clock.now(),
    }
    return await page(request, "roster_letter.html", context)


@allow(OPERATOR)
async def new_letter(request: web.Request) -> web.Response:
    person_id = row_id(request.match_info["person_id"])
    staff = session_of(request).admin.name
    try:
        async with services_of(request).unit_of_work() as work:
            await letters.new_letter(work, person_id, staff)
    except Refused:
        raise web.HTTPNotFound(text="no such person on the roster") from None
    raise web.HTTPSeeOther(f"/admin/roster/{person_id}/letter")


@allow(OPERATOR, DESK)
async def roll_call_tally(request: web.Request, sent: carers.Sent | None = None) -> web.Response:
    """The roster's people in a roll-call by 担当: those who asked for help, the silent and
    the never asked, with how to find them where the viewer may see it. Printable: the 窓口
    hands each 民生委員 their page."""
    role = session_of(request).admin.role
    call, found = await read_tally(
        request,
        lambda work, call: tally.by_carer(work, call, role),
        "roster_tally_viewed",
        "roster-tally",
    )
    return await page(request, "roster_tally.html", {"tally": found, "call": call, "sent": sent})


@allow(OPERATOR, DESK)
async def send_to_carers(request: web.Request) -> web.Response:
    """Each assigned partner on LINE gets their people who need a visit (care.roster.carers)."""
    call = await roll_call_of(request)
    staff = session_of(request).admin.name
    async with services_of(request).unit_of_work() as work:
        sent = await carers.send(work, call, staff)
    return await roll_call_tally(request, sent)


async def _export_of(request: web.Request) -> exports.Export:
    call = await roll_call_of(request)
    async with services_of(request).reading() as work:
        return await tally.export(work, call)


@allow(OPERATOR)
async def export_form(request: web.Request) -> web.Response:
    return await export_page(request, await _export_of(request))


@allow(OPERATOR)
async def export(request: web.Request) -> web.Response:
    return await purposeful_csv(request, await _export_of(request), "roster_tally_export")


@allow(OPERATOR)
async def letters_form(request: web.Request) -> web.Response:
    """Letters for many at once: everyone on the roster not yet on LINE, those without a
    valid letter chosen already (a code the import made and nobody printed is none)."""
    async with services_of(request).reading() as work:
        people = await work.repos.roster.everyone(removed_too=False)
        now = work.now
    rows = [
        {
            "person": p,
            "needs": not letters.has_valid_letter(p, now),
            "until": letters.expires(p),
        }
        for p in people
        if letters.can_have_letter(p)
    ]
    context = {
        "rows": rows,
        "needing": sum(1 for row in rows if row["needs"]),
        "limit": letters.LETTERS_PER_PAGE,
    }
    return await page(request, "roster_letters.html", context)


@allow(OPERATOR)
async def print_letters(request: web.Request) -> web.Response:
    """Issue the letters (each as one letter is: a new code, the one before void, audited),
    then show them on a page of their own: reloading that page shows the same letters, and
    issues nothing again."""
    form = await request.post()
    scope = str(form.get("scope", ""))
    staff = session_of(request).admin.name
    chosen: list[int] | None = None
    if scope == "selected":
        chosen = row_ids(form.getall("person_id", []))
        if not chosen:
            raise web.HTTPBadRequest(text="no one chosen")
    elif scope != "needing":
        raise web.HTTPBadRequest(text="unknown scope")
    async with services_of(request).unit_of_work() as work:
        issued, left = await letters.print_letters(work, chosen, staff)
    ids = ",".join(str(p.id) for p in issued)
    raise web.HTTPSeeOther(f"/admin/roster/letters/print?ids={ids}&left={left}")


@allow(OPERATOR)
async def letters_page(request: web.Request) -> web.Response:
    """The letters just issued, each on its own printed page with its QR."""
    services = services_of(request)
    wanted = [row_id(v) for v in request.query.get("ids", "").split(",") if v]
    ids = [i for i in wanted if i][: letters.LETTERS_PER_PAGE]
    left = row_id(request.query.get("left", "0")) or 0
    staff = session_of(request).admin.name
    async with services.unit_of_work() as work:
        people = [p for p in [await work.repos.roster.get(i) for i in ids] if p is not None]
        # Whose letters (each with a live code that makes a LINE account her): named, so a
        # page read for other people within the hour is a line of its own.
        shown_ids = ",".join(str(p.id) for p in people)
        detail = f"letters {len(people)}: roster {shown_ids}"
        await work.repos.admin.audit_view(
            staff, "roster_letters_viewed", detail, work.now, VIEW_AUDIT_EVERY
        )
        now = work.now
    locale = services.i18n.get("ja")
    shown = []
    for person in people:
        if not letters.can_have_letter(person) or not letters.has_valid_letter(person, now):
            continue  # joined since, taken off, or a newer letter since: not this one
        assert person.letter_code is not None
        qr = None
        link = await letters.chat_link(services.line, locale, person.letter_code)
        if link:
            png = await asyncio.to_thread(qr_png, link)
            qr = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
        shown.append({"person": person, "qr": qr, "until": letters.expires(person)})
    context = {"letters": shown, "left": left, "limit": letters.LETTERS_PER_PAGE}
    return await page(request, "roster_letters_print.html", context)


def add_routes(console: web.Application) -> None:
    add = console.router.add_route
    add("GET", "/roster", roster)
    add("GET", "/roster/import", import_form)
    add("POST", "/roster/import", import_action)
    add("GET", "/roster/letters", letters_form)
    add("POST", "/roster/letters", print_letters)
    add("GET", "/roster/letters/print", letters_page)
    add("GET", "/roster/{person_id}/letter", letter)
    add("POST", "/roster/{person_id}/letter", new_letter)
    add("GET", "/rollcalls/{call_id}/roster", roll_call_tally)
    add("POST", "/rollcalls/{call_id}/roster", send_to_carers)
    add("GET", "/rollcalls/{call_id}/roster.csv", export_form)
    add("POST", "/rollcalls/{call_id}/roster.csv", export)
