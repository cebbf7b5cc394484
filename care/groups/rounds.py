"""つながり rounds: the check-in posted to a group, the OKs, and the non-responder report.

Built on the same engine as the 安否通知 ladder: rounds are rows, the posts go through the
outbox with retry keys, the same sweep acts on what is due. A round costs two pushes (the post
and the report); everything else is a reply, which costs no quota.
"""

from __future__ import annotations

from care.rounds.checkins import answer_choices
from care.rounds.ladder import WAITS, Step, due_step
from care.rounds.schedule import Schedule, schedule_or_none, slots_passed
from care.services import Services, UnitOfWork
from ground.i18n import Locale
from ground.telling import Telling
from storage.models import ChatGroup, GroupMember, GroupRound

TEXT_LIMIT = 5000  # characters in one LINE text message
MESSAGES_PER_PUSH = 5


def group_schedule(group: ChatGroup) -> Schedule | None:
    return schedule_or_none(group.interval_days, group.checkin_hour)


def group_locale(services: Services) -> Locale:
    # LINE tells no language for a group: the deployment's first language speaks there.
    return services.i18n.get(None)


async def open_due_group_rounds(work: UnitOfWork, limit: int) -> int:
    """Post the check-in to every group whose slot has come (once after downtime)."""
    repos, now, services = work.repos, work.now, work.services
    due = await repos.groups.due(now, limit)
    locale = group_locale(services)
    for group in due:
        schedule = group_schedule(group)
        if schedule is None or group.next_due_at is None:
            await repos.groups.set_next_due(group.id, None)
            continue
        latest, following = slots_passed(schedule, group.next_due_at, now, services.timezone)
        await repos.groups.set_next_due(group.id, following)
        round_id = await repos.groups.open_unless_open(group.id, latest, now)
        if round_id is None:
            continue  # the previous round has not been reported yet: this slot is skipped
        quote = locale.quote_of_the_day(latest.astimezone(services.timezone).date())
        post = Telling.checkin(
            locale.language,
            locale.t("group.checkin_title"),
            quote,
            locale.t("group.checkin_instruction"),
            answer_choices(services, locale, latest, action="gok"),
        )
        # A group is a LINE group: its post goes through LINE whoever is in it.
        outbox_id = await repos.outbox.add(
            kind="push",
            recipients=[group.line_chat_id],
            tellings=[post],
            purpose="group_checkin",
            now=now,
        )
        await repos.groups.attach_post(round_id, outbox_id)
    return len(due)


async def report_due_group_rounds(work: UnitOfWork, limit: int) -> int:
    """GROUP_REPORT_AFTER past the post: one message naming who has not tapped OK."""
    repos, now, timings = work.repos, work.now, work.services.timings
    wait = WAITS[Step.REPORT]
    since = timings.waiting_since_at_most(Step.REPORT, now)
    rounds = await repos.groups.waiting(wait.state, wait.since, since, limit)
    for group_round in rounds:
        if due_step(group_round, timings, now) is not Step.REPORT:
            continue
        group = await repos.groups.get(group_round.group_id)
        await repos.groups.mark_reported(group_round.id, now)
        if group is None or not group.active:
            continue
        members = await repos.groups.members(group.id)
        answered = await repos.groups.answers(group_round.id)
        silent = [m for m in members if m.line_user_id not in answered]
        attention = [
            (m, answered[m.line_user_id])
            for m in members
            if answered.get(m.line_user_id) in ("unwell", "help")
        ]
        if not silent and not attention and group.quiet_when_all_ok and not group.summary_only:
            continue
        # A group that asked for one summary hears here who answered, not at each tap.
        said_ok = (
            [m for m in members if answered.get(m.line_user_id) == "ok"]
            if group.summary_only
            else None
        )
        report = report_messages(
            group_locale(work.services), group_round, silent, len(answered), attention, said_ok
        )
        for start in range(0, len(report), MESSAGES_PER_PUSH):
            await repos.outbox.add(
                kind="push",
                recipients=[group.line_chat_id],
                tellings=report[start : start + MESSAGES_PER_PUSH],
                purpose="group_report",
                now=now,
            )
    return len(rounds)


def _attention(locale: Locale, attention: list[tuple[GroupMember, str]]) -> str:
    if not attention:
        return ""
    # Who asked for help before who is unwell.
    ordered = sorted(attention, key=lambda entry: entry[1] != "help")
    lines = [
        locale.t(
            "group.report_attention_line",
            name=member.display_name or locale.t("group.unnamed"),
            answer=locale.t(f"checkin.{answer}_button"),
        )
        for member, answer in ordered
    ]
    return "\n".join([locale.t("group.report_attention"), *lines])


def _name(locale: Locale, member: GroupMember) -> str:
    return member.display_name or locale.t("group.unnamed")


def report_messages(
    locale: Locale,
    group_round: GroupRound,
    silent: list[GroupMember],
    answered: int,
    attention: list[tuple[GroupMember, str]] | None = None,
    said_ok: list[GroupMember] | None = None,
) -> list[Telling]:
    """The report as text messages, split only where LINE's 5,000 characters force it. Who
    said they were unwell or needed help comes first; it never says everyone is OK when
    someone said otherwise, and it names who has never answered at all. `said_ok`: the names
    of those who tapped OK, for a group that asked for one summary instead of replies."""
    slot = locale.when(group_round.slot_at)
    first = _attention(locale, attention or [])
    if said_ok:
        names = "、".join(_name(locale, member) for member in said_ok)
        ok_line = locale.t("group.report_said_ok", names=names)
        first = f"{first}\n\n{ok_line}" if first else ok_line
    if not silent:
        key = "group.report_all_answered" if attention else "group.report_all_ok"
        closing = locale.t(key, slot=slot, answered=answered)
        return [Telling.sentence(locale.language, f"{first}\n\n{closing}" if first else closing)]
    never = sum(1 for member in silent if member.last_ok_at is None)
    head = locale.t("group.report_head", slot=slot, count=len(silent), answered=answered)
    if first:
        head = f"{first}\n\n{head}"
    tail = locale.t("group.report_tail", never=never)
    lines = [
        locale.t(
            "group.report_line_never" if member.last_ok_at is None else "group.report_line",
            name=_name(locale, member),
        )
        for member in silent
    ]
    texts: list[str] = []
    current = head
    for line in lines:
        if len(current) + 1 + len(line) > TEXT_LIMIT:
            texts.append(current)
            current = line
        else:
            current = f"{current}\n{line}"
    if len(current) + 2 + len(tail) > TEXT_LIMIT:
        texts.append(current)
        current = tail
    else:
        current = f"{current}\n\n{tail}"
    texts.append(current)
    return [Telling.sentence(locale.language, text) for text in texts]
