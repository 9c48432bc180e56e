"""attribution_text: the licence's credit wording is on the page, where readers can see it.

Parameters:

- ``text`` (required): the wording. Placeholders: ``{publisher}`` (the publisher's name or any
  of its aliases), ``{original_url}``, ``{title}``, ``{author}`` (from the manifest row).
  Write ``{{`` and ``}}`` for literal braces. In ``regex`` mode this is a regular expression and
  placeholder values are inserted escaped.
- ``match``: ``normalized`` (default) ignores case, Unicode forms, curly vs straight quotes,
  dashes, no-break and zero-width spaces, and white space, and finds the wording even when it
  is split across inline elements (``<a>``, ``<em>``, ``<strong>``, ``<br>``).
  ``fuzzy`` accepts text whose similarity is at least ``threshold`` (0-100, default 90);
  text at least ``review_threshold`` similar (default 75) but below ``threshold`` is reported
  ``needs-review``, with what was found, for a person to decide.
  ``regex`` searches the normalised text with a pattern (time-limited).
- ``case_sensitive``: default false.
- ``placement``: ``anywhere`` (default), ``start`` or ``end`` of the article body; the wording
  may stand at most ``within_words`` (default 60) words of article text from that end.
- ``scope``: ``article`` (default: the article with its headline, photos and credits),
  ``body`` (the article text only), ``page`` (the whole visible page) or a CSS selector.

Text a reader cannot see never counts: comments, ``<script>``, ``<style>``, ``<template>``,
``<noscript>``, meta tags, attributes such as ``alt`` or ``title``, and elements that are
``hidden``, ``display:none``, ``visibility:hidden``, off-screen or in a screen-reader-only class.

Passing example (rule ``text: "This article was originally published by {publisher} and is
reprinted with permission."``, publisher Radio Free Europe/Radio Liberty)::

    <p><em>This article was originally published by <a href="https://www.rferl.org/a/x.html">
    Radio Free Europe/Radio Liberty</a> and is reprinted with permission.</em></p>

Failing example (the wording is there, but only in a comment and in an ``alt`` attribute)::

    <!-- This article was originally published by Radio Free Europe/Radio Liberty ... -->
    <img alt="This article was originally published by Radio Free Europe/Radio Liberty ...">
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import regex
from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

from ..model import Finding, Rule
from ..page import Page, TextView
from ..text import canon, flexible_pattern, fold, shorten, word_count
from .common import REGEX_TIMEOUT, expand, missing_context

PARAMS: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["text"],
    "properties": {
        "text": {"type": "string", "minLength": 1, "format": "template"},
        "match": {"enum": ["normalized", "fuzzy", "regex"], "default": "normalized"},
        "threshold": {"type": "number", "minimum": 0, "maximum": 100, "default": 90},
        "review_threshold": {"type": "number", "minimum": 0, "maximum": 100, "default": 75},
        "case_sensitive": {"type": "boolean", "default": False},
        "placement": {"enum": ["anywhere", "start", "end"], "default": "anywhere"},
        "within_words": {"type": "integer", "minimum": 0, "default": 60},
        "scope": {"type": "string", "minLength": 1, "format": "css-selector",
                  "default": "article"},
    },
}

_WHERE_WORDS = {"start": "at the start of the article", "end": "at the end of the article",
                "anywhere": "in the article"}


def _fix(wording: str, placement: str) -> str:
    return f'Add "{wording}" {_WHERE_WORDS.get(placement, "in the article")}, as visible text.'


def _flags(params: Any) -> int:
    return int(regex.V1 if params.get("case_sensitive") else regex.V1 | regex.IGNORECASE)


def _search(view: TextView, readings: list[str], params: Any) -> tuple[int, int, float] | None:
    """Offsets of the best match in ``view`` and its score, or None."""
    mode = params.get("match", "normalized")
    if mode == "fuzzy":
        threshold = min(float(params.get("threshold", 90)),
                        float(params.get("review_threshold", 75)))
        haystack = view.text if params.get("case_sensitive") else view.text.lower()
        best: tuple[int, int, float] | None = None
        for reading in readings:
            needle = canon(reading).strip()
            if not params.get("case_sensitive"):
                needle = needle.lower()
            found = fuzz.partial_ratio_alignment(needle, haystack, score_cutoff=threshold)
            if found is not None and (best is None or found.score > best[2]):
                best = (found.dest_start, found.dest_end, found.score)
        return best
    for reading in readings:
        if mode != "regex" and not all(word in view.folded for word in _words_of(reading)):
            continue  # a word of the wording is missing, so the slower pattern cannot match
        pattern = reading if mode == "regex" else flexible_pattern(canon(reading))
        match = regex.search(pattern, view.text, _flags(params), timeout=REGEX_TIMEOUT)
        if match is not None:
            return match.start(), match.end(), 100.0
    return None


def _placement_problem(page: Page, scope_view: TextView, start: int, end: int,
                       params: Any) -> str | None:
    placement = params.get("placement", "anywhere")
    if placement == "anywhere":
        return None
    limit = int(params.get("within_words", 60))
    body_text = page.view(page.body_content).text
    body_start = scope_view.text.find(body_text) if body_text else -1
    if body_start < 0:
        return None  # the article text is not inside the scope: placement cannot apply
    body_end = body_start + len(body_text)
    if placement == "start":
        words = word_count(scope_view.text[body_start:start]) if start > body_start else 0
        if words > limit:
            return (f"found after {words} words of the article text; it must come at the start "
                    f"(within {limit} words)")
    else:
        words = word_count(scope_view.text[end:body_end]) if end < body_end else 0
        if words > limit:
            return (f"found with {words} words of the article text after it; it must come at "
                    f"the end (within {limit} words)")
    return None


def check(page: Page, rule: Rule) -> list[Finding]:
    params = rule.params
    mode = params.get("match", "normalized")
    placement = params.get("placement", "anywhere")
    escape = regex.escape if mode == "regex" else str
    readings, missing = expand(params["text"], page, rule, escape=escape)
    if missing:
        return [Finding("error", missing_context(missing))]
    expected = readings[0] if mode != "regex" else params["text"]
    fix = _fix(expected, placement)
    scope_name = params.get("scope", "article")
    scopes = page.scope_element(scope_name)
    if not scopes:
        return [Finding("fail", f"the scope {scope_name!r} matches nothing on this page, so the "
                                "required wording cannot be there", expected=expected, fix=fix)]
    try:
        for scope in scopes:
            view = page.view(scope)
            hit = _search(view, readings, params)
            if hit is None:
                continue
            start, end, score = hit
            owner = view.element_spanning(start, end)
            found = shorten(view.text[start:end], 300)
            where = page.where(owner) if owner is not None else None
            line = owner.sourceline if owner is not None else None
            problem = _placement_problem(page, view, start, end, params)
            if problem:
                move = (f"Move the credit {_WHERE_WORDS[placement]}"
                        f" (within {params.get('within_words', 60)} words).")
                return [Finding("fail", f"the required wording is {problem}", expected=expected,
                                found=found, where=where, line=line, fix=move)]
            threshold = float(params.get("threshold", 90))
            if score < threshold:
                return [Finding("needs-review", f"text {score:.0f}% similar to the required "
                                                f"wording, below the {threshold:.0f}% needed: a "
                                                "person should decide whether it meets the licence",
                                expected=expected, found=found, where=where, line=line, fix=fix)]
            similarity = "" if score >= 100 else f" ({score:.0f}% similar)"
            return [Finding("pass", f"required wording found{similarity}", expected=expected,
                            found=found, where=where, line=line)]
        return [_explain_absence(page, scopes, readings, params, expected, fix)]
    except TimeoutError:
        return [Finding("error", f"the pattern took longer than {REGEX_TIMEOUT:.0f} s on this "
                                 "page; simplify the regular expression in the rule",
                        expected=expected)]


@lru_cache(maxsize=512)
def _words_of(reading: str) -> tuple[str, ...]:
    """The words of a wording, case-folded: each must appear whole in a matching text."""
    return tuple(regex.findall(r"\w+", fold(reading)))


@lru_cache(maxsize=512)
def _words(reading: str) -> tuple[bytes, ...]:
    # Longest first: long words are the rare ones, so a page without the wording is told
    # apart after one or two scans of its bytes.
    words = set(regex.findall(r"[a-z0-9]{4,}", fold(reading)))
    return tuple(w.encode() for w in sorted(words, key=lambda w: (-len(w), w)))


def _explain_absence(page: Page, scopes: list[Any], readings: list[str], params: Any,
                     expected: str, fix: str) -> Finding:
    """Why the wording is missing: hidden, outside the scope, or what the closest text is."""
    # Building views of the whole page is costly; skip it when the page source does not even
    # contain the wording's words (the usual case for a page that simply lacks the credit).
    present: dict[bytes, bool] = {}  # the readings share most words: scan for each once

    def in_source(word: bytes) -> bool:
        found = present.get(word)
        if found is None:
            found = present[word] = word in page.source_lower
        return found

    mentioned = params.get("match") == "regex" or any(
        all(in_source(word) for word in _words(reading)) for reading in readings
    )
    if not mentioned:
        return _closest(page, scopes, readings, expected, fix)
    if params.get("scope", "article") != "page":
        view = page.view(page.body)
        outside = _search(view, readings, params)
        if outside is not None:
            owner = view.element_spanning(outside[0], outside[1])
            return Finding("fail", f"the required wording is on the page but outside the "
                                   f"{params.get('scope', 'article')} (scope)", expected=expected,
                           found=shorten(view.text[outside[0]:outside[1]], 300),
                           where=page.where(owner) if owner is not None else None,
                           line=owner.sourceline if owner is not None else None, fix=fix)
    exact = {**params, "match": "normalized"} if params.get("match") != "regex" else params
    everything = page.all_text_view(page.root)
    hit = _search(everything, readings, exact)
    if hit is not None:
        owner = everything.element_spanning(hit[0], hit[1])
        reason = page.hidden_reason(owner) if owner is not None else None
        reason = reason or "only in an attribute (alt, title, meta content) or an HTML comment"
        return Finding("fail", "the required wording is in the page source but readers cannot "
                               f"see it: {reason}",
                       expected=expected, found=shorten(everything.text[hit[0]:hit[1]], 300),
                       where=page.where(owner) if owner is not None else None,
                       line=owner.sourceline if owner is not None else None,
                       fix=f'Make "{expected}" visible '
                           f'{_WHERE_WORDS.get(params.get("placement", "anywhere"), "in the article")}'
                           ": remove what hides it, or add it as plain text.")
    if params.get("match") == "regex":
        return Finding("fail", "no text matches the required pattern", expected=expected, fix=fix)
    return _closest(page, scopes, readings, expected, fix)


def _closest(page: Page, scopes: list[Any], readings: list[str], expected: str,
             fix: str) -> Finding:
    best: tuple[float, int, int, str, TextView] | None = None
    for scope in scopes:
        view = page.view(scope)
        haystack = view.text.lower()
        for reading in readings:
            needle = canon(reading).strip().lower()
            # The cut-off lets rapidfuzz skip windows that cannot beat what is known.
            cutoff = 50.0 if best is None else max(50.0, best[0])
            found = fuzz.partial_ratio_alignment(needle, haystack, score_cutoff=cutoff)
            if found is not None and (best is None or found.score > best[0]):
                best = (found.score, found.dest_start, found.dest_end, needle, view)
    if best is None or best[0] < 50:
        return Finding("fail", "the required wording is not on the page, and no text comes "
                               "close to it", expected=expected, fix=fix)
    score, start, end, needle, view = best
    text = view.text[start:end]
    distance = Levenshtein.distance(needle, text.lower())
    owner = view.element_at(start)
    return Finding(
        "fail",
        f"the required wording is not on the page; the closest text is {score:.0f}% similar "
        f"({distance} character{'s' if distance != 1 else ''} differ)",
        expected=expected, found=shorten(text, 300),
        where=page.where(owner) if owner is not None else None,
        line=owner.sourceline if owner is not None else None, fix=fix,
    )


def describe(rule: Rule) -> str:
    params = rule.params
    how = {"normalized": "word for word (ignoring case, quotes, dashes and spacing)",
           "fuzzy": f"at least {params.get('threshold', 90)}% similar",
           "regex": "matching the regular expression"}[params.get("match", "normalized")]
    where = _WHERE_WORDS[params.get("placement", "anywhere")]
    if params.get("placement", "anywhere") != "anywhere":
        where += f" (within {params.get('within_words', 60)} words)"
    text = params["text"].replace("{publisher}", rule.publisher.name)
    return f'The text "{text}" must appear {where}, {how}, visible to readers.'
