"""The command-line contract: exit codes, JSON report (validated against its schema), text."""

from __future__ import annotations

import json
from importlib import resources

import jsonschema
import pytest

from .conftest import FIXTURES, ORIGINAL, ROOT, run_cli

SEED = FIXTURES / "seed"
PARTNER = ["--partner", "american-military-news", "--original-url", ORIGINAL,
           "--photo-credit", "(Kremlin/Released)"]


def report_schema():
    text = resources.files("compliance").joinpath("schemas/report.schema.json").read_text("utf-8")
    return json.loads(text)


def validate(document):
    jsonschema.Draft202012Validator(report_schema(),
                                    format_checker=jsonschema.FormatChecker()).validate(document)


def test_seed_manifest_passes_with_exit_0():
    result = run_cli("check", "--manifest", str(SEED / "manifest.csv"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == (
        f"PASS   american-military-news  {SEED / 'amn-reprint.html'}")
    assert result.stdout.splitlines()[-1] == "1 page: 1 pass, 0 fail, 0 error"


def test_violation_exit_1_with_valid_json_and_exact_findings():
    page = FIXTURES / "link_back" / "fail" / "rel-nofollow.html"
    result = run_cli("check", *PARTNER, "--format", "json", str(page))
    assert result.returncode == 1, result.stderr
    document = json.loads(result.stdout)
    validate(document)
    (entry,) = document["pages"]
    assert (entry["target"], entry["partner"], entry["status"]) == (
        str(page), "american-military-news", "fail")
    assert [(f["check"], f["type"], f["status"], f["severity"]) for f in entry["findings"]] == [
        ("credit-line", "attribution_text", "pass", "error"),
        ("link-to-original", "link_back", "fail", "error"),
        ("photo-credit", "photo_credit", "skip", "error"),
    ]
    link = entry["findings"][1]
    assert link["message"] == ('no valid link to the original article: the link has '
                               'rel="nofollow", so it is not followed')
    assert link["where"] == '//*[@id="post-101"]/div/p[5]/em/a'
    assert link["line"] == 23
    assert document["summary"] == {"pages": 1, "pass": 0, "fail": 1, "error": 0, "needs-review": 0,
                                   "findings": {"fail": 1, "pass": 1, "skip": 1}}


def test_text_output_says_what_is_missing_where_and_how_to_fix_it():
    page = FIXTURES / "attribution_text" / "fail" / "display-none-ancestor.html"
    result = run_cli("check", *PARTNER, str(page))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0] == f"FAIL   american-military-news  {page}"
    assert lines[1] == ("  - credit-line (attribution_text, error): the required wording is in "
                        "the page source but readers cannot see it: inside <div> styled "
                        "'DISPLAY : none'")
    assert lines[4] == '      where: //*[@id="post-101"]/div/div/p/em (line 23)'
    assert lines[5] == ('      fix: Make "This article was originally published by Radio Free '
                        'Europe/Radio Liberty and is reprinted with permission." visible in the '
                        'article: remove what hides it, or add it as plain text.')


def test_stdin_draft():
    data = (SEED / "amn-reprint.html").read_bytes()
    result = run_cli("check", *PARTNER, "--format", "json", "-", stdin=data)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    validate(document)
    assert document["pages"][0]["target"] == "-"
    assert document["pages"][0]["status"] == "pass"


def test_unreadable_page_is_an_error_exit_3_and_the_run_goes_on(tmp_path):
    missing = tmp_path / "gone.html"
    empty = tmp_path / "empty.html"
    empty.write_bytes(b"   \n")
    result = run_cli("check", *PARTNER, "--format", "json", str(missing), str(empty),
                     str(SEED / "amn-reprint.html"))
    assert result.returncode == 3, result.stderr
    document = json.loads(result.stdout)
    validate(document)
    assert [(p["status"], p.get("error")) for p in document["pages"]] == [
        ("error", f"{missing}: no such file"),
        ("error", f"{empty}: the file is empty"),
        ("pass", None),
    ]


def test_violation_wins_over_error_for_the_exit_code(tmp_path):
    page = FIXTURES / "photo_credit" / "fail" / "no-caption.html"
    result = run_cli("check", *PARTNER, str(tmp_path / "gone.html"), str(page))
    assert result.returncode == 1


@pytest.mark.parametrize(("args", "message"), [
    (["check", "--partner", "nobody", "x.html"],
     "compliance: error: --partner 'nobody': unknown partner; known: american-military-news, "
     "coastal-courier, danube-daily, prairie-post"),
    (["check"], "compliance: error: nothing to check: give TARGETs (paths, URLs or -) or "
                "--manifest FILE"),
    (["check", "--rules", "/nonexistent", "--partner", "x", "a.html"],
     "compliance: error: 1 problem in the rule files; nothing was checked"),
])
def test_usage_errors_exit_2(args, message):
    result = run_cli(*args)
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == message
    assert result.stdout == ""
    assert "Traceback" not in result.stderr


def test_broken_manifest_exits_2_before_checking(tmp_path):
    manifest = tmp_path / "m.csv"
    manifest.write_text("partner,reprint_url,original_url\nnobody,a.html,https://x.example/a\n",
                        encoding="utf-8")
    result = run_cli("check", "--manifest", str(manifest), "--format", "json")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"{manifest}:2 partner: unknown partner 'nobody'; known: american-military-news, "
        "coastal-courier, danube-daily, prairie-post",
        "compliance: error: 1 problem in the manifest; nothing was checked",
    ]


