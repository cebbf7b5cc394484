"""What a person enters about herself (name, ふりがな, phone, address, birth date, 緊急時メモ):
checked and kept as she typed it, with no hidden characters."""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Any

from care.errors import Refusal, Refused
from care.services import UnitOfWork
from storage.models import PERSONAL_FIELDS, Member, PersonalFields

FIELD_LIMITS = {"full_name": 50, "furigana": 50, "phone": 20, "address": 100}


GENDERS = ("", "female", "male", "other")


PHONE = re.compile(r"^\+?[0-9][0-9-]{8,18}[0-9]$")


ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def hidden_characters(text: str, allowed: str = "") -> bool:
    """Control and format characters (bidirectional overrides, zero-width spaces) that make
    text read other than it is, refused everywhere as team names refuse them."""
    return any(unicodedata.category(c).startswith("C") and c not in allowed for c in text)


def validate_personal(body: dict[str, Any], today: date) -> tuple[PersonalFields, dict[str, str]]:
    """The optional card fields from a form, and what is wrong with them (field -> problem)."""
    values = {
        name: unicodedata.normalize("NFKC", str(body.get(name) or "")).strip()
        for name in PERSONAL_FIELDS
    }
    problems = {}
    for name, limit in FIELD_LIMITS.items():
        if len(values[name]) > limit:
            problems[name] = "too_long"
        elif hidden_characters(values[name]):
            problems[name] = "hidden_characters"
    if values["gender"] not in GENDERS:
        problems["gender"] = "unknown"
    if values["phone"] and not PHONE.match(values["phone"]):
        problems["phone"] = "not_a_phone_number"
    if values["birth_date"]:
        try:
            # Only YYYY-MM-DD: Python also reads 19400203 and 2020-W01-1, stored as typed.
            if not ISO_DATE.match(values["birth_date"]):
                raise ValueError(values["birth_date"])
            born = date.fromisoformat(values["birth_date"])
        except ValueError:
            problems["birth_date"] = "not_a_date"
        else:
            if not date(1900, 1, 1) <= born <= today:
                problems["birth_date"] = "out_of_range"
    return PersonalFields(**values), problems


MEMO_LIMIT = 1000


async def save_memo(work: UnitOfWork, member: Member, memo: str) -> None:
    """緊急時メモ: what a responder needs (spare key, doctor, medicines, pets, whom to call).
    It reaches the managers only inside an alert."""
    text = unicodedata.normalize("NFKC", memo).strip()
    if len(text) > MEMO_LIMIT or hidden_characters(text, allowed="\n"):
        raise Refused(Refusal.INVALID_MEMO, max=MEMO_LIMIT)
    await work.repos.members.set_memo(member.id, text)


async def save_personal(work: UnitOfWork, member: Member, fields: PersonalFields) -> None:
    await work.repos.members.set_personal(member.id, fields)
