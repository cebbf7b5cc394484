"""Plain rules: the ladder, postback signatures, invite codes, settings, locales."""

from __future__ import annotations

import re
import tomllib
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest

from care.rounds.ladder import WAITS, Step, Timings, due_step, next_step
from care.rounds.protocol import Audience, Decision, Event, Fact, Stage, Tell, decide, stage_of
from care.rounds.status import CheckinStatus, checkin_state
from ground import invite_codes
from ground.i18n import I18n, LocaleError, flatten, placeholders
from ground.line_api import CONNECTIONS, REPLY_PER_SECOND, LineApi, RateLimiter
from ground.postback import PostbackCodec
from ground.settings import Settings, SettingsError, parse_duration, read_dotenv
from storage.models import CheckinRound, GroupRound, Member, PersonalFields, RoundState
from tests.kanji_grades import BASIC_KANJI

T0 = datetime(2026, 11, 24, 0, 0, tzinfo=UTC)
TIMINGS = Timings(timedelta(hours=24), timedelta(hours=3))


def a_round(state: RoundState, sent: datetime | None = T0, resent: datetime | None = None):
    return CheckinRound(1, 1, T0, state, T0, sent, resent, None, None, None)


def test_ladder_steps() -> None:
    assert next_step(a_round(RoundState.OPEN, sent=None), TIMINGS) is None
    assert next_step(a_round(RoundState.OPEN), TIMINGS) == (Step.RESEND, T0 + timedelta(hours=24))
    resent = T0 + timedelta(hours=25)
    assert next_step(a_round(RoundState.RESENT, resent=None), TIMINGS) is None
    assert next_step(a_round(RoundState.RESENT, resent=resent), TIMINGS) == (
        Step.ALERT,
        resent + timedelta(hours=3),
    )
    for state in (RoundState.ALERTED, RoundState.ANSWERED, RoundState.CANCELLED):
        assert next_step(a_round(state, resent=resent), TIMINGS) is None


def test_ladder_due_only_when_the_time_has_come() -> None:
    checkin = a_round(RoundState.OPEN)
    assert due_step(checkin, TIMINGS, T0 + timedelta(hours=24) - timedelta(seconds=1)) is None
    assert due_step(checkin, TIMINGS, T0 + timedelta(hours=24)) is Step.RESEND


def test_the_group_report_is_due_report_after_the_post() -> None:
    posted = GroupRound(1, 1, T0, "open", T0, T0, None)
    assert next_step(posted, TIMINGS) == (Step.REPORT, T0 + timedelta(hours=23))
    assert due_step(posted, TIMINGS, T0 + timedelta(hours=23) - timedelta(seconds=1)) is None
    assert due_step(posted, TIMINGS, T0 + timedelta(hours=23)) is Step.REPORT
    assert next_step(GroupRound(1, 1, T0, "open", T0, None, None), TIMINGS) is None
    assert next_step(GroupRound(1, 1, T0, "reported", T0, T0, T0), TIMINGS) is None


def test_each_wait_is_one_filter_the_repositories_understand() -> None:
    """The sweep's SQL is built from WAITS: each step's cut-off is its due time, read back."""
    with_desk = replace(TIMINGS, desk_after=timedelta(hours=1))
    for step, wait in WAITS.items():
        columns = (
            "sent_at",
            "resent_at",
            "turn_at",
            "next_turn_at",
            "realerted_at",
            "posted_at",
            "call_until",
            "taken_at",
            "taker_asked_at",
            "reminded_at",
        )
        assert wait.since in columns, step
        now = T0 + timedelta(days=3)
        cutoff = with_desk.waiting_since_at_most(step, now)
        assert with_desk.due_at(step, cutoff) == now


