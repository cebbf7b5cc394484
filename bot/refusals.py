"""How the chat says why the service layer refused an action (a locale key per refusal)."""

from __future__ import annotations

from care.errors import Refusal, Refused
from ground import messages
from ground.i18n import Locale
from storage.models import Role

REFUSAL_TEXT: dict[Refusal, str] = {
    Refusal.UNKNOWN_CODE: "invite.unknown",
    Refusal.CODE_EXPIRED: "invite.expired",
    Refusal.ALREADY_MEMBER: "invite.already",
    Refusal.NOT_MEMBER: "team.not_member",
    Refusal.NO_SUCH_TEAM: "team.not_member",
    Refusal.NOT_ALLOWED: "member.not_allowed",
    Refusal.INVALID_LANGUAGE: "postback.invalid",
    Refusal.NO_CHECKINS: "pause.no_checkins",
    Refusal.OUT_OF_RANGE: "postback.invalid",
    Refusal.INVALID_NAME: "team.bad_name",
    Refusal.ONLY_STARTER: "group.only_starter",
    Refusal.GROUP_NOT_SET: "group.not_set",
    Refusal.NO_SUCH_MEMBER: "postback.invalid",
    Refusal.ROLE_MISMATCH: "postback.invalid",
    Refusal.ALERT_CLOSED: "alert.closed",
    Refusal.ALERT_OPEN: "checkin.alert_open_refused",
    Refusal.INVALID_MEMO: "postback.invalid",
    Refusal.NOBODY: "rollcall.nobody",
    Refusal.QUOTA_SHORT: "rollcall.quota_short",
    Refusal.ROLL_CALL_CLOSED: "rollcall.closed",
    Refusal.NOT_ASKED: "rollcall.not_asked",
    Refusal.TOO_OFTEN: "limits.too_often",
    Refusal.NOT_PAUSED: "pause.not_paused",
    Refusal.NO_SUCH_CASE: "postback.invalid",
    Refusal.CASE_CLOSED: "visit.closed",
    Refusal.INVALID_NOTE: "postback.invalid",
    Refusal.INVALID_PHONE: "postback.invalid",
    Refusal.NO_CALLS: "postback.invalid",
    Refusal.INVALID_DEVICE: "postback.invalid",
    Refusal.INVALID_PERSON_NAME: "postback.invalid",
    Refusal.NO_CONSENT: "postback.invalid",
    Refusal.NO_SUCH_DEVICE: "postback.invalid",
    Refusal.NO_DESK: "postback.invalid",
    Refusal.INVALID_TURN: "postback.invalid",
    Refusal.INVALID_PARTNER: "postback.invalid",
    Refusal.NO_SUCH_PARTNER: "postback.invalid",
    Refusal.NO_SUCH_VISIT: "postback.invalid",
    Refusal.PARTNER_CODE: "visit.code_unknown",
    Refusal.VISIT_WITHDRAWN: "visit.withdrawn",
    Refusal.LETTER_EXPIRED: "register41.letter_expired",
    Refusal.LETTER_TAKEN: "register41.letter_taken",
    Refusal.LETTER_PARTNER: "attack41.letter_partner",
    Refusal.PARTNER_ON_ROSTER: "attack41.partner_on_roster",
    Refusal.LETTER_OWN_RECORD: "gaps41.letter_own_record",
    Refusal.NO_SUCH_ROSTER_PERSON: "postback.invalid",
}


def refusal_message(locale: Locale, refused: Refused) -> messages.Message:
    values = {
        name: locale.t(f"role_name.{value.value}") if isinstance(value, Role) else value
        for name, value in refused.values.items()
    }
    return messages.text(locale.t(REFUSAL_TEXT[refused.reason], **values))
