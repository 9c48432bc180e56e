from __future__ import annotations

import pytest

from compliance.urls import host_key, normalize_url

ORIGINAL = "https://www.rferl.org/a/trump-putin/29968834.html"


@pytest.mark.parametrize("variant", [
    "http://rferl.org/a/trump-putin/29968834.html",
    "https://WWW.RFERL.ORG:443/a/trump-putin/29968834.html/",
    "https://www.rferl.org/a/trump-putin/29968834.html?utm_source=x&utm_medium=y&fbclid=1#top",
    "https://www.rferl.org/a/trump-putin/29968834.html?gclid=abc&mc_cid=1",
    "https://www.rferl.org//a/trump-putin/29968834.html",
    "https://www.rferl.org/a/trump-putin/29968834.html/amp",
    "https://www.rferl.org/a/trump-putin/29968834.html?amp=1",
    "https://amp.rferl.org/a/trump-putin/29968834.html",
    "https://www-rferl-org.cdn.ampproject.org/c/s/www.rferl.org/a/trump-putin/29968834.html",
    "https://www.rferl.org/a/trump%2Dputin/29968834.html",
])
def test_same_article(variant):
    assert normalize_url(variant) == normalize_url(ORIGINAL)


@pytest.mark.parametrize("other", [
    "https://www.rferl.org/",
    "https://www.rferl.org/a/trump-putin/29968835.html",
    "https://www.rferl.org/a/trump-putin/29968834.html?id=2",
    "https://www.rferl.org:8443/a/trump-putin/29968834.html",
    "https://rferl.org.evil.example/a/trump-putin/29968834.html",
    "https://www.rferl.org/A/TRUMP-PUTIN/29968834.html",
])
def test_different_article(other):
    assert normalize_url(other) != normalize_url(ORIGINAL)


def test_host_key():
    assert host_key("https://www.RFERL.org/x") == "rferl.org"
    assert host_key("//m.rferl.org/x") == "rferl.org"
    assert host_key("/relative/path", "partner.example") == "partner.example"
    assert host_key("https://user:pw@www.rferl.org:8080/x") == "rferl.org"
