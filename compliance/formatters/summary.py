"""Totals shared by the formatters, built as results stream past."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ..model import PageResult


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
            "findings": dict(sorted(self.findings.items())),
        }
