"""Waivers: exceptions that legal approved, each with a reason, an approver and an end date.

``rules/waivers.yaml`` lists them. A failing (or needs-review) finding that an unexpired waiver
matches is reported as ``waived``, with the waiver's reason, and does not fail its page. A
waiver past its date stops waiving and adds a warning naming it, so nothing expires silently.
A run lists the waivers that matched nothing, so stale ones get cleaned up.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import regex

from .model import Finding, Target
from .urls import normalize_url


@dataclass(frozen=True)
class Waiver:
    id: str
    """Where it is written (``rules/waivers.yaml:12``): how reports name it."""
    partner: str
    rule: str
    reason: str
    approved_by: str
    expires: date
    url: str | None = None
    url_pattern: str | None = None

    def matches(self, target: Target, rule_id: str) -> bool:
        if target.partner != self.partner or self.rule not in {"*", rule_id}:
            return False
        if self.url is not None:
            return normalize_url(target.location) == normalize_url(self.url)
        return regex.search(str(self.url_pattern), target.location, timeout=1.0) is not None

    def describe(self) -> str:
        return (f"{self.id}: {self.partner} {self.rule} on {self.url or self.url_pattern} "
                f"(approved by {self.approved_by}, until {self.expires.isoformat()})")

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "partner": self.partner, "rule": self.rule,
                "url": self.url or self.url_pattern, "reason": self.reason,
                "approved_by": self.approved_by, "expires": self.expires.isoformat()}


@cache
def schema() -> dict[str, Any]:
    text = resources.files("compliance").joinpath("schemas/waivers.schema.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def apply(findings: Iterable[Finding], target: Target, waivers: Iterable[Waiver],
          today: date | None = None) -> tuple[Finding, ...]:
    """Findings with matching waivers applied; expired ones add a warning naming them."""
    today = today or date.today()
    relevant = [w for w in waivers if w.partner == target.partner]
    if not relevant:
        return tuple(findings)
    out: list[Finding] = []
    for finding in findings:
        waiver = next((w for w in relevant if finding.status in {"fail", "needs-review"}
                       and w.matches(target, finding.rule_id)), None)
        if waiver is None:
            out.append(finding)
        elif waiver.expires >= today:
            out.append(replace(finding, status="waived", waiver=waiver.id,
                               message=f"{finding.message} [waived: {waiver.reason}; approved by "
                                       f"{waiver.approved_by} until {waiver.expires}]"))
        else:
            out.append(replace(finding, waiver=waiver.id))
            out.append(Finding(
                "fail", f"the waiver {waiver.id} for {finding.rule_id} expired on "
                        f"{waiver.expires}, so the finding counts again; renew it with legal or "
                        "fix the page", rule_id=finding.rule_id, type="waiver",
                severity="warning", waiver=waiver.id,
                fix=f"Fix the page, or ask legal to renew the waiver at {waiver.id}."))
    return tuple(out)


def unmatched(waivers: Iterable[Waiver], used: set[str]) -> list[Waiver]:
    return [w for w in waivers if w.id not in used]


def path_in(rules_root: Path) -> Path:
    return rules_root / "waivers.yaml"
