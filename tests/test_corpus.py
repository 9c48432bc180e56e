"""The AMN licence over real news pages written by others: none is a reprint of the seed
article, so each must get a clean ``fail`` naming the missing obligations, never a crash."""

from __future__ import annotations

import pytest

from compliance.engine import judge
from compliance.model import Target
from compliance.rules import load_rulebook
from compliance.sources import read_local

from .conftest import ORIGINAL, RULES, SHARED, needs_shared

CORPUS = SHARED / "corpus" / "real-pages"
PAGES = sorted(CORPUS.glob("*.html")) if CORPUS.is_dir() else []


@pytest.fixture(scope="module")
def rulebook():
    return load_rulebook(RULES)


@pytest.mark.parametrize("path", PAGES or [None], ids=[p.name for p in PAGES] or ["absent"])
def test_real_page_gets_a_verdict_naming_missing_obligations(path, rulebook):
    if path is None:
        needs_shared("corpus", "real-pages")
    target = Target("american-military-news", str(path), original_url=ORIGINAL,
                    photo_credits=("(Kremlin/Released)",))
    result = judge(target, rulebook, read_local)
    assert result.status == "fail", result.error
    by_rule = {}
    for finding in result.findings:
        by_rule.setdefault(finding.rule_id, []).append(finding)
    assert set(by_rule) == {"credit-line", "link-to-original", "photo-credit"}
    (credit,) = by_rule["credit-line"]
    assert credit.status == "fail"
    assert credit.message.startswith("the required wording is not on the page")
    (link,) = by_rule["link-to-original"]
    assert (link.status, link.message) == ("fail", "no link to the original article on the page")
    for photo in by_rule["photo-credit"]:
        # No page carries the seed photo's credit; pages without article photos are skipped.
        assert photo.status in {"fail", "skip"}
        assert photo.status == "skip" or photo.where


def test_declared_encodings_of_real_pages(rulebook):
    needs_shared("corpus", "real-pages")
    qq = read_local(Target("american-military-news", str(CORPUS / "009-qq-cn.html")))
    assert qq.encoding == "utf-8"
    assert qq.notes == ("bytes are not valid gb2312 as declared in <meta charset>",)
    auto = read_local(Target("american-military-news", str(CORPUS / "030-automobilwoche-dpa.html")))
    assert auto.encoding == "cp1252"
    assert "\ufffd" not in auto.view(auto.body).text
