"""Writes docs/accessibility/results.md, the JIS X 8341-3:2016 試験結果 a city publishes, from
what axe-core found on each page (docs/accessibility/axe/*.json, kept equal to the browser
tests' own axe runs by tests/drivers.axe_findings) and the checklist of what a person judged
(docs/accessibility/checklist.toml). `python docs/accessibility/generate.py --check` writes
nothing and fails when results.md is not what it would write (tests/test_accessibility_docs.py).

A criterion axe found failing on any page is 不適合 whatever the checklist says; otherwise the
checklist's judgement stands, and 未確認 stays 未確認: a machine passing a page proves only that
it found nothing it can find."""

from __future__ import annotations

import json
import sys
import tomllib
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results.md"
REGENERATE = "python docs/accessibility/generate.py"

# JIS X 8341-3:2016 = WCAG 2.0: its 38 success criteria at levels A and AA, in JIS's words.
CRITERIA = [
    ("1.1.1", "A", "非テキストコンテンツ"),
    ("1.2.1", "A", "音声のみ及び映像のみ（収録済）"),
    ("1.2.2", "A", "キャプション（収録済）"),
    ("1.2.3", "A", "音声解説、又はメディアに対する代替（収録済）"),
    ("1.2.4", "AA", "キャプション（ライブ）"),
    ("1.2.5", "AA", "音声解説（収録済）"),
    ("1.3.1", "A", "情報及び関係性"),
    ("1.3.2", "A", "意味のある順序"),
    ("1.3.3", "A", "感覚的な特徴"),
    ("1.4.1", "A", "色の使用"),
    ("1.4.2", "A", "音声の制御"),
    ("1.4.3", "AA", "コントラスト（最低限）"),
    ("1.4.4", "AA", "テキストのサイズ変更"),
    ("1.4.5", "AA", "文字画像"),
    ("2.1.1", "A", "キーボード"),
    ("2.1.2", "A", "キーボードトラップなし"),
    ("2.2.1", "A", "タイミング調整可能"),
    ("2.2.2", "A", "一時停止、停止及び非表示"),
    ("2.3.1", "A", "3回の閃光、又は閾値以下"),
    ("2.4.1", "A", "ブロックスキップ"),
    ("2.4.2", "A", "ページタイトル"),
    ("2.4.3", "A", "フォーカス順序"),
    ("2.4.4", "A", "リンクの目的（コンテキスト内）"),
    ("2.4.5", "AA", "複数の手段"),
    ("2.4.6", "AA", "見出し及びラベル"),
    ("2.4.7", "AA", "フォーカスの可視化"),
    ("3.1.1", "A", "ページの言語"),
    ("3.1.2", "AA", "一部分の言語"),
    ("3.2.1", "A", "フォーカス時"),
    ("3.2.2", "A", "入力時"),
    ("3.2.3", "AA", "一貫したナビゲーション"),
    ("3.2.4", "AA", "一貫した識別性"),
    ("3.3.1", "A", "エラーの特定"),
    ("3.3.2", "A", "ラベル又は説明"),
    ("3.3.3", "AA", "エラー修正の提案"),
    ("3.3.4", "AA", "エラー回避（法的、金融及びデータ）"),
    ("4.1.1", "A", "構文解析"),
    ("4.1.2", "A", "名前（name）、役割（role）及び値（value）"),
]
VERDICTS = ("適合", "不適合", "該当なし", "未確認")

