"""Plain text for a terminal: one line per page, and under a failing page what to fix."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TextIO

from ..model import PageResult
from .summary import ReportContext, Tally, problems

SUFFIX = ".txt"

_MARK = {"pass": "PASS ", "fail": "FAIL ", "error": "ERROR", "needs-review": "REVIEW"}


def render(results: Iterable[PageResult], out: TextIO,
           context: ReportContext | None = None) -> None:
    tally = Tally()
    for result in results:
        tally.add(result)
        target = result.target
        out.write(f"{_MARK.get(result.status, result.status.upper())}  {target.partner}  "
                  f"{target.location}\n")
        if result.error:
            out.write(f"    could not check: {result.error}\n")
        for finding in problems(result):
            level = finding.severity if finding.status == "fail" else finding.status
            out.write(f"  - {finding.rule_id} ({finding.type}, {level}): {finding.message}\n")
            for label, value in (("expected", finding.expected), ("found", finding.found)):
                if value:
                    out.write(f"      {label}: {value}\n")
            if finding.where:
                line = f" (line {finding.line})" if finding.line else ""
                out.write(f"      where: {finding.where}{line}\n")
            if finding.fix:
                out.write(f"      fix: {finding.fix}\n")
        for note in result.notes:
            out.write(f"    note: {note}\n")
        out.flush()
    summary = tally.to_dict()
    review = f", {summary['needs-review']} to review" if summary["needs-review"] else ""
    out.write(f"\n{summary['pages']} page{'s' if summary['pages'] != 1 else ''}: "
              f"{summary['pass']} pass, {summary['fail']} fail, {summary['error']} error"
              f"{review}\n")
