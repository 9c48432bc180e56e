"""Helpers shared by the check modules: placeholders, scopes and finding builders."""

from __future__ import annotations

import itertools
import string
from collections.abc import Callable
from functools import lru_cache

from ..model import Rule
from ..page import Page

PLACEHOLDERS = ("publisher", "original_url", "title", "author")

# Partner-supplied patterns run with a time limit so a catastrophic pattern cannot stall a run.
REGEX_TIMEOUT = 2.0


@lru_cache(maxsize=256)
def template_fields(template: str) -> tuple[str, ...]:
    """The placeholder names in ``template``; ValueError for anything but known plain names.
    Remembered: every page asks again for the same few templates of its rules."""
    names: list[str] = []
    for _, name, spec, conversion in string.Formatter().parse(template):
        if name is None:
            continue
        if name not in PLACEHOLDERS or spec or conversion:
            raise ValueError(
                f"unknown placeholder {{{name}}}; known: "
                + ", ".join(f"{{{p}}}" for p in PLACEHOLDERS)
                + " (write {{ and }} for literal braces)"
            )
        names.append(name)
    return tuple(names)


def placeholder_values(page: Page, rule: Rule) -> dict[str, list[str]]:
    target = page.target
    publisher = rule.publisher
    values: dict[str, list[str]] = {
        "publisher": [publisher.name, *publisher.aliases],
        "original_url": [target.original_url] if target.original_url else [],
        "title": [target.title] if target.title else [],
        "author": [target.author] if target.author else [],
    }
    return values


def expand(template: str, page: Page, rule: Rule,
           escape: Callable[[str], str] = str) -> tuple[list[str], list[str]]:
    """Every reading of ``template`` (one per publisher alias), and the placeholders without a value.

    ``{{`` and ``}}`` stand for literal braces.
    """
    names = template_fields(template)
    values = placeholder_values(page, rule)
    missing = [name for name in dict.fromkeys(names) if not values[name]]
    if missing:
        return [], missing
    used = list(dict.fromkeys(names))
    readings: list[str] = []
    for combo in itertools.product(*(values[name] for name in used)):
        mapping = {name: escape(value) for name, value in zip(used, combo, strict=True)}
        readings.append(template.format_map(mapping))
    return list(dict.fromkeys(readings)), []


def missing_context(missing: list[str]) -> str:
    columns = ", ".join(f"'{name}'" for name in missing)
    options = ", ".join(f"--{name.replace('_', '-')}" for name in missing)
    return (f"the rule needs {columns} for this page but none was given; add the "
            f"{'column' if len(missing) == 1 else 'columns'} {columns} to the manifest row, "
            f"or pass {options} on the command line")
