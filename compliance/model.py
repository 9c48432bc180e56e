"""The records that flow through the pipeline: targets in, findings and page results out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Status = Literal["pass", "fail", "error", "skip", "needs-review", "waived"]
Severity = Literal["error", "warning"]
PageStatus = Literal["pass", "fail", "error", "needs-review"]


@dataclass(frozen=True, slots=True)
class Finding:
    """What one rule concluded about one page (or one element of it, such as a photo).

    Checks fill in the verdict and the evidence; the engine stamps ``rule_id``, ``type`` and
    ``severity`` from the rule file so that no check can decide how much its own verdict matters.
    """

    status: Status
    message: str
    expected: str | None = None
    found: str | None = None
    where: str | None = None
    line: int | None = None
    fix: str | None = None
    rule_id: str = ""
    type: str = ""
    severity: Severity = "error"
    waiver: str | None = None
    """The waiver that excused (or, expired, no longer excuses) this finding."""

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "check": self.rule_id,
            "type": self.type,
            "status": self.status,
            "severity": self.severity,
            "message": self.message,
        }
        for key in ("expected", "found", "where", "line", "fix", "waiver"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        return data


@dataclass(frozen=True, slots=True)
class Target:
    """One page to judge, with what the manifest or command line knows about its original."""

    partner: str
    location: str
    """An http(s) URL, a file:// URL, a local path, or ``-`` for standard input."""
    original_url: str | None = None
    photo_credits: tuple[str, ...] = ()
    title: str | None = None
    author: str | None = None
    published_at: str | None = None
    expires_at: str | None = None
    origin: str | None = None
    """Where the target was declared (``manifest.csv:4``), for error messages."""


@dataclass(frozen=True, slots=True)
class PageResult:
    """Everything the reporters need to know about one judged page."""

    target: Target
    status: PageStatus
    findings: tuple[Finding, ...] = ()
    error: str | None = None
    url: str | None = None
    encoding: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    fetch: Mapping[str, Any] | None = None
    """How the page was obtained: http_status, final_url, redirects, gone, evidence."""

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "target": self.target.location,
            "partner": self.target.partner,
            "status": self.status,
            "findings": [f.to_dict() for f in self.findings],
        }
        if self.url is not None:
            data["url"] = self.url
        if self.target.original_url:
            data["original_url"] = self.target.original_url
        if self.encoding is not None:
            data["encoding"] = self.encoding
        if self.error is not None:
            data["error"] = self.error
        if self.notes:
            data["notes"] = list(self.notes)
        if self.fetch:
            data.update(self.fetch)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PageResult:
        """Rebuild a result from its JSON form (a stored report or a resumed run)."""
        fetch = {k: data[k] for k in ("http_status", "final_url", "redirects", "gone",
                                      "evidence") if k in data}
        target = Target(
            partner=data["partner"], location=data["target"],
            original_url=data.get("original_url"),
            photo_credits=tuple(data.get("photo_credits", ())),
        )
        findings = tuple(
            Finding(status=f["status"], message=f["message"], expected=f.get("expected"),
                    found=f.get("found"), where=f.get("where"), line=f.get("line"),
                    fix=f.get("fix"), rule_id=f["check"], type=f["type"],
                    severity=f["severity"], waiver=f.get("waiver"))
            for f in data.get("findings", ())
        )
        return cls(target, data["status"], findings, error=data.get("error"),
                   url=data.get("url"), encoding=data.get("encoding"),
                   notes=tuple(data.get("notes", ())), fetch=fetch or None)


def page_status(findings: tuple[Finding, ...]) -> PageStatus:
    """A page fails on any error-severity failure; it is in error if a rule could not run,
    and needs review if a rule could not decide."""
    if any(f.status == "fail" and f.severity == "error" for f in findings):
        return "fail"
    if any(f.status == "error" for f in findings):
        return "error"
    if any(f.status == "needs-review" and f.severity == "error" for f in findings):
        return "needs-review"
    return "pass"


@dataclass(frozen=True, slots=True)
class Publisher:
    id: str
    name: str
    aliases: tuple[str, ...] = ()
    home: str | None = None


@dataclass(frozen=True, slots=True)
class Rule:
    """One obligation of a partner's licence, fully resolved (extends and overrides applied)."""

    id: str
    type: str
    params: Mapping[str, Any]
    publisher: Publisher
    severity: Severity = "error"
    description: str | None = None
    source: str | None = None
    """``file:line`` where the rule (or its last override) is written."""


FAIL_ON = ("fail", "needs-review", "warning")


def exit_code(pages: Mapping[str, int], warned: bool = False, fail_on: str = "fail") -> int:
    """The command's exit code from page statuses: 1 for a violation (what counts as one is
    ``fail_on``: ``fail``, also ``needs-review``, or also ``warning``-severity failures),
    3 when nothing failed but a page could not be checked, else 0."""
    if pages.get("fail"):
        return 1
    if fail_on in {"needs-review", "warning"} and pages.get("needs-review"):
        return 1
    if fail_on == "warning" and warned:
        return 1
    if pages.get("error"):
        return 3
    return 0


def count(seen: dict[str, int], result: PageResult) -> None:
    """Add a page to the tallies :func:`exit_code` reads."""
    seen[result.status] = seen.get(result.status, 0) + 1
    if has_warning(result):
        seen["warning"] = seen.get("warning", 0) + 1


def has_warning(result: PageResult) -> bool:
    return any(f.status in {"fail", "needs-review"} and f.severity == "warning"
               for f in result.findings)