# Every page the tests run axe on, by its record's name: (対象, 画面, アドレス).
MYPAGE = "マイページ（LIFF）"
OPERATOR = "管理画面（運用管理）"
DESK = "管理画面（窓口）"
VIEWER = "管理画面（閲覧）"
GUIDES = "案内（印刷用）"
PAGES: dict[str, tuple[str, str, str]] = {
    "mypage-resident": (MYPAGE, "本人のマイページ", "/liff/"),
    "mypage-resident-teams": (MYPAGE, "本人のチーム", "/liff/teams"),
    "mypage-manager": (MYPAGE, "見守る人のマイページ", "/liff/"),
    "mypage-manager-teams": (MYPAGE, "見守る人のチーム", "/liff/teams"),
    "mypage-manager-card": (MYPAGE, "見守る人が開いた本人のカード", "/liff/teams#member-N"),
    "mypage-terms": (MYPAGE, "利用規約", "/liff/terms"),
    "console-login": (OPERATOR, "ログイン", "/admin/login"),
    "console-dashboard": (OPERATOR, "ダッシュボード", "/admin/"),
    "console-alerts": (OPERATOR, "アラート", "/admin/alerts"),
    "console-desk": (OPERATOR, "窓口の案件", "/admin/desk"),
    "console-desk-case": (OPERATOR, "案件", "/admin/desk/N"),
    "console-person": (OPERATOR, "利用者", "/admin/people/N"),
    "console-people": (OPERATOR, "ご本人の一覧", "/admin/people"),
    "console-partners": (OPERATOR, "協力事業者", "/admin/partners"),
    "console-teams": (OPERATOR, "チーム一覧", "/admin/teams"),
    "console-team": (OPERATOR, "チーム", "/admin/teams/N"),
    "console-flyer": (OPERATOR, "チームのチラシ（印刷用）", "/admin/teams/N/flyer"),
    "console-groups": (OPERATOR, "グループ", "/admin/groups"),
    "console-notices": (OPERATOR, "お知らせ", "/admin/notices"),
    "console-rollcalls": (OPERATOR, "一斉確認", "/admin/rollcalls"),
    "console-rollcall": (OPERATOR, "一斉確認の集計", "/admin/rollcalls/N"),
    "console-heat": (OPERATOR, "暑い日の確認", "/admin/heat"),
    "console-quota": (OPERATOR, "送信数", "/admin/quota"),
    "console-report": (OPERATOR, "月次報告", "/admin/report"),
    "console-audit": (OPERATOR, "操作記録", "/admin/audit"),
    "console-desk-dashboard": (DESK, "ダッシュボード", "/admin/"),
    "console-desk-alerts": (DESK, "アラート", "/admin/alerts"),
    "console-desk-desk": (DESK, "窓口の案件", "/admin/desk"),
    "console-desk-people": (DESK, "ご本人の一覧", "/admin/people"),
    "console-desk-partners": (DESK, "協力事業者", "/admin/partners"),
    "console-desk-guides": (DESK, "案内", "/admin/guides"),
    "console-desk-second_factor": (DESK, "二段階認証", "/admin/second-factor"),
    "console-viewer-dashboard": (VIEWER, "ダッシュボード", "/admin/"),
    "console-viewer-quota": (VIEWER, "送信数", "/admin/quota"),
    "console-viewer-report": (VIEWER, "月次報告", "/admin/report"),
    "console-viewer-guides": (VIEWER, "案内", "/admin/guides"),
    "console-viewer-second_factor": (VIEWER, "二段階認証", "/admin/second-factor"),
    "guides": (GUIDES, "案内の一覧", "/admin/guides"),
    "guide-resident": (GUIDES, "本人向けの案内", "/admin/guides/resident"),
    "guide-watcher": (GUIDES, "見守る人向けの案内", "/admin/guides/watcher"),
    "guide-group": (GUIDES, "グループ向けの案内", "/admin/guides/group"),
    "guide-staff": (GUIDES, "職員向けの案内", "/admin/guides/staff"),
    "simulator": ("シミュレーター", "シミュレーター", "mimamori demo の /"),
}
AXE_WORDS = {
    "failed": "不適合",
    "incomplete": "要確認",
    "passed": "適合",
    "inapplicable": "該当なし",
}


def load() -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """The axe records by page, and the checklist; a record with no page above, a page with
    no record or a criterion the checklist misses is an error, not a silent gap."""
    records = {
        path.stem: json.loads(path.read_text("utf-8"))
        for path in sorted((HERE / "axe").glob("*.json"))
    }
    unknown = sorted(records.keys() - PAGES.keys())
    missing = sorted(PAGES.keys() - records.keys())
    if unknown or missing:
        raise SystemExit(
            f"axe records without a page: {unknown}; pages without a record: {missing}"
        )
    checklist = tomllib.loads((HERE / "checklist.toml").read_text("utf-8"))
    judged = checklist["criteria"]
    wanted = [number for number, _, _ in CRITERIA]
    if sorted(judged) != sorted(wanted):
        raise SystemExit(f"checklist.toml must judge exactly {wanted}")
    for number, entry in judged.items():
        if entry["verdict"] not in VERDICTS:
            raise SystemExit(f"{number}: verdict must be one of {VERDICTS}")
    return records, checklist


def verdict(number: str, records: dict[str, dict[str, Any]], judged: dict[str, Any]) -> str:
    if any(record["criteria"].get(number) == "failed" for record in records.values()):
        return "不適合"
    return str(judged[number]["verdict"])


