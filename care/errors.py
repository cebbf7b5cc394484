"""Why the service layer refused an action; each surface says it in its own way."""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class Refusal(StrEnum):
    UNKNOWN_CODE = "unknown_code"  # an invite code that does not exist or was revoked
    CODE_EXPIRED = "code_expired"  # a manager code older than its lifetime
    ALREADY_MEMBER = "already_member"  # the person is in that team already (values: team, role)
    NOT_MEMBER = "not_member"  # the person is not in the team the action names
    NOT_ALLOWED = "not_allowed"  # someone else's card, and not a user of a team one manages
    INVALID_LANGUAGE = "invalid_language"  # a language the service has no texts in
    NO_CHECKINS = "no_checkins"  # pausing needs a schedule to pause
    OUT_OF_RANGE = "out_of_range"  # a pause date in the past or too far ahead
    INVALID_NAME = "invalid_name"  # a team name that is empty, too long or has control chars
    NO_SUCH_TEAM = "no_such_team"  # a team id that does not exist (or was deleted)
    NO_SUCH_MEMBER = "no_such_member"  # a 会員ID that nobody has
    ONLY_STARTER = "only_starter"  # a group restricted to the member who set it up
    GROUP_NOT_SET = "group_not_set"  # a group without a schedule cannot pause
    INVALID_MEMO = "invalid_memo"  # a 緊急時メモ too long, or with control characters
    NOBODY = "nobody"  # a roll-call that would reach nobody
    QUOTA_SHORT = "quota_short"  # the month's quota cannot cover it (values: need, left)
    ROLL_CALL_CLOSED = "roll_call_closed"  # the roll-call is over (or unknown)
    NOT_ASKED = "not_asked"  # a roll-call for someone else (a forwarded message)
    ALERT_CLOSED = "alert_closed"  # the alert was answered or confirmed already (values: name)
    ROLE_MISMATCH = "role_mismatch"  # e.g. removing as a manager someone who is a user
    NOT_PAUSED = "not_paused"  # resuming check-ins that are not paused
    TOO_OFTEN = "too_often"  # a test or a chat roll-call past its rate (values: times)
    NO_SUCH_CASE = "no_such_case"  # a desk case id that does not exist
    NO_SUCH_PERSON = "no_such_person"  # a person the desk has no case of, nor watches
    CASE_CLOSED = "case_closed"  # the desk's case is closed already
    INVALID_TURN = "invalid_turn"  # a turn not 1-3, or a turn length not 10-1440 minutes
    NO_DESK = "no_desk"  # the deployment has no desk (MIMAMORI_DESK_AFTER is not set)
    INVALID_PARTNER = "invalid_partner"  # a partner's name, kind, phone or area that is wrong
    NO_SUCH_PARTNER = "no_such_partner"  # a partner id that does not exist (or was removed)
    NO_SUCH_VISIT = "no_such_visit"  # a visit id that does not exist
    PARTNER_CODE = "partner_code"  # a partner's code unknown, spent or expired (no telling which)
    VISIT_WITHDRAWN = "visit_withdrawn"  # the partner was removed: their visits were withdrawn
    INVALID_PHONE = "invalid_phone"  # a number a call cannot ring
    NO_CALLS = "no_calls"  # the deployment places no calls (Twilio is not set)
    NO_CONSENT = "no_consent"  # staff acting for a person without recording their consent
    INVALID_PERSON_NAME = "invalid_person_name"  # a name the desk typed, empty or too long
    INVALID_DEVICE = "invalid_device"  # a device's name empty, too long or with control chars
    NO_SUCH_DEVICE = "no_such_device"  # a device unknown, or revoked
    INVALID_NOTE = "invalid_note"  # a note too long, or with control characters (values: limit)
    # The number of a call (care.rounds.numbers, care.rounds.verify): a country the deployment does
    # not call (values: countries), a number that is not a person's phone (ナビダイヤル,
    # ダイヤルQ2...).
    NUMBER_ABROAD = "number_abroad"
    NUMBER_NOT_A_PERSON = "number_not_a_person"
    NOBODY_WATCHES = "nobody_watches"  # a call only for someone a manager or the desk watches
    NOT_PRESENT = "not_present"  # staff confirming her number without her beside them
    NO_NUMBER = "no_number"  # verifying, or confirming, a number that is not set
    ALREADY_VERIFIED = "already_verified"  # a verification call for a number that is hers
    CALLS_SPENT = "calls_spent"  # the month's call budget is spent: no call that can wait
    # A verification call to a number that rings another person's check-ins, or is another
    # member's verified number: it is someone else's phone (the desk can confirm a shared one).
    NUMBER_TAKEN = "number_taken"
    # The month's verification calls, across the deployment, are spent (values: times).
    VERIFY_MONTH_SPENT = "verify_month_spent"
    # Staff confirming a number the same staff account set: another account confirms it.
    SAME_STAFF = "same_staff"
    # 退会 while an alert about the person is open: a manager confirms first (the alert would
    # lose everyone who can close it).
    ALERT_OPEN = "alert_open"
    # The roster's letter (issue 41): its code expired (the city prints a new letter), or this
    # LINE account is another roster person already.
    LETTER_EXPIRED = "letter_expired"
    LETTER_TAKEN = "letter_taken"
    # A partner's LINE (a 民生委員 who scanned her letter for her): it would answer for her.
    LETTER_PARTNER = "letter_partner"
    # ...and the other way: a register person's LINE sending a partner's code.
    PARTNER_ON_ROSTER = "partner_on_roster"
    # A LINE account with a record of its own (her own check-ins, a team she is in): sending a
    # register person's letter code would make her answers that person's. The city sorts it.
    LETTER_OWN_RECORD = "letter_own_record"
    NO_SUCH_ROSTER_PERSON = "no_such_roster_person"  # an id the roster does not list (now)


class Refused(Exception):
    """An action the rules do not allow; nothing was changed."""

    def __init__(self, reason: Refusal, **values: Any) -> None:
        super().__init__(reason.value)
        self.reason = reason
        self.values = values
