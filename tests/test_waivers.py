"""Waivers: applied, expiring loudly, reported when stale, and validated like rule files."""

from __future__ import annotations

import json
import shutil
import textwrap
from datetime import date, timedelta
from pathlib import Path

import pytest

from compliance.errors import RuleError
from compliance.rules import load_rulebook

from .conftest import ROOT, run_cli
from .test_cli import validate

ORIGINAL = "https://www.rferl.org/a/trump-putin-meet-g20-osaka/29968834.html"
SEED = ROOT / "fixtures" / "seed" / "amn-reprint.html"


@pytest.fixture
def rules(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder = Path("rules")
    shutil.copytree(ROOT / "rules", folder)
    return folder


def pages(tmp_path: Path) -> tuple[Path, Path, Path]:
    """Three reprints whose photo credit was dropped."""
    uncredited = SEED.read_text("utf-8").replace(" (Kremlin/Released)", "")
    made = []
    for name in ("waived.html", "expired.html", "plain.html"):
        (tmp_path / name).write_text(uncredited, "utf-8")
        made.append(tmp_path / name)
    return made[0], made[1], made[2]


def test_waivers_apply_expire_and_report_stale_ones(tmp_path, rules):
    waived, expired, plain = pages(tmp_path)
    future = (date.today() + timedelta(days=30)).isoformat()
    past = (date.today() - timedelta(days=1)).isoformat()
    (rules / "waivers.yaml").write_text(textwrap.dedent(f"""
        waivers:
          - partner: american-military-news
            url: {waived.as_uri()}
            rule: photo-credit
            reason: AMN replaced the photo with its own, RFE/RL agreed
            approved_by: J. Doe, RFE/RL legal
            expires: {future}
          - partner: american-military-news
            url_pattern: expired\\.html$
            rule: "*"
            reason: temporary
            approved_by: J. Doe, RFE/RL legal
            expires: {past}
          - partner: danube-daily
            url: https://danubedaily.example/news/old
            rule: credit-line
            reason: page taken down
            approved_by: J. Doe, RFE/RL legal
            expires: {future}
    """), "utf-8")
    manifest = tmp_path / "m.csv"
    manifest.write_text("partner,reprint_url,original_url,photo_credits\n" + "".join(
        f"american-military-news,{page.as_uri()},{ORIGINAL},(Kremlin/Released)\n"
        for page in (waived, expired, plain)), "utf-8")
    result = run_cli("run", "--manifest", str(manifest), "--rules", str(rules.resolve()),
                     "--reports", str(tmp_path / "reports"), cwd=ROOT)
    assert result.returncode == 1, result.stderr
    report = json.loads((Path(result.stdout.splitlines()[-1]) / "report.json").read_text("utf-8"))
    validate(report)
    by_page = {Path(p["target"]).name: p for p in report["pages"]}
    assert [p["status"] for p in by_page.values()] == ["pass", "fail", "fail"]
    photo = [f for f in by_page["waived.html"]["findings"] if f["check"] == "photo-credit"]
    where = rules.resolve() / "waivers.yaml"  # the run's working folder is elsewhere
    assert [(f["status"], f["waiver"]) for f in photo] == [("waived", f"{where}:3")]
    assert photo[0]["message"].endswith(
        f"[waived: AMN replaced the photo with its own, RFE/RL agreed; approved by J. Doe, "
        f"RFE/RL legal until {future}]")
    late = [(f["check"], f["type"], f["status"], f["severity"]) for f in
            by_page["expired.html"]["findings"] if f.get("waiver")]
    assert late == [("photo-credit", "photo_credit", "fail", "error"),
                    ("photo-credit", "waiver", "fail", "warning")]
    assert [w["id"] for w in report["waivers"]["unmatched"]] == [f"{where}:15"]
    html = (Path(result.stdout.splitlines()[-1]) / "index.html").read_text("utf-8")
    assert "Waivers that matched nothing" in html and "page taken down" in html


def test_broken_waivers_are_rule_errors_with_file_and_line(rules):
    (rules / "waivers.yaml").write_text(textwrap.dedent("""
        waivers:
          - partner: american-military-news
            url: https://americanmilitarynews.com/x
            rule: photo-credits
            reason: because
            approved_by: legal
            expires: 2027-01-31
          - partner: nobody
            url_pattern: "(unclosed"
            rule: credit-line
            reason: because
            approved_by: legal
            expires: soon
            note: extra
    """), "utf-8")
    with pytest.raises(RuleError) as caught:
        load_rulebook(rules)
    assert caught.value.problems == [
        "rules/waivers.yaml:10 $.waivers[1].url_pattern: invalid regular expression '(unclosed': "
        "missing ) at position 9",
        "rules/waivers.yaml:14 $.waivers[1].expires: 'soon' does not match '^\\\\d{4}-\\\\d{2}-\\\\d{2}$'",
        "rules/waivers.yaml:15 $.waivers[1].note: unknown key 'note'; allowed here: approved_by, "
        "expires, partner, reason, rule, url, url_pattern",
    ]
    (rules / "waivers.yaml").write_text(textwrap.dedent("""
        waivers:
          - partner: american-military-news
            url: https://americanmilitarynews.com/x
            rule: photo-credits
            reason: because
            approved_by: legal
            expires: 2027-01-31
    """), "utf-8")
    with pytest.raises(RuleError) as caught:
        load_rulebook(rules)
    assert caught.value.problems == [
        "rules/waivers.yaml:5 $.waivers[0].rule: american-military-news has no rule "
        "'photo-credits'; its rules: credit-line, link-to-original, photo-credit (or * for all)"]
