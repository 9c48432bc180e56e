"""GitHub Actions workflow commands: an annotation per problem, on the draft's source line.

    ::error file=drafts/story.html,line=42,title=credit-line::the required wording is ...

Values are encoded as the workflow-command syntax requires (``%``, CR, LF, and in properties
``:`` and ``,``), so page text cannot end an annotation or start a command of its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TextIO

from ..model import PageResult
from .summary import ReportContext, problems

SUFFIX = ".txt"


def _data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(value: str) -> str:
    return _data(value).replace(":", "%3A").replace(",", "%2C")


def render(results: Iterable[PageResult], out: TextIO,
           context: ReportContext | None = None) -> None:
    for result in results:
        path = _property(result.target.location)
        if result.error:
            out.write(f"::error file={path},title=could not check::{_data(result.error)}\n")
        for finding in problems(result):
            level = "warning" if finding.severity == "warning" else "error"
            props = [f"file={path}"]
            if finding.line:
                props.append(f"line={finding.line}")
            props.append(f"title={_property(f'{finding.rule_id} ({finding.type})')}")
            message = finding.message + (f" Fix: {finding.fix}" if finding.fix else "")
            out.write(f"::{level} {','.join(props)}::{_data(message)}\n")