def test_a_call_holds_the_alert_until_it_ends_or_its_patience_runs_out() -> None:
    resent = replace(a_round(RoundState.RESENT), resent_at=T0)
    assert next_step(resent, TIMINGS) == (Step.ALERT, T0 + timedelta(hours=3))
    called = replace(
        resent, called_at=T0 + timedelta(hours=3), call_until=T0 + timedelta(hours=3, minutes=10)
    )
    assert stage_of(called) is Stage.CALLED and stage_of(resent) is Stage.ASKED_AGAIN
    assert next_step(called, TIMINGS) == (Step.CALL_ENDED, T0 + timedelta(hours=3, minutes=10))
    assert due_step(called, TIMINGS, T0 + timedelta(hours=3, minutes=5)) is None
    assert decide(Stage.ASKED_AGAIN, Event.CALL) == Decision(
        Stage.CALLED, (Tell(Audience.PERSON, Fact.CALL),)
    )
    assert decide(Stage.CALLED, Event.NO_ANSWER) == Decision(
        Stage.ALERTED, (Tell(Audience.FIRST_TURN, Fact.ALERT),)
    )
    assert decide(Stage.ASKED, Event.CALL) is None and decide(Stage.ALERTED, Event.CALL) is None


def test_the_desk_is_a_step_only_where_there_is_a_desk() -> None:
    """An alert nobody took, sent again: at the desk an hour later, where there is one."""
    again = replace(
        a_round(RoundState.ALERTED), alerted_at=T0, realerted_at=T0 + timedelta(hours=1)
    )
    with_desk = replace(TIMINGS, desk_after=timedelta(hours=1))
    assert next_step(again, TIMINGS) is None
    assert next_step(again, with_desk) == (Step.ESCALATE, T0 + timedelta(hours=2))
    assert next_step(replace(again, taken_by=7), with_desk) is None
    assert next_step(replace(again, escalated_at=T0 + timedelta(hours=2)), with_desk) is None


def test_one_state_for_every_surface() -> None:
    today = T0.date()
    member = Member(
        1,
        "U1",
        "a resident",
        "ja",
        T0,
        "active",
        1,
        9,
        T0 + timedelta(days=1),
        None,
        None,
        PersonalFields(),
        None,
        today + timedelta(days=3),
    )
    paused = checkin_state(member, None, today)
    assert (paused.status, paused.paused_until) == (
        CheckinStatus.PAUSED,
        today + timedelta(days=3),
    )
    later = checkin_state(member, None, today + timedelta(days=3))
    assert (later.status, later.paused_until) == (CheckinStatus.RUNNING, None)
    stopped = replace(member, interval_days=None, checkin_hour=None, next_due_at=None)
    assert checkin_state(stopped, None, today).status is CheckinStatus.STOPPED
    blocked = checkin_state(replace(member, status="blocked"), None, today)
    assert (blocked.status, blocked.next_at) == (CheckinStatus.BLOCKED, None)
    alerted = CheckinRound(1, 1, T0, RoundState.ALERTED, T0, T0, T0, T0, None, None)
    assert checkin_state(member, alerted, today + timedelta(days=5)).alert_open


def test_postback_roundtrip_and_tampering() -> None:
    codec = PostbackCodec("secret")
    data = codec.encode("ok", t=1764000000)
    assert codec.decode(data) is not None
    assert codec.decode(data).action == "ok"  # type: ignore[union-attr]
    assert codec.decode(data).integer("t") == 1764000000  # type: ignore[union-attr]
    assert PostbackCodec("other secret").decode(data) is None
    for forged in (
        data.replace("t=1", "t=2"),
        data.replace("a=ok", "a=no"),
        data[:-1],
        "a=ok",
        "",
        "s=" + data.split("s=")[1],
        "x" * 301,
    ):
        assert codec.decode(forged) is None, forged
    with pytest.raises(ValueError):
        codec.encode("x", v="y" * 300)


def test_invite_codes() -> None:
    codes = {invite_codes.new_code() for _ in range(1000)}
    assert len(codes) == 1000
    code = codes.pop()
    assert invite_codes.normalise(code.lower()) == code
    assert invite_codes.normalise(code.replace("-", " ")) == code
    assert invite_codes.find_code(f"招待コード {code} です") == code
    assert invite_codes.find_code("こんにちは") is None
    assert invite_codes.find_code("ABCDEFGHJKMNPQRS") is None  # no separators: a word
    assert invite_codes.normalise("OOOO-IIII-LLLL-2222") == "0000-1111-1111-2222"
    assert invite_codes.normalise("UUUU-2222-2222-2222") is None


