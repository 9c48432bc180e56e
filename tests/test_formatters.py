"""Every formatter over the same results: valid for its readers, and inert with hostile pages."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess

import pytest
from junitparser import Error, Failure, JUnitXml, Skipped
from lxml import etree

from compliance.formatters import FORMATTERS, csv_report, github, markdown
from compliance.model import Finding, PageResult, Target

from .conftest import FIXTURES, ORIGINAL, run_cli

HOSTILE = FIXTURES / "hostile" / "xss-reprint.html"
PARTNER = ["--partner", "american-military-news", "--original-url", ORIGINAL,
           "--photo-credit", "(Kremlin/Released)"]
PAGES = [FIXTURES / "seed" / "amn-reprint.html",
         FIXTURES / "link_back" / "fail" / "rel-nofollow.html", HOSTILE]


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("outputs")
    args = [arg for kind in sorted(FORMATTERS)
            for arg in ("--output", f"{kind}:{folder / kind}{FORMATTERS[kind].SUFFIX}")]
    result = run_cli("check", *PARTNER, *args, *map(str, PAGES), str(folder / "missing.html"))
    assert result.returncode == 1, result.stderr
    assert result.stdout == ""
    return folder


def test_junit_parses_with_a_real_junit_parser(outputs):
    xml = JUnitXml.fromfile(str(outputs / "junit.xml"))
    (suite,) = list(xml)
    assert suite.name == "american-military-news"
    cases = {case.name: case for case in suite}
    assert len(cases) == 3 * 3 + 1
    assert (suite.tests, suite.failures, suite.errors, suite.skipped) == (10, 3, 1, 1)
    nofollow = cases[f"{PAGES[1]} :: link-to-original"]
    (failure,) = nofollow.result
    assert isinstance(failure, Failure)
    assert failure.message == ('no valid link to the original article: the link has '
                               'rel="nofollow", so it is not followed')
    assert "where: //*[@id=\"post-101\"]/div/p[5]/em/a" in failure.text
    assert "expected: " + ORIGINAL in failure.text
    assert cases[f"{PAGES[0]} :: credit-line"].result == []
    assert isinstance(cases[f"{PAGES[1]} :: photo-credit"].result[0], Skipped)
    (missing,) = cases[f"{outputs / 'missing.html'} :: page"].result
    assert isinstance(missing, Error)
    assert missing.message == f"{outputs / 'missing.html'}: no such file"


def test_csv_rows_per_finding_with_bom_and_no_formulas(outputs):
    raw = (outputs / "csv.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert list(rows[0]) == list(csv_report.COLUMNS)
    assert len(rows) == 3 * 3 + 1
    found = [row["found"] for row in rows if row["target"] == str(HOSTILE)]
    assert any("=HYPERLINK" in cell for cell in found)
    for row in rows:
        for cell in row.values():
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_formula_cells_are_neutralised(value):
    assert csv_report.neutralise(value) == "'" + value
    assert csv_report.neutralise("plain =text") == "plain =text"


def test_markdown_summary_is_inert_and_counts_passing_pages(outputs):
    text = (outputs / "markdown.md").read_text("utf-8")
    assert text.startswith("# Licence compliance: American Military News\n\nWe checked 4 reprints"
                           " of Radio Free Europe/Radio Liberty articles on ")
    assert ": 1 meet the licence, 2 need changes, and 1 could not be checked." in text
    assert str(PAGES[0]) not in text, "passing pages are counted, not listed"
    assert "<script>" not in text and "<img" not in text
    assert "&lt;script&gt;document.documentElement.setAttribute(" in text
    assert markdown.code("a`b") == "`` a`b ``"


def test_github_annotations_cannot_be_broken_out_of():
    finding = Finding("fail", "bad\nline %0A ::error::x", fix="do this", rule_id="credit-line",
                      type="attribution_text", line=7)
    result = PageResult(Target("p", "drafts/a,b:c.html"), "fail", (finding,))
    out = io.StringIO()
    github.render([result], out)
    assert out.getvalue() == (
        "::error file=drafts/a%2Cb%3Ac.html,line=7,title=credit-line (attribution_text)::"
        "bad%0Aline %250A ::error::x Fix: do this\n")


def test_control_characters_from_a_page_break_no_format():
    # Page text may hold a form feed, an escape sequence or a NUL: XML cannot carry them, and
    # a terminal would obey them.
    finding = Finding("fail", "closest text\x0c differs", found="Radio \x1b[2J Free\x00 Europe",
                      where='//*[@id="a\x08b"]/p', fix="add it", rule_id="credit-line",
                      type="attribution_text", severity="error", line=3)
    result = PageResult(Target("p", "drafts/a\x1b.html"), "fail", (finding,),
                        error=None)
    rendered = {}
    for kind, formatter in FORMATTERS.items():
        out = io.StringIO()
        formatter.render([result], out)
        rendered[kind] = out.getvalue()
    etree.fromstring(rendered["junit"].encode("utf-8"))  # well-formed XML
    for kind in ("text", "markdown", "junit"):
        assert not any(c in rendered[kind] for c in "\x00\x08\x0c\x1b"), kind
    assert "found: Radio \ufffd[2J Free\ufffd Europe" in rendered["text"]


def test_json_output_is_the_same_document_as_format_json(outputs):
    document = json.loads((outputs / "json.json").read_text("utf-8"))
    assert [p["status"] for p in document["pages"]] == ["pass", "fail", "fail", "error"]


def test_html_is_self_contained(outputs):
    root = etree.parse(str(outputs / "html.html"), etree.HTMLParser()).getroot()
    assert root.xpath("//link[@rel='stylesheet'] | //script[@src] | //img[@src]") == []
    policy = root.xpath("//meta[@http-equiv='Content-Security-Policy']/@content")[0]
    assert policy.startswith("default-src 'none'; style-src 'sha256-")
    hrefs = root.xpath("//a/@href")
    assert hrefs and all(h.startswith(("http://", "https://")) for h in hrefs)
    assert len(root.xpath("//script")) == 1


def test_hostile_page_runs_nothing_in_a_real_browser(outputs, tmp_path):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    report = outputs / "html.html"
    dom = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=3000",
         "--dump-dom", report.resolve().as_uri()],
        capture_output=True, text=True, timeout=120, check=True).stdout
    page = etree.fromstring(dom, etree.HTMLParser())
    assert page.get("data-pwned") is None, f"hostile content ran: {page.get('data-pwned')}"
    body = page.find("body")
    assert body.get("data-ready") == "1", "the report's own script ran (filters work)"
    # The filter shows the failing pages by default: the hostile page is one of them.
    shown = [s.get("data-status") for s in page.iter("section") if s.get("hidden") is None]
    assert shown == ["fail", "fail"]
    assert "=HYPERLINK" in dom and "onerror=" in dom, "the hostile text is shown, as text"
