"""Text normalisation shared by every check: what "the same wording" means.

Two layers: :func:`canon` makes typographic variants equal (Unicode NFKC, curly and straight
quotes, dashes, no-break and zero-width spaces, runs of white space); :func:`fold` adds case
folding. Both work chunk by chunk so that offsets into the joined text can be mapped back to the
element a chunk came from.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_QUOTES = "\u2018\u2019\u201a\u201b\u2032\u00b4\u0060\u2039\u203a"
_DQUOTES = "\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb\u301d\u301e"
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d\u2e3a\u2e3b"
# Zero-width characters and the soft hyphen vanish; they are invisible on screen.
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e"

_MAP: dict[str, str] = {}
_MAP.update(dict.fromkeys(_QUOTES, "'"))
_MAP.update(dict.fromkeys(_DQUOTES, '"'))
_MAP.update(dict.fromkeys(_DASHES, "-"))
_MAP.update(dict.fromkeys(_INVISIBLE, ""))
_SPECIAL = re.compile("[" + re.escape("".join(_MAP)) + "]")


def canon(text: str) -> str:
    """Typographic normalisation, case kept; runs of white space become one space."""
    if not text.isascii():
        # No-break spaces and ellipses are the usual reasons news text is not in NFKC form;
        # replacing them first (as NFKC would) spares most pages the full normalisation.
        if "\xa0" in text:
            text = text.replace("\xa0", " ")
        if "\u2026" in text:
            text = text.replace("\u2026", "...")
        if not unicodedata.is_normalized("NFKC", text):
            text = unicodedata.normalize("NFKC", text)
        # A handful of distinct characters to replace: one C-level replace each beats a
        # per-match callback on long texts.
        for char in set(_SPECIAL.findall(text)):
            text = text.replace(char, _MAP[char])
    # str.split() splits on exactly the characters that ``\s`` matches, and far faster.
    words = text.split()
    if not words:
        return " " if text else ""
    joined = " ".join(words)
    if text[0].isspace():
        joined = " " + joined
    if text[-1].isspace():
        joined += " "
    return joined


def fold(text: str) -> str:
    """:func:`canon` plus case folding: the comparison form for "normalized" matching."""
    return canon(text).casefold()


def squash(text: str) -> str:
    """Comparison form that also ignores spacing around slashes and outer brackets.

    Photo credits are written "(Kremlin/Released)", "Kremlin / Released" or "Photo: Kremlin/Released";
    all of them name the same source.
    """
    folded = fold(text).strip()
    folded = re.sub(r"\s*/\s*", "/", folded)
    return folded.strip("()[]{} .,;:")


@lru_cache(maxsize=1024)
def flexible_pattern(needle: str) -> str:
    """A regular expression for ``needle`` (already :func:`canon`) that tolerates the spacing
    that markup adds or drops: a ``<br>`` after a slash, a space before a full stop.

    Words stay words: only next to punctuation may a space appear or vanish.
    """
    parts: list[str] = []
    previous = ""
    for char in needle.strip():
        if char == " ":
            parts.append(r"\s*" if not previous.isalnum() else r"\s+")
        else:
            if parts and previous != " " and (not char.isalnum() or not previous.isalnum()):
                parts.append(r"\s?")
            parts.append(re.escape(char))
        previous = char
    return "".join(parts).replace(r"\s+\s?", r"\s*").replace(r"\s*\s?", r"\s*")


def word_count(text: str) -> int:
    return len(text.split())


def shorten(text: str, limit: int = 160) -> str:
    """A one-line snippet for reports."""
    text = canon(text).strip()
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + "…"
