"""Plain text for a terminal: one line per page, and under a failing page what to fix."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TextIO

from ..model import PageResult
from .summary import ReportContext, Tally, problems, terminal_safe

SUFFIX = ".txt"

_MARK = {"pass": "PASS ", "fail": "FAIL ", "error": "ERROR", "needs-review": "REVIEW"}


def render(results: Iterable[PageResult], out: TextIO,
           context: ReportContext | None = None) -> None:
    tally = Tally()

    def write(line: str) -> None:
        # One line per write, whatever the page put in its text: no line breaks of its own, no
        # escape sequences for the terminal.
        out.write(terminal_safe(line.replace("\n", " ")) + "\n")

    for result in results:
        tally.add(result)
        target = result.target
        write(f"{_MARK.get(result.status, result.status.upper())}  {target.partner}  "
              f"{target.location}")
        if result.error:
            write(f"    could not check: {result.error}")
        for finding in problems(result):
            level = finding.severity if finding.status == "fail" else finding.status
            write(f"  - {finding.rule_id} ({finding.type}, {level}): {finding.message}")
            for label, value in (("expected", finding.expected), ("found", finding.found)):
                if value:
                    write(f"      {label}: {value}")
            if finding.where:
                line = f" (line {finding.line})" if finding.line else ""
                write(f"      where: {finding.where}{line}")
            if finding.fix:
                write(f"      fix: {finding.fix}")
        for note in result.notes:
            write(f"    note: {note}")
        out.flush()
    summary = tally.to_dict()
    review = f", {summary['needs-review']} to review" if summary["needs-review"] else ""
    out.write(f"\n{summary['pages']} page{'s' if summary['pages'] != 1 else ''}: "
              f"{summary['pass']} pass, {summary['fail']} fail, {summary['error']} error"
              f"{review}\n")
