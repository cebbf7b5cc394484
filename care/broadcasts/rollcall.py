"""災害時の安否確認: a roll-call of everyone (or chosen area teams and groups), now.

It is not a check-in: it opens no round and changes no schedule, and an open round stays open;
an answer is a sign of life all the same. 「助けが必要です」 reaches the person's managers at once.
Only those who have not answered are asked again. A person watched by phone alone is rung
(care.broadcasts.by_phone), and rung once more, not asked again at each re-ask.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from care.broadcasts import budget, by_phone
from care.broadcasts.notices import Audience
from care.broadcasts.occasions import body
from care.broadcasts.occasions import warning_name as warning_name  # the console names it
from care.broadcasts.reach import UNREACHED, GroupSizes, Reach, way_of
from care.desk import cases as desk
from care.errors import Refusal, Refused
from care.members import sharing
from care.rounds.notify import address_of, display_name, notify_managers
from care.services import Services, UnitOfWork
from ground.channels import VOICE, can_say
from ground.i18n import Locale
from ground.telling import Choice, Form, Telling
from storage.models import ChatGroup, Member, Role

ANSWERS = ("safe", "help", "shelter")  # 無事です / 助けが必要です / 避難所にいます
# The silent are asked again every hour, twice, when nobody chose otherwise (a team's manager
# from the chat, the JMA feed); the console's form chooses its own.
REASK_EVERY = timedelta(hours=1)
REASKS = 2


@dataclass
class RollCallPlan:
    """Who a roll-call asks, through which area team, and what it costs in messages."""

    audience: Audience
    people: list[tuple[Member, int | None]] = field(default_factory=list)  # those asked
    groups: list[tuple[ChatGroup, int]] = field(default_factory=list)  # (group, its members)
    requests: int = 0
    # Those the audience names whom the question cannot reach: (person, area team, why).
    # They are kept with the roll-call, so that its tally says they were never asked.
    unasked: list[tuple[Member, int | None, str]] = field(default_factory=list)
    reach: Reach = field(default_factory=Reach)

    # Those rung (by phone alone): calls, not LINE's messages.
    rung: list[Member] = field(default_factory=list)

    @property
    def recipients(self) -> int:
        """The LINE messages one asking costs (a group's members each count): the calls are
        the call budget's, not the quota's."""
        return len(self.people) - len(self.rung) + sum(count for _, count in self.groups)

    @property
    def calls(self) -> int:
        return len(self.rung)

    def rung_ids(self) -> set[int]:
        return {member.id for member in self.rung}

    def add(
        self,
        services: Services,
        member: Member,
        team_id: int | None,
        calls: by_phone.Budgeting | None = None,
    ) -> None:
        way = way_of(services, member, QUESTION_FORM)
        if way == VOICE:
            # Rung only where her number may be rung and the call budget covers it.
            way = by_phone.call_refusal(services, member) or way
            if way == VOICE and calls is not None:
                way = calls.take() or way
        self.reach.count(way)
        if way in UNREACHED:
            self.unasked.append((member, team_id, way))
            return
        self.people.append((member, team_id))
        if way == VOICE:
            self.rung.append(member)


# What the question is, for the channels' sake: a card with choices in LINE, and its keys on a
# call (care.broadcasts.by_phone).
QUESTION_FORM = (Telling.card("ja", "", ""), Telling(Form.CALL, "ja", ""))


async def plan(
    work: UnitOfWork,
    audience: Audience,
    with_groups: bool = False,
    sizes: GroupSizes | None = None,
) -> RollCallPlan:
    """Who the audience reaches; `with_groups` adds every active group (an earthquake).
    `sizes`: the groups' member counts, asked of LINE before the unit of work
    (`care.broadcasts.reach.group_sizes`); a group LINE did not count counts its members learnt."""
    sizes = sizes or {}
    repos = work.repos
    found = RollCallPlan(audience)
    if with_groups:
        active = [g["id"] for g in await repos.stats.groups()]
        audience = Audience(audience.kind, audience.team_ids, tuple(active))
        found.audience = audience
        found.groups = await _groups(work, audience.group_ids, sizes)
    seen: set[int] = set()
    services = work.services
    calls = by_phone.Budgeting(await by_phone.calls_left(work))
    if audience.kind == "everyone":
        # Those who blocked the account are named too: the tally says they were not asked.
        for member in await repos.members.all_current():
            teams = await repos.teams.teams_of(member.id)
            found.add(services, member, teams[0][0].id if teams else None, calls)
    elif audience.kind == "teams":
        for team_id in audience.team_ids:
            for member in await repos.teams.members_of(team_id):
                if member.id not in seen:
                    seen.add(member.id)
                    found.add(services, member, team_id, calls)
    elif audience.kind == "groups":
        found.groups = await _groups(work, audience.group_ids, sizes)
    found.reach.in_groups = sum(count for _, count in found.groups)
    rung = found.rung_ids()
    rows = Counter(
        (work.locale(m.language).language, address_of(services, m)[0])
        for m, _ in found.people
        if m.id not in rung
    )
    found.requests = sum(
        -(-n // services.channels[channel].batch_limit) for (_, channel), n in rows.items()
    ) + len(found.groups)
    return found


async def _groups(
    work: UnitOfWork, group_ids: tuple[int, ...], sizes: GroupSizes
) -> list[tuple[ChatGroup, int]]:
    found = []
    for group_id in group_ids:
        group = await work.repos.groups.get(group_id)
        if group is not None and group.active:
            members = sizes.get(group.id)
            if members is None:
                members = len(await work.repos.groups.members(group_id))
            found.append((group, members))
    return found


async def start(
    work: UnitOfWork,
    plan: RollCallPlan,
    started_by: str,
    *,
    surface: str,
    scope: str = "",
    resend_every: timedelta | None = None,
    resends: int = 0,
    close_after: timedelta | None = timedelta(hours=24),
    quota_left: int | None = None,
    partial: bool = False,
    occasion: str | None = None,
    disaster: bool = False,
) -> int:
    """Send the roll-call (`disaster`: a declared disaster, 災害対策基本法 49条の11 第3項: the
    roster's people without 平常時同意 are shown to those assigned to them while it is open,
    care.roster.visibility); refused when it reaches nobody, too often (a team's from the chat),
    or when the month's quota cannot cover it, re-asks counted, and no partial send was agreed
    (then the first come first). Audited with what it costs (care.broadcasts.budget).
    `occasion`: the warning it is about (landslide:4), named by its question."""
    if not plan.people and not plan.groups:
        raise Refused(Refusal.NOBODY)
    reasks = resends if resend_every else 0
    cost = budget.with_reasks(plan.recipients, reasks)
    allowed = await budget.spend(
        work,
        budget.Spend(f"rollcall_{surface}", started_by, scope, cost, plan.audience.described()),
        quota_left,
        partial,
    )
    people = plan.people
    rung = plan.rung_ids()
    if allowed < cost:
        # The quota is LINE's: those rung are asked whatever it leaves.
        reached = allowed // (1 + reasks)
        in_line = [p for p in people if p[0].id not in rung]
        kept = {m.id for m, _ in in_line[: max(0, reached - sum(n for _, n in plan.groups))]}
        people = [p for p in people if p[0].id in kept or p[0].id in rung]
    now = work.now
    roll_call_id = await work.repos.rollcalls.create(
        started_by,
        plan.audience.kind,
        plan.audience.detail(),
        now,
        int(resend_every.total_seconds() // 60) if resend_every else None,
        resends if resend_every else 0,
        now + resend_every if resend_every else None,
        now + close_after if close_after else None,
        occasion,
        disaster,
    )
    await work.repos.rollcalls.add_people(roll_call_id, [(m.id, team) for m, team in people])
    await work.repos.rollcalls.add_unasked(
        roll_call_id, [(m.id, team, why) for m, team, why in plan.unasked]
    )
    await work.repos.rollcalls.add_groups(roll_call_id, [g.id for g, _ in plan.groups])
    await _ask(work, roll_call_id, [m for m, _ in people if m.id not in rung], occasion=occasion)
    for member in plan.rung:
        await by_phone.ring(work, roll_call_id, member)
    for group, _ in plan.groups:
        message = question(
            work.services, work.locale(None), roll_call_id, action="grc", occasion=occasion
        )
        await work.repos.outbox.add(
            kind="push",
            recipients=[group.line_chat_id],
            tellings=[message],
            purpose="rollcall",
            now=now,
        )
    return roll_call_id


async def team_plan(work: UnitOfWork, manager: Member, team_id: int | None) -> RollCallPlan:
    """A roll-call of one team, as its manager starts it from the chat: only a manager of
    that team may (a user is refused)."""
    team = await work.repos.teams.get(team_id) if team_id else None
    role = await work.repos.teams.role_of(team.id, manager.id) if team else None
    if team is None or role is not Role.MANAGER:
        raise Refused(Refusal.NOT_ALLOWED)
    return await plan(work, Audience("teams", team_ids=(team.id,)))


async def start_for_team(
    work: UnitOfWork, manager: Member, team_id: int | None, quota_left: int | None
) -> RollCallPlan:
    """A team's manager starts its roll-call from the chat: the same permission, the same
    re-asks, and the budget's rate per team."""
    found = await team_plan(work, manager, team_id)
    await start(
        work,
        found,
        f"会員ID {manager.id}",
        surface="chat",
        scope=f"team:{found.audience.team_ids[0]}",
        resend_every=REASK_EVERY,
        resends=REASKS,
        quota_left=quota_left,
    )
    return found


async def start_from_feed(
    work: UnitOfWork,
    title: str,
    surface: str,
    sizes: GroupSizes | None,
    quota_left: int | None,
    occasion: str | None = None,
) -> int:
    """A roll-call a JMA feed starts (an earthquake, a levelled warning): everyone and every
    active group asked, again each `REASK_EVERY` up to `REASKS` times; as many as the quota
    covers rather than nobody; and a declared disaster (49条の11 第3項, care.roster.visibility).
    `title`: who started it, as the audit says; `occasion`: the warning its question names.
    -> the roll-call."""
    found = await plan(work, Audience("everyone"), with_groups=True, sizes=sizes)
    return await start(
        work,
        found,
        title,
        surface=surface,
        resend_every=REASK_EVERY,
        resends=REASKS,
        quota_left=quota_left,
        partial=True,
        occasion=occasion,
        disaster=True,
    )


def question(
    services: Services,
    locale: Locale,
    roll_call_id: int,
    again: bool = False,
    action: str = "rc",
    occasion: str | None = None,
) -> Telling:
    choices = [
        Choice(
            answer,
            locale.t(f"rollcall.{answer}"),
            services.postbacks.encode(action, r=roll_call_id, v=answer),
        )
        for answer in ANSWERS
    ]
    title = locale.t("rollcall.again_title" if again else "rollcall.title")
    return Telling.card(locale.language, title, body(locale, occasion), choices)


async def _ask(
    work: UnitOfWork,
    roll_call_id: int,
    people: list[Member],
    again: bool = False,
    occasion: str | None = None,
) -> None:
    """The question to these people: one row per language and channel, as many to a row as
    the channel takes (LINE's multicast: 500). Those rung are not here: their calls ring once
    more on their own time (care.broadcasts.by_phone)."""
    services = work.services
    by_row: dict[tuple[str, str], list[str]] = defaultdict(list)
    for person in people:
        channel, address = address_of(services, person)
        if not can_say(channel, QUESTION_FORM[:1]):
            continue  # rung instead: a call is not re-asked with LINE's re-asks
        by_row[(work.locale(person.language).language, channel)].append(address)
    for (language, channel), addresses in by_row.items():
        message = question(services, work.locale(language), roll_call_id, again, occasion=occasion)
        batch = services.channels[channel].batch_limit
        for start in range(0, len(addresses), batch):
            chunk = addresses[start : start + batch]
            await work.repos.outbox.add(
                kind="multicast" if len(chunk) > 1 else "push",
                channel=channel,
                recipients=chunk,
                tellings=[message],
                purpose="rollcall",
                now=work.now,
            )


async def answer(work: UnitOfWork, roll_call_id: int | None, member: Member, value: str) -> int:
    """A person's answer: recorded (a later one replaces it), a sign of life (the check-in
    round, if one is open, stays open), and 助けが必要です reaches their managers at once.
    -> how many managers were told."""
    roll_call = await work.repos.rollcalls.get(roll_call_id) if roll_call_id else None
    if roll_call is None or not roll_call.open:
        raise Refused(Refusal.ROLL_CALL_CLOSED)
    if not await work.repos.rollcalls.answer(roll_call.id, member.id, value, work.now):
        raise Refused(Refusal.NOT_ASKED)
    await work.repos.members.set_last_ok(member.id, work.now)
    if value != "help":
        return 0
    shown = await sharing.shown_to(work, member)
    services = work.services

    def build(locale: Locale, manager: Member) -> list[Telling]:
        values = {
            "name": display_name(locale, member),
            "member_id": member.id,
            "at": locale.when(work.now),
        }
        if sharing.in_chat(services):
            body = locale.t(
                "rollcall.help_notice",
                **values,
                phone=(member.personal.phone if manager.id in shown else "")
                or locale.t("rollcall.phone_none"),
            )
            return [Telling.sentence(locale.language, body)]
        # Her number stays off the chat: the notice carries the button to her card.
        card = sharing.card_link(locale, services, member)
        lines = [locale.t("card.rollcall_help", **values)]
        if card is not None:
            lines.append(locale.t("card.where"))
        title = locale.t("card.rollcall_help_title")
        return [
            Telling.card(locale.language, title, "\n\n".join(lines), (), [card] if card else [])
        ]

    told = await notify_managers(work, member, "rollcall_help", build)
    if (
        work.services.timings.desk_after is not None
        and not await work.repos.desk.open_of_roll_call(member.id, roll_call.id)
    ):
        # The desk sees every 助けが必要 of a roll-call at once, beside the managers.
        await desk.open_case(work, member, "rollcall_help", roll_call_id=roll_call.id)
    return told


async def answer_by_key(
    work: UnitOfWork, member_id: int, roll_call_id: int, value: str
) -> tuple[Member | None, str]:
    """A key pressed on a roll-call's call (care.broadcasts.by_phone), as her LINE button would
    be. -> (her, the locale key of what the call says back)."""
    member = await work.repos.members.get(member_id)
    if member is None or value not in by_phone.KEYS.values():
        return member, "phone41.call.closed"
    try:
        told = await answer(work, roll_call_id, member, value)
    except Refused:
        return member, "phone41.call.closed"
    if value != "help":
        return member, f"phone41.call.thanks_{value}"
    if told:
        return member, "phone41.call.help_sent"
    desk_on = work.services.timings.desk_after is not None
    return member, "phone41.call.help_desk" if desk_on else "phone41.call.help_nobody"


async def answer_in_group(
    work: UnitOfWork,
    roll_call_id: int | None,
    group: ChatGroup,
    user_id: str,
    name: str,
    value: str,
) -> None:
    roll_call = await work.repos.rollcalls.get(roll_call_id) if roll_call_id else None
    if roll_call is None or not roll_call.open:
        raise Refused(Refusal.ROLL_CALL_CLOSED)
    await work.repos.rollcalls.group_answer(roll_call.id, group.id, user_id, name, value, work.now)


async def resend_to_the_silent(work: UnitOfWork, limit: int) -> int:
    """At each roll-call's interval, those who have not answered are asked again (only they),
    as many times as set."""
    due = await work.repos.rollcalls.due_resends(work.now, limit)
    for roll_call in due:
        silent = await work.repos.rollcalls.silent(roll_call.id)
        await _ask(work, roll_call.id, silent, True, roll_call.occasion)
        left = roll_call.resends_left - 1
        every = timedelta(minutes=roll_call.resend_every_minutes or 0)
        await work.repos.rollcalls.resent(roll_call.id, work.now + every if left > 0 else None)
    for roll_call_id in await work.repos.rollcalls.due_to_close(work.now):
        await work.repos.rollcalls.close(roll_call_id, work.now)
    return len(due)


async def close(work: UnitOfWork, roll_call_id: int) -> None:
    await work.repos.rollcalls.close(roll_call_id, work.now)


# Where each person named stands: an answer, asked and silent, or never asked.
STANDINGS = (*ANSWERS, "silent", "unasked")


def standing(person: dict[str, Any]) -> str:
    """An answer counts even from one not asked (she blocked the account, and came back to
    tap an older question): she said it."""
    return str(person["answer"] or ("unasked" if person.get("unasked") else "silent"))


@dataclass(frozen=True)
class Tally:
    counts: dict[str, int]  # safe, help, shelter, silent, unasked
    by_team: list[tuple[str, dict[str, int]]]
    help: list[dict[str, Any]]  # who asked for help, with phone, team and managers
    silent: list[dict[str, Any]]  # asked, and not answered
    groups: list[dict[str, Any]]
    timeline: list[tuple[str, int]]  # (local hour and minute, answers in those ten minutes)
    # Named but never asked, each with why (care.broadcasts.reach): by phone alone, blocked,
    # or by phone where no calls are placed. Not silent: nothing reached them to answer.
    unasked: list[dict[str, Any]] = field(default_factory=list)
    # Asked by phone (care.broadcasts.by_phone), and how many of them answered.
    by_phone: int = 0
    by_phone_answered: int = 0


async def tally(work: UnitOfWork, roll_call_id: int, team_ids: set[int] | None = None) -> Tally:
    people = await work.repos.rollcalls.people(roll_call_id)
    if team_ids is not None:
        people = [p for p in people if p["team_id"] in team_ids]
    counts = Counter(standing(p) for p in people)
    teams: dict[str, Counter[str]] = defaultdict(Counter)
    for person in people:
        teams[person["team_name"] or "-"][standing(person)] += 1
    helpers = []
    for person in people:
        if person["answer"] == "help":
            managers = await work.repos.teams.managers_watching(person["member_id"])
            person = {**person, "managers": [m.display_name for m in managers]}
            helpers.append(person)
    tz = work.services.timezone
    timeline: Counter[str] = Counter()
    for person in people:
        if person["answered_at"]:
            local = datetime.fromisoformat(person["answered_at"]).astimezone(tz)
            timeline[f"{local.hour:02d}:{local.minute // 10}0"] += 1
    return Tally(
        counts={answer: counts.get(answer, 0) for answer in STANDINGS},
        by_team=[(name, {a: c.get(a, 0) for a in STANDINGS}) for name, c in teams.items()],
        help=helpers,
        silent=[p for p in people if standing(p) == "silent"],
        groups=await work.repos.rollcalls.group_answers(roll_call_id),
        timeline=sorted(timeline.items()),
        unasked=[p for p in people if standing(p) == "unasked"],
        by_phone=sum(1 for p in people if p["asked_by"] == VOICE),
        by_phone_answered=sum(1 for p in people if p["asked_by"] == VOICE and p["answer"]),
    )