def axe_cell(number: str, records: dict[str, dict[str, Any]]) -> str:
    counts: dict[str, int] = {}
    for record in records.values():
        outcome = record["criteria"].get(number)
        if outcome is not None:
            counts[outcome] = counts.get(outcome, 0) + 1
    if not counts:
        return "自動試験の対象外"
    return "、".join(
        f"{AXE_WORDS[outcome]} {counts[outcome]}" for outcome in AXE_WORDS if outcome in counts
    )


def level(verdicts: list[str]) -> str:
    """準拠 only when every criterion is 適合 or 該当なし: one 不適合 or 未確認 makes it
    一部準拠."""
    if all(v in ("適合", "該当なし") for v in verdicts):
        return "準拠"
    return "一部準拠"


def render() -> str:
    records, checklist = load()
    judged = checklist["criteria"]
    engines = sorted({record["axe"] for record in records.values()})
    verdicts = [verdict(number, records, judged) for number, _, _ in CRITERIA]
    tally = {v: verdicts.count(v) for v in VERDICTS}
    lines = [
        "<!-- generated by python docs/accessibility/generate.py from"
        " docs/accessibility/axe/*.json and docs/accessibility/checklist.toml;"
        " do not edit by hand -->",
        "# 試験結果（JIS X 8341-3:2016）",
        "",
        "- 規格: JIS X 8341-3:2016（WCAG 2.0 と同じ達成基準）、目標は適合レベル AA",
        f"- 適合レベルの表記: **適合レベル AA に{level(verdicts)}**",
        f"- 試験日: {checklist['tested']}（目視の確認）。自動試験はテストを走らせるたびに"
        "行い、結果がこのページと違えばテストが失敗します。",
        f"- 対象: {checklist['scope']}",
        f"- 試験方法: axe-core {', '.join(engines)}（axe-playwright-python、Debian の Chromium）で"
        "下の各ページを自動試験し（WCAG 2.0/2.1 の A・AA と best-practice の規則）、"
        "機械では確かめられない達成基準は、テンプレートとページの作りを読んで人が確認しました"
        "（確認していないものは「未確認」）。",
        f"- 結果: 38 の達成基準のうち 適合 {tally['適合']}、該当なし {tally['該当なし']}、"
        f"不適合 {tally['不適合']}、未確認 {tally['未確認']}",
        "",
        "## 達成基準ごとの結果",
        "",
        "「自動試験」は、その達成基準にかかわる axe の規則がいくつのページでどうだったか"
        "（要確認 = axe が判断できず人が見るべきもの）。"
        "「判定」は自動試験と目視を合わせたものです。",
        "",
        "| 達成基準 | レベル | 自動試験（ページ数） | 判定 | 判定の方法と根拠 |",
        "|---|---|---|---|---|",
    ]
    for (number, grade, name), result in zip(CRITERIA, verdicts, strict=True):
        how = " ".join(str(judged[number]["how"]).split())
        lines.append(
            f"| {number} {name} | {grade} | {axe_cell(number, records)} | {result} | {how} |"
        )
    lines += [
        "",
        "## 対象ページ",
        "",
        "ページごとに、axe が確かめた達成基準（A・AA、WCAG 2.1 の基準を含む）の結果の数と、"
        "達成基準にはかからない best-practice の指摘です（重大なもの critical・serious は"
        "テストが失敗するので、ここには出ません）。",
        "",
        "| 対象 | 画面 | アドレス | 適合 | 要確認 | 該当なし | 不適合 | best-practice の指摘 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, (group, screen, address) in PAGES.items():
        record = records[name]
        outcomes = list(record["criteria"].values())
        remarks = record["best_practice_failed"]
        lines.append(
            f"| {group} | {screen} | `{address}` | {outcomes.count('passed')} |"
            f" {outcomes.count('incomplete')} | {outcomes.count('inapplicable')} |"
            f" {outcomes.count('failed')} | {', '.join(remarks) or 'なし'} |"
        )
    lines += [
        "",
        "ページごとの規則単位の結果は docs/accessibility/axe/ にあります"
        "（1 ページ 1 ファイルの JSON）。",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    written = render()
    if "--check" in argv:
        if not RESULTS.exists() or RESULTS.read_text("utf-8") != written:
            print(f"{RESULTS} is out of date; regenerate: {REGENERATE}", file=sys.stderr)
            return 1
        return 0
    RESULTS.write_text(written, "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
