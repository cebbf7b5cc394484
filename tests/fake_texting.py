"""A second channel, as a text-message gateway would be one: the stand-in that shows what
plugging a channel in takes (a renderer and a sender, ground.channels) and nothing else.

It renders each telling as plain text with numbered choices, the way a phone or an SMS would
offer them, and keeps what it accepted by retry key, as a gateway with idempotency keys does:
the same key again is acknowledged and not sent twice. It can be told to fail.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ground.channels import Outcome, Parcel, SendResult
from ground.telling import Telling


def as_text(telling: Telling) -> str:
    lines = [part for part in (telling.title, telling.quote, telling.text) if part]
    lines += [f"{number}: {choice.label}" for number, choice in enumerate(telling.choices, 1)]
    lines += [f"{link.label} {link.url}" for link in telling.links]
    return "\n".join(lines)


@dataclass
class Sent:
    address: str
    tellings: list[Telling]
    texts: list[str]


@dataclass
class FakeTexting:
    name: str = "texting"
    batch_limit: int = 1
    sent: dict[str, Sent] = field(default_factory=dict)  # by retry key
    attempts: list[str] = field(default_factory=list)  # retry keys, in the order tried
    failures: int = 0  # the next this many sends fail (the gateway is down)

    async def send(self, parcel: Parcel) -> SendResult:
        assert parcel.kind == "push" and len(parcel.addresses) == 1, "one address a row"
        self.attempts.append(parcel.retry_key)
        if self.failures:
            self.failures -= 1
            return SendResult(Outcome.RETRY, "gateway unavailable")
        if parcel.retry_key not in self.sent:
            tellings = list(parcel.tellings)
            texts = [as_text(telling) for telling in tellings]
            self.sent[parcel.retry_key] = Sent(parcel.addresses[0], tellings, texts)
        return SendResult(Outcome.DELIVERED)

    def to(self, address: str) -> list[Telling]:
        return [t for sent in self.sent.values() if sent.address == address for t in sent.tellings]

    def texts_to(self, address: str) -> list[str]:
        return [x for sent in self.sent.values() if sent.address == address for x in sent.texts]
