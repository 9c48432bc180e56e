"""Markdown: a summary for a partner's editors. What to fix, page by page, in plain words.

Failing pages are listed with each missing obligation, the exact wording or link to add and
where; pages that pass are counted, not listed. With several partners in the results, each
gets its own section (``compliance run`` writes one file per partner).
"""

from __future__ import annotations

import html
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from typing import TextIO

from ..model import PageResult
from .summary import ReportContext, problems, replayable, terminal_safe

SUFFIX = ".md"
# Markdown's backslash escapes (CommonMark, "Backslash escapes") for every character that
# can start inline markup. Block markers (#, -, +, 1.) only count at the start of a line, and
# page text never starts one here.
_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_{}\[\]!|~])")


def text(value: object) -> str:
    """Page text made inert in Markdown: HTML escaped by the library, then every Markdown
    punctuation character backslash-escaped, and kept on one line."""
    escaped = html.escape(terminal_safe(" ".join(str(value).split())), quote=False)
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", escaped)


def code(value: object) -> str:
    """An inline code span that holds any text (CommonMark: a longer backtick fence)."""
    content = terminal_safe(" ".join(str(value).split()))
    fence = "`" * (max((len(run) for run in re.findall(r"`+", content)), default=0) + 1)
    return f"{fence} {content} {fence}" if "`" in content else f"`{content}`"


def render(results: Iterable[PageResult], out: TextIO,
           context: ReportContext | None = None) -> None:
    context = context or ReportContext()
    results = replayable(results)
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for result in results:
        counts[result.target.partner][result.status] += 1
    for number, partner in enumerate(sorted(counts)):
        if number:
            out.write("\n---\n\n")
        _partner(out, partner, results, counts[partner], context)


def _partner(out: TextIO, partner: str, everything: Iterable[PageResult], counts: Counter[str],
             context: ReportContext) -> None:
    """One partner's section; reads the results again rather than keeping them."""

    def results() -> Iterator[PageResult]:
        return (r for r in everything if r.target.partner == partner)

    name = context.partner_name(partner)
    publisher = context.publishers.get(partner)
    out.write(f"# Licence compliance: {text(name)}\n\n")
    whose = f" of {text(publisher)} articles" if publisher else ""
    when = f" on {context.generated_at[:10]}" if context.generated_at else ""
    total = sum(counts.values())
    out.write(f"We checked {total} reprint{'s' if total != 1 else ''}{whose}{when}: "
              f"{counts['pass']} meet the licence, {counts['fail']} need changes"
              + (f", and {counts['error']} could not be checked" if counts["error"] else "")
              + ".\n")
    if counts["fail"]:
        out.write("\n## Pages to fix\n")
        for result in (r for r in results() if r.status == "fail"):
            out.write(f"\n### {text(result.target.location)}\n\n")
            for finding in problems(result):
                level = "" if finding.severity == "error" else " (recommended)"
                out.write(f"- **{text(finding.rule_id)}**{level}: {text(finding.message)}.\n")
                if finding.fix:
                    out.write(f"  - What to do: {text(finding.fix)}\n")
                if finding.found:
                    out.write(f"  - What we found: \u201c{text(finding.found)}\u201d\n")
                if finding.where:
                    out.write(f"  - Where: {code(finding.where)}"
                              + (f" (line {finding.line})" if finding.line else "") + "\n")
    if counts["error"]:
        out.write("\n## Pages we could not check\n\n")
        for result in (r for r in results() if r.status == "error"):
            reason = result.error or "; ".join(f.message for f in problems(result))
            out.write(f"- {text(result.target.location)}: {text(reason)}\n")
    if counts["needs-review"]:
        out.write("\n## Pages to review\n\nWe could not decide these; someone will look at "
                  "them:\n\n")
        for result in (r for r in results() if r.status == "needs-review"):
            out.write(f"- {text(result.target.location)}\n")
    if not counts["fail"] and not counts["error"] and not counts["needs-review"]:
        out.write("\nEverything is in order: thank you.\n")
