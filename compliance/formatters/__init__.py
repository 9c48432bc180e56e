"""Report formatters: each module renders a stream of page results; none sees the engine.

Each module exports ``render(results, out, context=None)``: it consumes an iterable of
:class:`~compliance.model.PageResult` and writes to a text stream, and ``SUFFIX``, the file
ending of what it writes. Formatters that print totals first read the results twice.
"""

from __future__ import annotations

from types import ModuleType

from . import csv_report, github, html_report, json_report, junit, markdown, text

FORMATTERS: dict[str, ModuleType] = {
    "text": text,
    "json": json_report,
    "junit": junit,
    "html": html_report,
    "csv": csv_report,
    "markdown": markdown,
    "github": github,
}
