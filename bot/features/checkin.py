"""Answers to check-ins: the OK button and the others, words of distress, any message as a sign
of life (never an OK), the managers' taps on an alert, and one's status."""

from __future__ import annotations

from datetime import UTC, datetime

from linebot.v3.webhooks import MessageEvent, PostbackEvent

from bot.context import EventContext, PersonContext
from bot.router import Router, action, from_person, text_of
from care.broadcasts import trial
from care.members import people
from care.rounds import answers, checkins, notes, status, taking
from care.rounds.checkins import ANSWERS
from care.rounds.notify import display_name
from care.rounds.protocol import Audience, Event, Fact, Stage
from care.services import UnitOfWork
from ground import messages
from storage.models import Member, RoundState

router = Router("checkin")


def distress(ctx: EventContext) -> bool:
    text = text_of(ctx)
    if not from_person(ctx) or text is None:
        return False
    words = answers.distress_words(ctx.services.i18n, ctx.member.language)
    return answers.is_distress(text, words)


@router.on(MessageEvent, distress)
async def words_of_distress(ctx: PersonContext) -> None:
    """「転んで動けません」: the help path at once, quoting the message, before anything else
    (a dialog waiting for a team name included)."""
    member = ctx.member
    work = ctx.work
    answered = await answers.answer(work, member, Event.DISTRESS, text_of(ctx))
    ctx.reply(_help_sent(ctx, answered))


@router.observe(MessageEvent, lambda ctx: from_person(ctx) and not distress(ctx))
async def sign_of_life(ctx: PersonContext) -> None:
    """A text or sticker is a sign of life, never an OK. During an alert it reaches the
    managers as the person's words; while a check-in waits, the buttons come again."""
    member = ctx.member
    work = ctx.work
    checkin = await work.repos.rounds.open_round(member.id)
    if checkin is None:
        return
    kind = ctx.event.message.type
    # The round just read, nothing written since: not read again.
    answered = await answers.answer(work, member, Event.MESSAGE, text_of(ctx), kind, checkin)
    if answered.tells(Audience.PERSON, Fact.ASK_AGAIN):
        resend = checkin.state is RoundState.RESENT
        again = checkins.checkin_message(work, checkin.slot_at, member.language, resend)
        ctx.reply(messages.text(ctx.t("words.ask_again")), messages.render(again, ctx.locale))
    if answered.tells(Audience.ALERTED, Fact.WORDS):
        told = [display_name(ctx.locale, m) for m in answered.told]
        if answered.at_desk:
            told.append(ctx.t("desk.name"))  # the desk's case has her words too
        names = "、".join(told)
        key = "words.passed" if names else "words.passed_nobody"
        ctx.reply(messages.text(ctx.t(key, names=names)))


@router.on(PostbackEvent, action("ok"))
async def on_ok(ctx: PersonContext) -> None:
    """OK closes the person's open round, whichever check-in message the button was on.
    With no round open it only says thank you."""
    member = ctx.member
    assert ctx.postback is not None
    slot_epoch = ctx.postback.integer("t")
    if slot_epoch is None:
        ctx.reply(messages.text(ctx.t("postback.invalid")))
        return
    value = ctx.postback.get("v") or "ok"
    if value not in ANSWERS:
        ctx.reply(messages.text(ctx.t("postback.invalid")))
        return
    work = ctx.work
    answered = await answers.answer(work, member, Event(value))
    next_text = status.next_sentence(ctx.locale, answered.state)
    before = answered.before
    if answered.tells(Audience.PERSON, Fact.STILL_HELP):
        # An OK during a call for help: she is asked plainly, one tap each way.
        checkin = answered.open_after
        assert checkin is not None
        ctx.reply(messages.render(answers.help_question(work, ctx.locale, checkin), ctx.locale))
    elif value == "help":
        ctx.reply(_help_sent(ctx, answered))
    elif value == "unwell":
        # Said as it is: her watchers heard it, or the desk, or (nobody watches her) nobody.
        heard = await people.who_hears_unwell(work, member)
        key = "checkin.unwell_thanks" if heard == "watchers" else f"first_minute.unwell.{heard}"
        ctx.reply(messages.text(ctx.t(key, then=next_text)))
    elif before is Stage.IDLE and slot_epoch == 0:
        # 元気です from the rich menu, with no check-in waiting: thanks, nobody is told.
        ctx.reply(messages.text(ctx.t("checkin.menu_ok", then=next_text)))
    elif before is Stage.IDLE:
        tapped = datetime.fromtimestamp(slot_epoch, UTC)
        ctx.reply(
            messages.text(ctx.t("checkin.already", slot=ctx.locale.when(tapped), then=next_text))
        )
    else:
        ctx.reply(messages.text(ctx.t("checkin.thanks", then=next_text)))
        if answered.tells(Audience.ALERTED, Fact.SAFE):
            ctx.reply(messages.text(ctx.t("checkin.managers_told")))


