"""What the formatters share: totals built as results stream past, and the report context."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from ..model import PageResult

# Characters XML 1.0 cannot hold, and the control characters (escape sequences among them)
# that page text must not smuggle onto a terminal. Each becomes U+FFFD, so the reader sees
# that something was there.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def xml_safe(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def terminal_safe(text: str) -> str:
    return _CONTROL.sub("\ufffd", text)


@dataclass
class Tally:
    pages: Counter[str] = field(default_factory=Counter)
    findings: Counter[str] = field(default_factory=Counter)

    def add(self, result: PageResult) -> None:
        self.pages[result.status] += 1
        for finding in result.findings:
            self.findings[finding.status] += 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "pages": sum(self.pages.values()),
            "pass": self.pages["pass"],
            "fail": self.pages["fail"],
            "error": self.pages["error"],
            "needs-review": self.pages["needs-review"],
            "findings": dict(sorted(self.findings.items())),
        }


@dataclass(frozen=True)
class ReportContext:
    """What a report may say beyond the results: the run, and names for partner ids."""

    run: Mapping[str, Any] | None = None
    partners: Mapping[str, str] = field(default_factory=dict)
    """Partner id to display name."""
    publishers: Mapping[str, str] = field(default_factory=dict)
    """Partner id to the name of the publisher whose articles it reprints."""
    generated_at: str = field(
        default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))
    extra: Mapping[str, Any] = field(default_factory=dict)
    """More top-level report sections, such as the waivers a run did not use."""

    def partner_name(self, partner_id: str) -> str:
        return self.partners.get(partner_id, partner_id)


def report_context(book: Any, run: Mapping[str, Any] | None = None,
                   extra: Mapping[str, Any] | None = None) -> ReportContext:
    """Names for a report, from a :class:`~compliance.rules.RuleBook`."""
    return ReportContext(
        run=run, extra=dict(extra or {}),
        partners={pid: partner.name for pid, partner in book.partners.items()},
        publishers={pid: partner.publisher.name for pid, partner in book.partners.items()},
    )


def replayable(results: Iterable[PageResult]) -> Iterable[PageResult]:
    """Formatters that need two passes (totals first) get something they can read twice."""
    return list(results) if iter(results) is results else results


def problems(result: PageResult) -> list[Any]:
    """The findings a reader must act on."""
    return [f for f in result.findings if f.status in {"fail", "error", "needs-review"}]
