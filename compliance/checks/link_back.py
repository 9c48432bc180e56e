"""link_back: a visible, followed link to the original article.

Parameters:

- ``target``: ``original`` (default: the manifest's ``original_url``), ``publisher_home``
  (the publisher's home page), ``publisher_site`` (any page on the publisher's site) or
  ``pattern`` (any URL matching ``url_pattern``, a regular expression).
- ``followed``: default true; the link must not carry ``rel`` ``nofollow``, ``ugc`` or
  ``sponsored``, and the page must not say ``nofollow`` in its robots meta tag or
  X-Robots-Tag header.
- ``anchor_text``: optional wording the link's visible text must contain (placeholders as in
  attribution_text, matched normalised).
- ``scope``: ``page`` (default), ``article``, ``body`` or a CSS selector.

URLs are compared normalised: scheme, host case, ``www.``, default port, trailing slash,
fragment, tracking parameters (``utm_*``, ``fbclid``, ``gclid``...) and AMP variants (``/amp``,
``?amp=1``, ``amp.`` hosts, Google AMP cache URLs) do not matter. Relative links resolve against
the page URL or its ``<base href>``. A link readers cannot see (hidden, or with no text and no
image to click) never counts; a link to the publisher's home page or another article is not a
link to the original.

Passing example (original ``https://www.rferl.org/a/trump-putin/29969150.html``)::

    <p>Originally published by <a href="http://rferl.org/a/trump-putin/29969150.html/?utm_source=x">
    RFE/RL</a>.</p>

Failing example (the link is there but search engines are told not to follow it)::

    <a rel="nofollow" href="https://www.rferl.org/a/trump-putin/29969150.html">RFE/RL</a>
"""

from __future__ import annotations

from typing import Any

import regex

from ..model import Finding, Rule
from ..page import Element, Page
from ..text import canon, flexible_pattern, shorten
from ..urls import host_key, normalize_url
from .common import REGEX_TIMEOUT, expand, missing_context

PARAMS: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "target": {"enum": ["original", "publisher_home", "publisher_site", "pattern"],
                   "default": "original"},
        "url_pattern": {"type": "string", "minLength": 1, "format": "regex"},
        "followed": {"type": "boolean", "default": True},
        "anchor_text": {"type": "string", "minLength": 1, "format": "template"},
        "scope": {"type": "string", "minLength": 1, "format": "css-selector", "default": "page"},
    },
    "if": {"properties": {"target": {"const": "pattern"}}, "required": ["target"]},
    "then": {"required": ["url_pattern"]},
}

_UNFOLLOWED = {"nofollow", "ugc", "sponsored"}
_URL_NOISE = str.maketrans("", "", "\t\n\r")


def _link_text(page: Page, link: Element) -> str:
    text = page.view(link).text.strip()
    if not text and any(page.is_visible(img) for img in link.iter("img", "picture", "svg")):
        return "[image]"
    return text