def test_durations() -> None:
    assert parse_duration("90") == timedelta(seconds=90)
    assert parse_duration("90s") == timedelta(seconds=90)
    assert parse_duration("15m") == timedelta(minutes=15)
    assert parse_duration("3h") == timedelta(hours=3)
    assert parse_duration("1d") == timedelta(days=1)
    for bad in ("", "0", "3x", "-1h", "1.5h", "h"):
        with pytest.raises(ValueError):
            parse_duration(bad)


REQUIRED = {"LINE_CHANNEL_SECRET": "s", "LINE_CHANNEL_ACCESS_TOKEN": "t"}


def test_settings_defaults_and_errors_name_the_setting() -> None:
    settings = Settings.from_env(REQUIRED)
    assert settings.port == 8080 and settings.database == Path("./mimamori.db")
    assert settings.line_api_base_url == "https://api.line.me"
    assert (settings.resend_after, settings.alert_after, settings.group_report_after) == (
        timedelta(hours=24),
        timedelta(hours=3),
        timedelta(hours=23),
    )
    assert str(settings.timezone) == "Asia/Tokyo"
    cases = {
        "LINE_CHANNEL_SECRET": "",
        "MIMAMORI_PORT": "http",
        "MIMAMORI_TIMEZONE": "Mars/Olympus",
        "MIMAMORI_RESEND_AFTER": "soon",
        "MIMAMORI_ALERT_AFTER": "0",
        "LINE_API_BASE_URL": "ftp://x",
        "MIMAMORI_INSTANCES": "0",
    }
    for name, value in cases.items():
        with pytest.raises(SettingsError) as caught:
            Settings.from_env({**REQUIRED, name: value})
        assert caught.value.name == name
        assert "\n" not in str(caught.value)
    base = Settings.from_env({**REQUIRED, "LINE_API_BASE_URL": "http://127.0.0.1:9/"})
    assert base.line_api_base_url == "http://127.0.0.1:9"
    assert settings.instances == 1
    assert Settings.from_env({**REQUIRED, "MIMAMORI_INSTANCES": "3"}).instances == 3


def test_dotenv(tmp_path: Path) -> None:
    path = tmp_path / ".env"
    path.write_text("# comment\nexport A=1\nB='two words'\n\nC=\"x=y\"\nnot a line\n")
    assert read_dotenv(path) == {"A": "1", "B": "two words", "C": "x=y"}
    assert read_dotenv(tmp_path / "missing") == {}


def test_every_text_exists_in_every_language_with_the_same_placeholders() -> None:
    i18n = I18n.load(Settings.from_env(REQUIRED).timezone)
    ja, en = i18n.get("ja"), i18n.get("en")
    assert set(ja.texts) == set(en.texts)
    for key, text in ja.texts.items():
        assert placeholders(text) == placeholders(en.texts[key]), key
    assert len(ja.quotes) == len(en.quotes) >= 14
    assert i18n.get("zh-Hant").language == "ja" and i18n.get("en-US").language == "en"


# Every text someone reads in LINE or on My page: やさしい日本語 writes each itself. The
# console's (admin.*) stay in Japanese: the staff who use it read it; so does the simulator's
# tour (simulator40.*), which the presenter of a 説明会 reads, never a resident in LINE.
def written_in_easy_japanese(key: str) -> bool:
    return not key.startswith(("admin.", "simulator40."))


# Texts the bot puts on a button or a quick reply: LINE takes 40 characters on a card's
# button, 20 on a quick reply (and the bot cuts a longer one).
LABEL_KEYS = re.compile(
    r"(button|_yes)$|^menu\.(?!prompt|cancelled)|^(group\.menu|invite\.rotate|invite\.show_other"
    r"|visit\.outcome|note\.(every_day|only_problems))\.|^(invite\.(accept|decline|show_qr)"
    r"|team\.as_(user|manager)|rollcall\.(safe|help|shelter)|schedule\.(more|stop|am|pm)"
    r"|pause\.until_home|language\.name|unwatch\.yes|sharing\.allow)$"
)
QUICK_REPLY_KEYS = re.compile(r"^(menu\.|invite\.show_other\.|invite\.show_qr$|language\.name$)")


