"""The check registry: one module per obligation type, keyed by the ``type`` used in rule files.

Each module documents itself in its docstring, declares ``PARAMS`` (the JSON Schema of its
parameters) and exports ``check(page, rule) -> list[Finding]``, a pure function.
"""

from __future__ import annotations

from types import ModuleType

from . import attribution_text, link_back, photo_credit

REGISTRY: dict[str, ModuleType] = {
    "attribution_text": attribution_text,
    "link_back": link_back,
    "photo_credit": photo_credit,
}
