"""A baseline: the problems a CI gate already knows about, so it fails only on new ones.

A finding is identified by partner, page (its URL or path, normalised) and rule id, as in the
run history. The baseline is any JSON report this tool wrote (``check --format json``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from .errors import UsageError
from .model import PageResult, count, page_status
from .urls import normalize_url

FAILING = {"fail", "needs-review"}


def identity(partner: str, location: str, rule_id: str) -> tuple[str, str, str]:
    return partner, normalize_url(location), rule_id


@dataclass(frozen=True)
class Baseline:
    known: frozenset[tuple[str, str, str]]

    @classmethod
    def load(cls, path: Path) -> Baseline:
        try:
            document = json.loads(path.read_text("utf-8"))
            pages = document["pages"]
            known = frozenset(
                identity(page["partner"], page["target"], finding["check"])
                for page in pages for finding in page.get("findings", ())
                if finding.get("status") in FAILING
            )
        except FileNotFoundError:
            raise UsageError(f"--baseline {path}: no such file") from None
        except (ValueError, KeyError, TypeError) as exc:
            raise UsageError(f"--baseline {path}: not a compliance JSON report ({exc}); write "
                             "one with --format json or --output json:FILE") from None
        return cls(known)

    def tally(self, results: Iterable[PageResult], seen: dict[str, int]) -> Iterator[PageResult]:
        """Pass results through unchanged, counting page statuses as if the known findings had
        passed: only new problems reach the exit code."""
        for result in results:
            new = []
            for finding in result.findings:
                if finding.status in FAILING and identity(
                        result.target.partner, result.target.location, finding.rule_id) in self.known:
                    seen["known"] = seen.get("known", 0) + 1
                    new.append(replace(finding, status="pass"))
                else:
                    if finding.status in FAILING:
                        seen["new"] = seen.get("new", 0) + 1
                    new.append(finding)
            count(seen, replace(result, findings=tuple(new), status=result.status
                                if result.error else page_status(tuple(new))))
            yield result