def check(page: Page, rule: Rule) -> list[Finding]:
    params = rule.params
    target = params.get("target", "original")
    want: str | None = None
    pattern = params.get("url_pattern")
    if target == "original":
        if not page.target.original_url:
            return [Finding("error", missing_context(["original_url"]))]
        want = page.target.original_url
    elif target in {"publisher_home", "publisher_site"}:
        if not rule.publisher.home:
            return [Finding("error", f"publisher {rule.publisher.id!r} has no 'home' URL in its "
                                     "rule file; add one")]
        want = rule.publisher.home
    expected = want or f"a URL matching {pattern}"
    fix = f"Add a visible link to {expected}"
    if params.get("followed", True):
        fix += " without rel=\"nofollow\", \"ugc\" or \"sponsored\""
    fix += "."
    anchor_readings: list[str] = []
    if params.get("anchor_text"):
        anchor_readings, missing = expand(params["anchor_text"], page, rule)
        if missing:
            return [Finding("error", missing_context(missing))]
        fix = fix[:-1] + f', with the link text "{anchor_readings[0]}".'
    want_key = normalize_url(want) if want else None

    want_host = host_key(want) if want else None
    page_host = host_key(page.base_url or "")

    def matches(url: str) -> bool:
        if target == "pattern":
            return regex.search(str(pattern), url, timeout=REGEX_TIMEOUT) is not None
        if target == "publisher_site":
            return host_key(url) == want_host
        return normalize_url(url) == want_key

    # A link can only lead to the wanted site if that site's name is in its href (relative
    # links lead to the page's own site). Most links on a page fail this substring test,
    # which is far cheaper than parsing them.
    needle = want_host if want_host and want_host != page_host and want_host.isascii() and \
        "xn--" not in want_host else None
    page_nofollow = bool({"nofollow", "none"} & page.robots)
    near: list[tuple[int, Element, str, str]] = []  # (rank, link, url, why it does not count)
    scope_name = params.get("scope", "page")
    try:
        for scope in page.scope_element(scope_name):
            for link in page.links(scope):
                href = link.get("href")
                if not href:
                    continue
                if "\n" in href or "\t" in href or "\r" in href:
                    # Browsers drop tabs and line breaks anywhere in a URL (a wrapped href).
                    href = href.translate(_URL_NOISE)
                lowered = href.lower()
                if needle is not None and needle not in lowered and lowered.isascii():
                    continue
                if lowered.lstrip().startswith(("javascript:", "mailto:", "#")):
                    continue
                host = host_key(href, page_host)
                if want_host is not None and host != want_host and \
                        not host.endswith(".cdn.ampproject.org"):
                    continue  # the common case: a link to some other site, decided cheaply
                url = page.resolve(href)
                if not matches(url):
                    if want_host is not None:
                        home = rule.publisher.home and normalize_url(url) == normalize_url(
                            rule.publisher.home)
                        why = ("links to the publisher's home page, not the original article"
                               if home else "links to another page of the publisher, not the "
                                            "original article")
                        near.append((4, link, url, why))
                    continue
                reason = page.hidden_reason(link)
                if reason:
                    near.append((1, link, url, f"the link is hidden from readers: {reason}"))
                    continue
                text = _link_text(page, link)
                if link.tag == "a" and not text:
                    near.append((1, link, url, "the link has no visible text or image, so "
                                               "readers cannot see or click it"))
                    continue
                if params.get("followed", True):
                    rels = set((link.get("rel") or "").lower().split()) & _UNFOLLOWED
                    if rels:
                        near.append((2, link, url, f'the link has rel="{" ".join(sorted(rels))}"'
                                                   ", so it is not followed"))
                        continue
                    if page_nofollow:
                        near.append((2, link, url, "the page's robots directives say nofollow, "
                                                   "so no link on it is followed"))
                        continue
                if anchor_readings and not any(
                        regex.search(flexible_pattern(canon(r)), text, regex.IGNORECASE)
                        for r in anchor_readings):
                    near.append((3, link, url, f'the link text is "{shorten(text, 80)}", not '
                                               f'"{anchor_readings[0]}"'))
                    continue
                return [Finding("pass", "followed link to the original found"
                                if target == "original" else "required link found",
                                expected=expected, found=url, where=page.where(link),
                                line=link.sourceline)]
    except TimeoutError:
        return [Finding("error", f"url_pattern took longer than {REGEX_TIMEOUT:.0f} s; simplify "
                                 "the regular expression in the rule", expected=expected)]
    wanted = "the original article" if target == "original" else expected
    if near:
        rank, link, url, why = min(near, key=lambda item: item[0])
        specific = {
            1: f"Make the link to {expected} visible, with text or an image readers can click.",
            2: f'Remove rel="nofollow", "ugc" and "sponsored" from the link to {expected}'
               + (" and the nofollow robots directive from the page." if page_nofollow else "."),
            3: fix,
        }.get(rank, fix)
        return [Finding("fail", f"no valid link to {wanted}: {why}", expected=expected, found=url,
                        where=page.where(link), line=link.sourceline, fix=specific)]
    return [Finding("fail", f"no link to {wanted} on the page", expected=expected, fix=fix)]


def describe(rule: Rule) -> str:
    params = rule.params
    target = {"original": "the original article (the manifest's original_url)",
              "publisher_home": f"{rule.publisher.name}'s home page ({rule.publisher.home})",
              "publisher_site": f"a page on {rule.publisher.name}'s site ({rule.publisher.home})",
              "pattern": f"a URL matching {params.get('url_pattern')}"}[
        params.get("target", "original")]
    text = f"The page must carry a visible link to {target}"
    if params.get("followed", True):
        text += ' that search engines follow (no rel="nofollow", "ugc" or "sponsored")'
    if params.get("anchor_text"):
        text += f', with the link text "{params["anchor_text"]}"'
    return text + "."
