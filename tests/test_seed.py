"""The seed reprint: RFE/RL's article as American Military News published it."""

from __future__ import annotations

import copy

from lxml import etree

from compliance.engine import evaluate
from compliance.model import Target
from compliance.page import Page
from compliance.rules import load_rulebook

from .conftest import FIXTURES, ORIGINAL, RULES, needs_shared

TARGET = Target("american-military-news", "seed", original_url=ORIGINAL,
                photo_credits=("(Kremlin/Released)",))


def seed_page() -> etree._Element:
    """The AMN template with the full seed text as its article body."""
    lines = [line.strip() for line in
             needs_shared("seed", "reprint-rferl-on-amn.txt").read_text("utf-8").splitlines()
             if line.strip()]
    promo, title, caption, credit, *paragraphs = lines
    root = etree.parse(str(FIXTURES / "seed" / "amn-reprint.html"), etree.HTMLParser()).getroot()
    assert promo == root.xpath("string(//div[@class='telegram-promo'])")
    root.xpath("//h1")[0].text = title
    root.xpath("//p[@class='wp-caption-text']")[0].text = caption
    body = root.xpath("//div[@class='entry-content']")[0]
    for old in body.xpath("./p | ./h3 | ./div[contains(@class,'code-block')]"):
        body.remove(old)
    # The credit line as AMN printed it (no-break spaces included), publisher name linked.
    before, name, after = credit.partition("Radio Free Europe/Radio Liberty")
    em = etree.SubElement(etree.SubElement(body, "p"), "em")
    em.text = before
    link = etree.SubElement(em, "a", href=ORIGINAL)
    link.text, link.tail = name, after
    for text in paragraphs:
        etree.SubElement(body, "h3" if len(text.split()) < 4 else "p").text = text
    return root


def judge(root: etree._Element) -> list[tuple[str, str, str]]:
    rules = load_rulebook(RULES).partner("american-military-news").rules
    page = Page.from_bytes(etree.tostring(root, encoding="utf-8"), TARGET,
                           url="https://americanmilitarynews.com/2019/06/trump-hails/")
    return [(f.rule_id, f.status, f.message) for f in evaluate(page, rules)]


def test_seed_reprint_meets_its_licence():
    assert judge(seed_page()) == [
        ("credit-line", "pass", "required wording found"),
        ("link-to-original", "pass", "followed link to the original found"),
        ("photo-credit", "pass", "photo credit found"),
    ]


def test_seed_reprint_without_its_obligations_fails_each_one():
    root = seed_page()
    stripped = copy.deepcopy(root)
    credit = stripped.xpath("//p[em[contains(., 'reprinted with permission')]]")[0]
    credit.getparent().remove(credit)
    stripped.xpath("//p[@class='wp-caption-text']")[0].text = "Trump and Putin, July 7, 2017."
    results = judge(stripped)
    assert [(rule, status) for rule, status, _ in results] == [
        ("credit-line", "fail"), ("link-to-original", "fail"), ("photo-credit", "fail")]
    assert results[1][2] == "no link to the original article on the page"
    assert results[2][2] == "the photo's caption does not carry the required credit"