def _help_sent(ctx: EventContext, answered: answers.Answered) -> messages.Message:
    """Who heard her call for help, said as it is: her watchers by name (and the desk), the
    desk alone when nobody watches her, or nobody (then 119 is hers to call). No promise of
    a call back: the service cannot keep one."""
    names = [display_name(ctx.locale, m) for m in answered.told]
    if names and answered.at_desk:
        names.append(ctx.t("desk.name"))
    if names:
        sent = ctx.t("checkin.help_sent", names="、".join(names))
    elif answered.at_desk:
        sent = ctx.t("checkin.help_nobody_desk", desk=ctx.t("desk.name"))
    else:
        return messages.text(ctx.t("checkin.help_nobody"))
    checkin = answered.open_after
    if checkin is None:
        return messages.text(sent)
    # A finger that slipped: one tap tells the managers, who still decide when it is over. It
    # is the undo, not the way on: a grey button, never the big coloured one.
    mistake = ctx.t("checkin.mistake_button")
    data = ctx.services.postbacks.encode("mistake", r=checkin.id)
    return messages.card(
        ctx.t("checkin.help_sent_title"), sent, [(mistake, data, mistake)], primary=False
    )


@router.on(PostbackEvent, action("recovered"))
async def on_recovered(ctx: PersonContext) -> None:
    """「もう大丈夫」, her answer to the question an OK brought during a call for help: the
    alert closes, and the managers hear it as her words. A stale question changes nothing."""
    assert ctx.postback is not None
    answered = await answers.recovered(
        ctx.work, ctx.member, ctx.postback.integer("r"), ctx.postback.integer("a")
    )
    ctx.reply(
        messages.text(ctx.t("checkin.recovered_thanks" if answered else "checkin.recovered_late"))
    )


@router.on(PostbackEvent, action("notfound"))
async def on_not_found(ctx: PersonContext) -> None:
    """まだ会えていない, by the manager who took the alert: every manager hears it again."""
    assert ctx.postback is not None
    person = await taking.not_found(ctx.work, ctx.member, ctx.postback.integer("r"))
    ctx.reply(messages.text(ctx.t("alert.not_found_you", name=display_name(ctx.locale, person))))


@router.on(PostbackEvent, action("mistake"))
async def on_mistake(ctx: PersonContext) -> None:
    """まちがえて押しました: the managers hear it; the alert stays theirs to close."""
    assert ctx.postback is not None
    told = await answers.take_back_help(ctx.work, ctx.member, ctx.postback.integer("r"))
    ctx.reply(messages.text(ctx.t("checkin.mistake_told" if told else "checkin.mistake_late")))


@router.on(PostbackEvent, action("take"))
async def on_take(ctx: PersonContext) -> None:
    """対応します on an alert: the first manager has it; a later one hears who does."""
    manager = ctx.member
    assert ctx.postback is not None
    work = ctx.work
    taken = await taking.take(work, manager, ctx.postback.integer("r"))
    name = display_name(ctx.locale, taken.person)
    if taken.first:
        # The next step is at hand: 無事を確認しました (and a call) on the reply itself, so
        # nobody scrolls back to the alert for it.
        safe = ctx.t("alert.safe_button")
        data = ctx.services.postbacks.encode("safe", r=taken.round_id)
        links = [(ctx.t("alert.call_button"), taken.call)] if taken.call else []
        if taken.card:
            # Her phone number, address and memo: on her card, not in the chat.
            links.append((ctx.t("card.button"), taken.card))
        body = ctx.t("alert.taken_you", name=name)
        ctx.reply(messages.card(ctx.t("alert.taken_title"), body, [(safe, data, safe)], links))
    elif taken.taker.id == manager.id:
        ctx.reply(messages.text(ctx.t("alert.taken_you", name=name)))
    else:
        taker = display_name(ctx.locale, taken.taker)
        ctx.reply(messages.text(ctx.t("alert.taken_already", name=name, taker=taker)))


