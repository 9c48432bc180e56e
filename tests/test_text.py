from __future__ import annotations

import re

from compliance.text import canon, flexible_pattern, fold, squash


def test_canon_makes_typographic_variants_equal():
    assert canon("\u201cDon\u2019t\u201d \u2014 it\u00a0is\u200b ok\n\t x \ufb01") == \
        "\"Don't\" - it is ok x fi"
    assert fold("STRASSE Stra\u00dfe") == "strasse strasse"


def test_squash_ignores_brackets_and_slash_spacing():
    assert squash("(Kremlin / Released)") == squash("Kremlin/Released") == "kremlin/released"


def test_flexible_pattern_tolerates_markup_spacing_but_keeps_words_apart():
    pattern = flexible_pattern("by Radio Free Europe/Radio Liberty.")
    assert re.search(pattern, "by Radio Free Europe/ Radio Liberty .")
    assert re.search(pattern, "by Radio  Free Europe / Radio Liberty.")
    assert not re.search(pattern, "byRadio Free Europe/Radio Liberty.")
    assert not re.search(pattern, "by Radio FreeEurope/Radio Liberty.")
