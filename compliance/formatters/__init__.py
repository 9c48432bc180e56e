"""Report formatters: each module renders a stream of page results; none sees the engine.

Each module exports ``render(results, out)``: it consumes an iterable of
:class:`~compliance.model.PageResult` and writes to a text stream as results arrive.
"""

from __future__ import annotations

from types import ModuleType

from . import json_report, text

FORMATTERS: dict[str, ModuleType] = {
    "text": text,
    "json": json_report,
}
