from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("COMPLIANCE_SHARED", ROOT.parent / "shared"))
RULES = ROOT / "rules"
FIXTURES = ROOT / "fixtures"
ORIGINAL = "https://www.rferl.org/a/trump-putin-meet-g20-osaka/29968834.html"


def needs_shared(*parts: str) -> Path:
    """The shared data path, or skip the test saying why."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent: the shared data set (../shared next to the repository) "
                    "is needed for this test; CI provides it")
    return path


def run_cli(*args: str, stdin: bytes | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """The real command, as a separate process, so exit codes and streams are the real ones."""
    return subprocess.run(
        [sys.executable, "-m", "compliance.cli", *args], cwd=cwd, input=stdin.decode() if stdin else None,
        capture_output=True, text=True, timeout=120,
    )
