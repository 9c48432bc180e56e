"""CSV for spreadsheets: one row per finding (a page that could not be checked gets one row).

UTF-8 with a byte-order mark, so Excel opens it right. Cells that a spreadsheet would take for
a formula (starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return) are prefixed with
an apostrophe, so a hostile page cannot plant a formula in the sheet.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any, TextIO

from ..model import PageResult
from .summary import ReportContext

SUFFIX = ".csv"
COLUMNS = ("partner", "target", "page_status", "check", "type", "status", "severity", "message",
           "expected", "found", "where", "line", "fix", "http_status", "sha256", "fetched_at")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def render(results: Iterable[PageResult], out: TextIO,
           context: ReportContext | None = None) -> None:
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for result in results:
        fetch = result.fetch or {}
        evidence = fetch.get("evidence") or {}
        page = {"partner": result.target.partner, "target": result.target.location,
                "page_status": result.status, "http_status": fetch.get("http_status"),
                "sha256": evidence.get("sha256"), "fetched_at": evidence.get("fetched_at")}
        rows = [{**page, "check": f.rule_id, "type": f.type, "status": f.status,
                 "severity": f.severity, "message": f.message, "expected": f.expected,
                 "found": f.found, "where": f.where, "line": f.line, "fix": f.fix}
                for f in result.findings]
        if not rows:
            rows = [{**page, "status": result.status, "message": result.error or ""}]
        for row in rows:
            writer.writerow([neutralise(row.get(column)) for column in COLUMNS])
