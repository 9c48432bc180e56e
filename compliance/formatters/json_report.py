"""JSON: one document, ``{"tool", "generated_at", "pages": [...], "summary": {...}}``.

It follows ``compliance/schemas/report.schema.json``. Pages are written as they are judged, so
memory does not grow with the number of pages.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, TextIO

from .. import __version__
from ..model import PageResult
from .summary import ReportContext, Tally

SUFFIX = ".json"


def render(results: Iterable[PageResult], out: TextIO,
           context: ReportContext | None = None) -> None:
    context = context or ReportContext()
    tally = Tally()
    head: dict[str, Any] = {"tool": {"name": "compliance", "version": __version__},
                            "generated_at": context.generated_at}
    if context.run:
        head["run"] = dict(context.run)
    head.update(context.extra)
    out.write(json.dumps(head, ensure_ascii=False)[:-1] + ', "pages": [')
    for index, result in enumerate(results):
        tally.add(result)
        out.write(",\n  " if index else "\n  ")
        out.write(json.dumps(result.to_dict(), ensure_ascii=False))
        out.flush()
    out.write('\n], "summary": ' + json.dumps(tally.to_dict()) + "}\n")