def test_verbose_shows_traceback():
    result = run_cli("--verbose", "check", "--partner", "nobody", "x.html")
    assert result.returncode == 2
    assert "Traceback" in result.stderr


def test_fail_on_decides_what_sets_exit_1(tmp_path):
    rules = tmp_path / "rules"
    (rules / "publishers").mkdir(parents=True)
    (rules / "partners").mkdir()
    publisher = (ROOT / "rules" / "publishers" / "rferl.yaml").read_text("utf-8")
    (rules / "publishers" / "rferl.yaml").write_text(publisher, "utf-8")
    (rules / "partners" / "p.yaml").write_text(
        "partner: {id: p, name: P}\nextends: rferl\noverrides:\n"
        "  credit-line: {params: {match: fuzzy, threshold: 90, review_threshold: 70}}\n"
        "  photo-credit: {severity: warning}\n  link-to-original: {enabled: false}\n", "utf-8")
    review = FIXTURES / "attribution_text" / "fail" / "fuzzy-needs-review.html"
    warned = tmp_path / "no-caption.html"  # the seed reprint with its photo credit dropped
    warned.write_text((SEED / "amn-reprint.html").read_text("utf-8").replace(
        " (Kremlin/Released)", ""), "utf-8")
    base = ["check", "--rules", str(rules), "--partner", "p", "--original-url", ORIGINAL,
            "--photo-credit", "(Kremlin/Released)"]
    codes = {
        (page.name, fail_on): run_cli(*base, "--fail-on", fail_on, str(page)).returncode
        for page in (review, warned) for fail_on in ("fail", "needs-review", "warning")
    }
    assert codes == {
        ("fuzzy-needs-review.html", "fail"): 0, ("fuzzy-needs-review.html", "needs-review"): 1,
        ("fuzzy-needs-review.html", "warning"): 1,
        ("no-caption.html", "fail"): 0, ("no-caption.html", "needs-review"): 0,
        ("no-caption.html", "warning"): 1,
    }
    text = run_cli(*base, str(review)).stdout
    assert text.splitlines()[0] == f"REVIEW  p  {review}"


def test_baseline_fails_only_on_new_findings(tmp_path):
    broken = FIXTURES / "link_back" / "fail" / "rel-nofollow.html"
    baseline = tmp_path / "baseline.json"
    first = run_cli("check", *PARTNER, "--output", f"json:{baseline}", str(broken))
    assert first.returncode == 1
    again = run_cli("check", *PARTNER, "--baseline", str(baseline), str(broken))
    assert again.returncode == 0, again.stderr
    assert again.stderr == ("compliance: 1 failing finding(s) are in the baseline and do not "
                            "count; 0 are new\n")
    assert again.stdout.splitlines()[0].startswith("FAIL "), "reports still show the problem"
    worse = tmp_path / "rel-nofollow.html"  # same page, now also without its credit line
    worse.write_text(broken.read_text("utf-8").replace("reprinted with permission", "reprinted"),
                     "utf-8")
    baseline.write_text(baseline.read_text("utf-8").replace(str(broken), str(worse)), "utf-8")
    new = run_cli("check", *PARTNER, "--baseline", str(baseline), str(worse))
    assert new.returncode == 1
    assert new.stderr.endswith("1 failing finding(s) are in the baseline and do not count; 1 are "
                               "new\n")
    bad = run_cli("check", *PARTNER, "--baseline", str(tmp_path / "nope.json"), str(broken))
    assert (bad.returncode, bad.stderr) == (2, f"compliance: error: --baseline "
                                               f"{tmp_path / 'nope.json'}: no such file\n")
