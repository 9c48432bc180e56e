"""JUnit XML, as Jenkins, GitLab and most CI systems read it.

One ``testsuite`` per partner and one ``testcase`` per page and rule, so passing obligations
are listed too. A failing rule carries a ``failure`` with the message, and what was expected,
found and where; a page that could not be checked carries an ``error``. Written with lxml's
incremental writer: every value is escaped by the library.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import TextIO

from lxml import etree

from ..model import Finding, PageResult
from .summary import ReportContext, replayable, xml_safe

SUFFIX = ".xml"


def _cases(result: PageResult) -> list[tuple[str, str, str, list[Finding]]]:
    """(name, type, outcome, findings) per rule of the page."""
    by_rule: dict[str, list[Finding]] = defaultdict(list)
    for finding in result.findings:
        by_rule[finding.rule_id].append(finding)
    cases = []
    for rule_id, findings in by_rule.items():
        statuses = {f.status for f in findings}
        if "fail" in statuses and any(f.severity == "error" for f in findings
                                      if f.status == "fail"):
            outcome = "failure"
        elif "error" in statuses:
            outcome = "error"
        elif statuses <= {"skip"}:
            outcome = "skipped"
        else:
            outcome = "passed"
        cases.append((rule_id, findings[0].type, outcome, findings))
    if result.error and not cases:
        cases.append(("page", "fetch", "error", []))
    return cases


def _details(findings: list[Finding]) -> str:
    lines = []
    for f in findings:
        if f.status in {"pass", "skip"}:
            continue
        lines.append(f"{f.status}: {f.message}")
        for label, value in (("expected", f.expected), ("found", f.found), ("where", f.where),
                             ("line", f.line), ("fix", f.fix)):
            if value is not None:
                lines.append(f"  {label}: {value}")
    return "\n".join(lines)


def render(results: Iterable[PageResult], out: TextIO,
           context: ReportContext | None = None) -> None:
    context = context or ReportContext()
    results = replayable(results)
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for result in results:
        for _, _, outcome, _ in _cases(result):
            counts[result.target.partner][outcome] += 1
    total: Counter[str] = Counter()
    for partner_counts in counts.values():
        total.update(partner_counts)

    def attributes(c: Counter[str]) -> dict[str, str]:
        return {"tests": str(sum(c.values())), "failures": str(c["failure"]),
                "errors": str(c["error"]), "skipped": str(c["skipped"]), "time": "0"}

    buffer = _TextSink(out)
    with etree.xmlfile(buffer, encoding="utf-8") as xml:
        xml.write_declaration()
        with xml.element("testsuites", name="compliance", **attributes(total)):
            for partner in sorted(counts):
                suite = {"name": xml_safe(partner), "timestamp": context.generated_at[:19],
                         **attributes(counts[partner])}
                with xml.element("testsuite", suite):
                    for result in results:
                        if result.target.partner != partner:
                            continue
                        _write_page(xml, result)
                        buffer.flush()


def _write_page(xml: etree.xmlfile, result: PageResult) -> None:
    for rule_id, check_type, outcome, findings in _cases(result):
        # Page text can hold characters XML cannot (form feeds, escapes): lxml would refuse
        # the whole report, so each value is made XML-safe first.
        case = etree.Element("testcase",
                             classname=xml_safe(f"{result.target.partner}.{check_type}"),
                             name=xml_safe(f"{result.target.location} :: {rule_id}"), time="0")
        case.set("file", xml_safe(result.target.location))
        if outcome == "failure":
            failing = [f for f in findings if f.status == "fail"]
            node = etree.SubElement(case, "failure", message=xml_safe(failing[0].message),
                                    type=check_type)
            node.text = xml_safe(_details(findings))
        elif outcome == "error":
            message = xml_safe(result.error or next((f.message for f in findings
                                                     if f.status == "error"), "could not check"))
            node = etree.SubElement(case, "error", message=message, type=check_type)
            node.text = xml_safe(_details(findings)) or message
        elif outcome == "skipped":
            etree.SubElement(case, "skipped", message=xml_safe(findings[0].message))
        xml.write(case)


class _TextSink:
    """lxml writes bytes; the formatters write to text streams."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def write(self, data: bytes) -> None:
        self.out.write(data.decode("utf-8"))

    def flush(self) -> None:
        self.out.flush()
