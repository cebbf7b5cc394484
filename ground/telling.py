"""What care/ tells a person, before any channel gives it a shape.

A telling is written in the reader's language (a person's language does not change with the
channel) and carries what it means: its form, its sentences, and the choices it offers, each
with the answer it stands for and the signed token that brings the answer back. A channel
renders it at the moment it is sent: LINE as a text, a card or the check-in's Flex bubble;
another channel (a phone call's keypad, a text message with a link) in its own way, from the
same telling, so that adding one is a renderer and a sender and nothing in care/.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Form(StrEnum):
    SENTENCE = "sentence"  # words and nothing to choose
    CARD = "card"  # a heading, words, choices and links (an alert, a roll-call's question)
    CHECKIN = "checkin"  # お元気ですか？: the answer the ladder waits for, OK first
    # A phone call: `text` is spoken and its choices are keys 1, 2, 3 (a choice without data
    # is a key that means nothing on it); `title` is said when no key comes (the call then
    # ends and the ladder goes on).
    CALL = "call"
    # A phone call that only speaks: `text` is said twice and the call ends (a number's
    # verification code); no key is gathered.
    SPOKEN = "spoken"


@dataclass(frozen=True)
class Choice:
    """One answer a telling offers. `answer` is what choosing it means to the service (ok,
    unwell, help, take, safe...), whichever channel it came through; `data` is the signed
    token that carries it back (LINE's postback data)."""

    answer: str
    label: str
    data: str


@dataclass(frozen=True)
class Link:
    label: str
    url: str


@dataclass(frozen=True)
class Telling:
    form: Form
    language: str  # of the reader: a channel's own words (LINE's alt text) follow it
    text: str
    title: str = ""
    quote: str = ""  # the check-in's 今日のことば
    choices: tuple[Choice, ...] = ()
    links: tuple[Link, ...] = ()

    @classmethod
    def sentence(cls, language: str, text: str) -> Telling:
        return cls(Form.SENTENCE, language, text)

    @classmethod
    def card(
        cls,
        language: str,
        title: str,
        text: str,
        choices: tuple[Choice, ...] | list[Choice] = (),
        links: tuple[Link, ...] | list[Link] = (),
    ) -> Telling:
        return cls(Form.CARD, language, text, title, choices=tuple(choices), links=tuple(links))

    @classmethod
    def checkin(
        cls,
        language: str,
        title: str,
        quote: str,
        instruction: str,
        choices: tuple[Choice, ...] | list[Choice],
    ) -> Telling:
        return cls(Form.CHECKIN, language, instruction, title, quote, tuple(choices))

    def to_json(self) -> dict[str, Any]:
        shaped: dict[str, Any] = {"form": self.form.value, "language": self.language}
        shaped["text"] = self.text
        if self.title:
            shaped["title"] = self.title
        if self.quote:
            shaped["quote"] = self.quote
        if self.choices:
            shaped["choices"] = [[c.answer, c.label, c.data] for c in self.choices]
        if self.links:
            shaped["links"] = [[link.label, link.url] for link in self.links]
        return shaped

    @classmethod
    def from_json(cls, shaped: dict[str, Any]) -> Telling:
        return cls(
            Form(shaped["form"]),
            str(shaped["language"]),
            str(shaped["text"]),
            str(shaped.get("title", "")),
            str(shaped.get("quote", "")),
            tuple(Choice(*choice) for choice in shaped.get("choices", ())),
            tuple(Link(*link) for link in shaped.get("links", ())),
        )