@router.on(PostbackEvent, action("safe"))
async def on_confirmed_safe(ctx: PersonContext) -> None:
    """無事を確認しました on an alert: it closes, and the others watching hear it."""
    manager = ctx.member
    assert ctx.postback is not None
    work = ctx.work
    person = await taking.confirm_safe(work, manager, ctx.postback.integer("r"))
    ctx.reply(messages.text(ctx.t("alert.confirmed_you", name=display_name(ctx.locale, person))))


@router.on(PostbackEvent, action("test_send"))
async def on_test_send(ctx: PersonContext) -> None:
    """テスト送信, by the person (no `m`) or by a manager for a user of their team."""
    requester = ctx.member
    assert ctx.postback is not None
    left = ctx.lookups.quota_left  # asked of LINE before the batch's transaction
    work = ctx.work
    person = (
        await people.viewable(work, requester, ctx.postback.integer("m"))
        if ctx.postback.get("m")
        else requester
    )
    told = await trial.send_test(work, requester, person, "chat", left)
    name = display_name(ctx.locale, person)
    ctx.reply(messages.text(ctx.t("test.sent", name=name, count=told)))


@router.on(PostbackEvent, action("test_ok"))
async def on_test_ok(ctx: PersonContext) -> None:
    ctx.reply(messages.text(ctx.t("test.ok")))


@router.on(PostbackEvent, action("status"))
async def on_status(ctx: PersonContext) -> None:
    member = ctx.member
    work = ctx.work
    ctx.reply(messages.text(await describe_member(ctx, work, member, own=True)))


@router.on(PostbackEvent, action("member"))
async def on_member_details(ctx: PersonContext) -> None:
    """A manager's look at a user of their team (the alert's button); nobody else's."""
    viewer = ctx.member
    assert ctx.postback is not None
    work = ctx.work
    member = await people.viewable(work, viewer, ctx.postback.integer("m"))
    own = member.id == viewer.id
    codec = ctx.services.postbacks
    quick: list[messages.QuickItem] = []
    round_id = await notes.open_alert_about(work, viewer, member)
    if round_id is not None:
        # While an alert about her is open, her card offers what the alert does, and a line
        # to the other watchers (who is going, what was heard); a note never closes it.
        for answer in ("take", "safe"):
            label = ctx.t(f"alert.{answer}_button")
            quick.append((label, codec.encode(answer, r=round_id), label))
        label = ctx.t("first_minute.note.button")
        quick.append((label, codec.encode("note_ask", r=round_id), label))
    test = ctx.t("test.button")
    # A manager can try the whole path for this person: テスト送信.
    quick.append((test, codec.encode("test_send", m=member.id), test))
    text = await describe_member(ctx, work, member, own=own)
    ctx.reply(messages.text(text, None if own else quick))


async def describe_member(ctx: EventContext, work: UnitOfWork, member: Member, own: bool) -> str:
    locale = ctx.locale
    state = await status.state_of(work, member)
    managers = await work.repos.teams.managers_watching(member.id)
    if member.interval_days is None:
        watchers = ctx.t("status.no_checkins")
    elif managers:
        names = "、".join(display_name(locale, m) for m in managers)
        watchers = ctx.t("status.watchers", names=names)
    else:
        watchers = ctx.t("status.nobody_alerted")
    return ctx.t(
        "status.own" if own else "status.other",
        name=display_name(locale, member),
        member_id=member.id,
        registered=locale.when(member.registered_at),
        active=ctx.t(f"status.member.{member.status}"),
        schedule=locale.schedule(member.interval_days, member.checkin_hour),
        next=status.describe_checkins(locale, state),
        last_ok=locale.when(member.last_ok_at),
        round=ctx.t(f"status.round.{state.round.value if state.round else 'none'}"),
        watchers=watchers,
    )
