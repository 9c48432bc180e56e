"""One root exception; the CLI maps each subclass to an exit code and a one-line message."""

from __future__ import annotations

from collections.abc import Sequence


class ComplianceError(Exception):
    """Root of every error this tool raises on purpose."""

    exit_code = 2


class UsageError(ComplianceError):
    """The command line asks for something that cannot be done."""


class RuleError(ComplianceError):
    """One or more rule files are invalid. Carries every problem, not just the first."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        super().__init__(f"{count} problem{'s' if count != 1 else ''} in the rule files")


class ManifestError(ComplianceError):
    """One or more manifest rows are broken. Carries every problem, not just the first."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        super().__init__(f"{count} problem{'s' if count != 1 else ''} in the manifest")


class PageError(ComplianceError):
    """A single page could not be read or parsed; the run goes on without it."""

    exit_code = 3
    gone = False
    """The server said the page no longer exists (404/410)."""
    aborted = False
    """The run stopped before the page was read; it is read again on resume."""
