"""Which numbers the city's phone may ring: a person's phone in a country the deployment allows
(MIMAMORI_CALL_COUNTRIES, Japan alone by default), never a number that costs the caller more
than a call or that is no one's phone.

Every call is paid by the city: a number typed on My page could be a premium-rate line that
pays whoever typed it (ダイヤルQ2), a foreign number, or a company's shared line. The rule is
asked where a number is set (My page, the console) and again when a call is dialled, since the
setting can change between the two.
"""

from __future__ import annotations

from care.errors import Refusal

JAPAN = "81"
# Japanese numbers (after +81, the leading 0 dropped) that are not a person's phone: a call to
# them costs more, pays someone, or rings a service. 0120/0800 フリーダイヤル (a company's line,
# free to the caller only from Japan's networks), 0570 ナビダイヤル (charged per minute, a
# service's queue), 0990 ダイヤルQ2 (premium rate: the called party is paid), 0180 テレドーム
# (a vote line), 0170 伝言ダイヤル, 020 (M2M devices and pagers), 0910 and 0600 (reserved).
NOT_A_PERSON = ("120", "800", "570", "990", "180", "170", "20", "910", "600")
# A Japanese number has 9 digits after +81 (03-1234-5678) or 10 (090-1234-5678, 050-...).
JAPAN_DIGITS = (9, 10)
NANP = "1"
# +1 is not one country: allowing the United States and Canada (MIMAMORI_CALL_COUNTRIES=81,1)
# must not allow the Caribbean and Atlantic countries that share the plan, whose numbers are
# where international revenue-share fraud pays (Jamaica 876, the British Virgin Islands 284,
# Turks and Caicos 649...), nor the premium-rate 900 and 976. An area code of three digits,
# then seven: ten digits after +1.
NANP_NOT_A_PERSON = ("900", "976")
NANP_OTHER_COUNTRIES = (
    "242", "246", "264", "268", "284", "345", "441", "473", "649", "658", "664",
    "721", "758", "767", "784", "809", "829", "849", "868", "869", "876",
)  # fmt: skip
NANP_DIGITS = 10


def refusal(number: str, countries: frozenset[str]) -> Refusal | None:
    """Why the city's phone may not ring `number` (E.164, as care.rounds.calls.e164 writes it), or
    None when it may."""
    if not number.startswith("+") or not number[1:].isdigit():
        return Refusal.INVALID_PHONE
    digits = number[1:]
    # Country codes are prefix-free (ITU E.164): a number starts with exactly one of them.
    if not any(digits.startswith(code) for code in countries):
        return Refusal.NUMBER_ABROAD
    if digits.startswith(JAPAN):
        national = digits[len(JAPAN) :]
        if national.startswith("0") or len(national) not in JAPAN_DIGITS:
            return Refusal.INVALID_PHONE
        if national.startswith(NOT_A_PERSON):
            return Refusal.NUMBER_NOT_A_PERSON
    if digits.startswith(NANP):
        national = digits[len(NANP) :]
        # An area code starts with 2-9 (0 and 1 are not one).
        if len(national) != NANP_DIGITS or national[0] in "01":
            return Refusal.INVALID_PHONE
        if national.startswith(NANP_NOT_A_PERSON):
            return Refusal.NUMBER_NOT_A_PERSON
        if national.startswith(NANP_OTHER_COUNTRIES):
            return Refusal.NUMBER_ABROAD
    return None


def countries_label(countries: frozenset[str]) -> str:
    """The allowed country codes as a person reads them: +81, +1."""
    return ", ".join(f"+{code}" for code in sorted(countries))
