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


_STRESS_PARTNER = """
partner:
  id: stress
  name: Stress
  domains: [partner.example]
extends: rferl
overrides:
  credit-line:
    params:
      text: "This article was originally published by {publisher} and is reprinted with permission."
      match: fuzzy
      placement: end
rules:
  - {id: regex-credit, type: attribution_text, severity: warning,
     params: {text: "(?:originally|first) published (?:by|on) {publisher}", match: regex,
              scope: body}}
  - {id: byline, type: attribution_text, severity: warning,
     params: {text: "By {author}", placement: start, scope: "article, main, .entry-content"}}
  - {id: home-link, type: link_back, severity: warning,
     params: {target: publisher_home, anchor_text: "{publisher}"}}
  - {id: site-link, type: link_back, severity: warning,
     params: {target: pattern, url_pattern: "^https?://(?:www\\\\.)?rferl\\\\.org/a/", followed: false}}
  - {id: any-photo-credit, type: photo_credit, severity: warning, params: {scope: page}}
"""
# Markup that real pages break in: unclosed and stray tags, hiding, odd URLs and sizes, bytes.
_SPLICES = [
    b"<div hidden>", b"</p>", b"<!--", b"-->", b"<script>", b"\x00", b"\xff\xfe", b"<p>" * 300,
    b"<a href='https://www.rferl.org/a/x/1.html' rel=nofollow>", b"<base href='http://[::1'>",
    b"<figure><img src=x.jpg width=500><figcaption>(Kremlin/Released)", b"<meta charset=koi8-r>",
    b"<p style='display:none'>This article was originally published by RFE/RL and is reprinted "
    b"with permission.</p>", b"<img srcset=',,, ,' sizes='1e999px' width='99999999999999999999'>",
    b"<a href='//\xff\xfe/a'>", b"<a href='https://www.rferl.org:99999/a/x/1.html'>",
    b"<div class='hidden md:block sr-only'>", b"<dialog>", b"<template><p>x</p></template>",
    b"<svg><text>x</text></svg>", b"<table><tr><td>", b"</figure>", b"<figcaption>",
    b"<div class='wp-caption'>", b"<amp-img src='a.jpg' width=600 height=400></amp-img>",
    b"</div>" * 50,
]


def test_mangled_real_pages_never_break_a_check(tmp_path):
    """Real pages cut, spliced and overwritten at random (fixed seed), under a rule set that
    uses every parameter: each gets a verdict, and no check fails with an internal error."""
    import random
    import shutil

    from compliance.pipeline import judge_bytes

    if not PAGES:
        needs_shared("corpus", "real-pages")
    (tmp_path / "partners").mkdir()
    shutil.copytree(RULES / "publishers", tmp_path / "publishers")
    (tmp_path / "partners" / "stress.yaml").write_text(_STRESS_PARTNER, "utf-8")
    book = load_rulebook(tmp_path)
    chance = random.Random(20261128)
    target = Target("stress", "mangled", original_url=ORIGINAL, author="Jane Doe", title="T",
                    photo_credits=("Kremlin/Released",))
    broken = []
    for round_ in range(120):
        data = bytearray(chance.choice(PAGES).read_bytes())
        for _ in range(chance.randint(1, 20)):
            start = chance.randrange(len(data) or 1)
            end = min(len(data), start + chance.randint(1, 5000))
            roll = chance.random()
            if roll < 0.4:
                del data[start:end]
            elif roll < 0.7:
                data[start:start] = chance.choice(_SPLICES)
            else:
                data[start:end] = bytes(chance.randrange(256) for _ in range(min(50, end - start)))
        result = judge_bytes(book, target, bytes(data), "https://partner.example/a/1", {}, None)
        assert result.status in {"pass", "fail", "needs-review", "error"}
        broken += [(round_, f.message) for f in result.findings if "internal error" in f.message]
        if result.error:
            broken.append((round_, result.error))
    assert broken == []