def test_every_label_fits_a_line_button_in_every_language() -> None:
    i18n = I18n.load(Settings.from_env(REQUIRED).timezone)
    japanese = i18n.get("ja").texts
    for language in i18n.languages:
        texts = i18n.get(language).texts
        labels = [key for key in texts if LABEL_KEYS.search(key)]
        assert len(labels) > 40
        for key in labels:
            length = len(re.sub(r"\{\w+\}", "", texts[key]))
            # やさしい日本語 goes goes where Japanese goes: if that fits a quick reply, so must it.
            quick = QUICK_REPLY_KEYS.search(key) or (
                language == "ja-x-easy" and len(japanese[key]) <= 20
            )
            assert length <= (20 if quick else 40), (language, key, texts[key])


def test_easy_japanese_is_a_third_language_with_every_text_people_read_in_line() -> None:
    i18n = I18n.load(Settings.from_env(REQUIRED).timezone)
    assert i18n.languages == ("ja", "ja-x-easy", "en")
    ja, easy = i18n.get("ja"), i18n.get("ja-x-easy")
    assert easy.language == "ja-x-easy" and set(easy.texts) == set(ja.texts)
    for key, text in easy.texts.items():
        assert placeholders(text) == placeholders(ja.texts[key]), key
    own = tomllib.loads((Path(__file__).parents[1] / "locales/ja-x-easy.toml").read_text("utf-8"))
    written = set(flatten(own["texts"]))
    for key in ja.texts:
        if written_in_easy_japanese(key):
            assert key in written, f"やさしい日本語 lacks {key}"
    # Its rules, checked where a machine can: short sentences, です・ます, no 〜ないことはない.
    for key in written:
        text = easy.texts[key]
        for sentence in re.split(r"[。\n]", text):
            assert len(sentence) <= 60, (key, sentence)
        assert "ないことはない" not in text and "なくはない" not in text, key
        # Kana for any kanji beyond the third grade, or its reading beside it (LINE's own
        # 「送信（そうしん）」); the words the bot listens for keep theirs (people type them).
        if not key.endswith("words"):
            read = re.sub(r"[\u4e00-\u9fff]+（[ぁ-ん]+）", "", text)
            hard = [c for c in read if "\u4e00" <= c <= "\u9fff" and c not in BASIC_KANJI]
            assert not hard, (key, hard)


def test_a_deployment_can_reword_any_text(tmp_path: Path) -> None:
    (tmp_path / "ja.toml").write_text('[texts.checkin]\ntitle = "おはようございます！"\n')
    settings = Settings.from_env({**REQUIRED, "MIMAMORI_LOCALE_OVERRIDES": str(tmp_path)})
    i18n = I18n.load(settings.timezone, settings.locale_overrides)
    assert i18n.get("ja").t("checkin.title") == "おはようございます！"
    assert i18n.get("ja").t("checkin.ok_button") == "OK"
    assert i18n.get("en").t("checkin.title") == "How are you?"

    for wrong in ('[texts.checkin]\nnope = "x"\n', '[texts.checkin]\ntitle = "{secret}"\n'):
        (tmp_path / "ja.toml").write_text(wrong)
        with pytest.raises(LocaleError):
            I18n.load(settings.timezone, settings.locale_overrides)


def test_line_client_takes_the_proxy_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    assert LineApi.configuration("https://api.line.me", "t").proxy is None
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.city.example:3128")
    assert LineApi.configuration("https://api.line.me", "t").proxy == (
        "http://proxy.city.example:3128"
    )
    monkeypatch.setenv("NO_PROXY", "api.line.me")
    assert LineApi.configuration("https://api.line.me", "t").proxy is None


def test_requests_to_line_are_spaced_to_its_published_limit() -> None:
    limiter = RateLimiter(REPLY_PER_SECOND)
    # Two seconds' worth of replies asked for at once: the last waits two seconds, none goes
    # early.
    waits = [limiter.reserve(100.0) for _ in range(2 * REPLY_PER_SECOND)]
    assert waits[0] == 0
    assert waits[-1] == pytest.approx(2.0 - 1 / REPLY_PER_SECOND)
    assert all(b - a == pytest.approx(1 / REPLY_PER_SECOND) for a, b in pairwise(waits))
    # After a quiet spell nothing is owed: the next goes at once.
    assert limiter.reserve(200.0) == 0


