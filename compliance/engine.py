"""Judge pages: run each rule of the partner's licence over a parsed page.

The engine knows nothing about where bytes come from or how results are shown: it takes
targets and a reader, and yields one :class:`PageResult` per target, in order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from .checks import REGISTRY
from .errors import ComplianceError
from .model import Finding, PageResult, Rule, Target, page_status
from .page import Page
from .rules import RuleBook
from .waivers import apply as apply_waivers

Reader = Callable[[Target], Page]


def evaluate(page: Page, rules: Sequence[Rule]) -> tuple[Finding, ...]:
    """Every rule over one page. A crashing check becomes an error finding, not a dead run."""
    findings: list[Finding] = []
    for rule in rules:
        try:
            found = REGISTRY[rule.type].check(page, rule)
        except Exception as exc:  # a bug in one check must not hide the other obligations
            found = [Finding("error", f"internal error in the {rule.type} check: "
                                      f"{type(exc).__name__}: {exc}; please report it")]
        findings.extend(replace(f, rule_id=rule.id, type=rule.type, severity=rule.severity)
                        for f in found)
    return tuple(findings)


def judge_page(page: Page, rulebook: RuleBook) -> PageResult:
    """The partner's rules over a parsed page, waivers applied."""
    target = page.target
    findings = apply_waivers(evaluate(page, rulebook.partner(target.partner).rules), target,
                             rulebook.waivers)
    return PageResult(target, page_status(findings), findings, url=page.url,
                      encoding=page.encoding, notes=page.notes)


def judge(target: Target, rulebook: RuleBook, read: Reader) -> PageResult:
    try:
        page = read(target)
    except ComplianceError as exc:
        return PageResult(target, "error", error=str(exc))
    return judge_page(page, rulebook)
