"""On the city's own LINE account, shared with its other services: which webhook events are
mimamori's, and which belong to the city's system.

The city's account has one webhook URL. With mimamori in front (MIMAMORI_FORWARD_URL), every
event that is not mimamori's is forwarded to the city's system unchanged, and mimamori never
answers it (a reply token is good once: the city's system answers it). With mimamori behind
(the city's vendor forwards events to mimamori), such events are left alone.

mimamori's own: its signed postbacks, and LINE's postback for a switch to its tab (whatever
data the city's tile carries: mimamori greets whoever opens it); a person in the middle of one
of its dialogs or with a check-in open (what they write is an answer); its keywords
(「見守り」, an invite code, a partner's code, words of distress from someone it watches); its
groups. A block is both: the city's system hears it, and mimamori stops check-ins and tells the
managers. A follow is the city's: it enrols nobody (a person starts with the menu tab,
「見守り」, My page or an invite), unless the follower is someone mimamori knows coming back,
when it is both (mimamori then says nothing: the city's system has the reply).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from care.rounds import answers
from ground import invite_codes, link_codes
from ground.i18n import I18n
from ground.rich_menu import TAB_ALIAS


class Owner(StrEnum):
    OURS = "ours"  # mimamori handles it and answers it
    THEIRS = "theirs"  # the city's system: forwarded (front) or left alone (behind)
    BOTH = "both"  # mimamori acts on it without answering, and the city's system has it too


@dataclass(frozen=True)
class Known:
    """What mimamori knows of an event's sender and chat."""

    our_postback: bool = False  # the postback's data is mimamori's, signed
    our_tab: bool = False  # LINE's postback for a switch to mimamori's tab of the city's menu
    member: bool = False  # the sender is a member (not withdrawn)
    blocked: bool = False  # ... who had blocked the account
    busy: bool = False  # ... in one of mimamori's dialogs, or with a check-in open
    our_words: bool = False  # 「見守り」, an invite code, words of distress from a member
    our_group: bool = False  # a group or room mimamori is in


GROUP_EVENTS = ("join", "leave", "memberJoined", "memberLeft")


def owner(event_type: str, source_type: str, known: Known) -> Owner:
    """Whose event this is on a shared account."""
    if source_type in ("group", "room"):
        if event_type == "join":
            return Owner.OURS  # mimamori was invited: つながり is its
        return Owner.OURS if known.our_group else Owner.THEIRS
    if event_type == "postback":
        return Owner.OURS if known.our_postback or known.our_tab else Owner.THEIRS
    if event_type == "message":
        return Owner.OURS if known.our_words or known.busy else Owner.THEIRS
    if event_type == "unfollow":
        return Owner.BOTH if known.member else Owner.THEIRS
    if event_type == "follow":
        return Owner.BOTH if known.member and known.blocked else Owner.THEIRS
    # accountLink, beacon, things, unsend, videoPlayComplete, membership, and what LINE adds.
    return Owner.THEIRS


def start_words(i18n: I18n) -> frozenset[str]:
    """「見守り」 and its spellings, in every language: how a person asks to start."""
    found: set[str] = set()
    for language in i18n.languages:
        words = i18n.get(language).t("shared.start_words")
        found |= {w.strip().lower() for w in words.split(",") if w.strip()}
    return frozenset(found)


def our_words(text: str | None, i18n: I18n, language: str | None) -> bool:
    """Text mimamori answers on a shared account: 「見守り」, an invite code (typed, or from an
    invite link that fills it in), or words of distress from someone it knows."""
    if text is None:
        return False
    if text.strip().lower() in start_words(i18n) or invite_codes.find_code(text) is not None:
        return True
    if link_codes.find_code(text) is not None:  # a partner's code, from the console
        return True
    return language is not None and answers.is_distress(
        text, answers.distress_words(i18n, language)
    )


def chat_of(raw: dict[str, Any]) -> str:
    """The chat an event belongs to (forwarded in order per chat)."""
    source = raw.get("source")
    if not isinstance(source, dict):
        return ""
    return str(source.get("groupId") or source.get("roomId") or source.get("userId") or "")


def opens_our_tab(raw_params: dict[str, Any] | None) -> bool:
    """A postback's params say she switched to mimamori's tab (LINE's richmenuswitch)."""
    params = raw_params or {}
    return params.get("newRichMenuAliasId") == TAB_ALIAS and params.get("status") == "SUCCESS"