def test_requests_that_bunched_never_crowd_one_second_past_the_limit() -> None:
    limiter = RateLimiter(REPLY_PER_SECOND)
    # Their turns came while the process was busy: they all go at 100.0, up to the limit.
    assert all(limiter.admit(100.0) == 0 for _ in range(REPLY_PER_SECOND))
    # The next waits until the first of that second is a second old, not a moment less.
    assert limiter.admit(100.5) == pytest.approx(0.5)
    assert limiter.admit(101.0) == 0


def test_enough_connections_to_line_for_its_rate_limit() -> None:
    configuration = LineApi.configuration("https://api.line.me", "t")
    assert configuration.connection_pool_maxsize == CONNECTIONS
    # LINE's 2,000 a second, answered within 50 ms, keep this many requests in flight.
    assert CONNECTIONS >= REPLY_PER_SECOND * 0.05


def test_a_shared_account_is_set_in_a_few_words_and_wrong_ones_are_named() -> None:
    own = Settings.from_env(REQUIRED)
    assert (own.shared_account, own.forward_url, own.menus, own.unlimited_messages) == (
        False,
        None,
        "own",
        False,
    )
    front = Settings.from_env({**REQUIRED, "MIMAMORI_FORWARD_URL": "https://city.example.jp/cb"})
    assert front.shared_account and front.menus == "none", "in front of the city: shared"
    tab = Settings.from_env(
        {
            **REQUIRED,
            "MIMAMORI_SHARED_ACCOUNT": "on",
            "MIMAMORI_MENUS": "tab",
            "MIMAMORI_CITY_MENU_ALIAS": "city-main",
            "MIMAMORI_MESSAGE_PLAN": "unlimited",
        }
    )
    assert (tab.menus, tab.city_menu_alias, tab.unlimited_messages) == ("tab", "city-main", True)
    wrong = {
        "MIMAMORI_FORWARD_URL": {"MIMAMORI_FORWARD_URL": "ftp://city"},
        "MIMAMORI_MENUS": {"MIMAMORI_SHARED_ACCOUNT": "on", "MIMAMORI_MENUS": "own"},
        "MIMAMORI_CITY_MENU_ALIAS": {"MIMAMORI_SHARED_ACCOUNT": "on", "MIMAMORI_MENUS": "tab"},
        "MIMAMORI_MESSAGE_PLAN": {"MIMAMORI_MESSAGE_PLAN": "free"},
        "MIMAMORI_SHARED_ACCOUNT": {"MIMAMORI_SHARED_ACCOUNT": "maybe"},
    }
    for name, env in wrong.items():
        with pytest.raises(SettingsError) as caught:
            Settings.from_env({**REQUIRED, **env})
        assert caught.value.name == name


def test_whose_event_it_is_on_a_shared_account() -> None:
    from bot.shared_account import Known, Owner, owner

    nothing, member = Known(), Known(member=True)
    cases = [
        ("follow", "user", nothing, Owner.THEIRS),
        ("follow", "user", member, Owner.THEIRS),
        ("follow", "user", Known(member=True, blocked=True), Owner.BOTH),
        ("unfollow", "user", member, Owner.BOTH),
        ("unfollow", "user", nothing, Owner.THEIRS),
        ("message", "user", member, Owner.THEIRS),
        ("message", "user", Known(member=True, busy=True), Owner.OURS),
        ("message", "user", Known(our_words=True), Owner.OURS),
        ("postback", "user", Known(our_postback=True), Owner.OURS),
        ("postback", "user", member, Owner.THEIRS),
        ("join", "group", nothing, Owner.OURS),
        ("message", "group", nothing, Owner.THEIRS),
        ("message", "group", Known(our_group=True), Owner.OURS),
        ("memberJoined", "room", Known(our_group=True), Owner.OURS),
        ("beacon", "user", member, Owner.THEIRS),
        ("accountLink", "user", member, Owner.THEIRS),
    ]
    for event_type, source, known, expected in cases:
        assert owner(event_type, source, known) is expected, (event_type, source, known)
