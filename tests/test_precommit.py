"""The pre-commit hook, run for real by pre-commit on a temporary git repository of drafts."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from .conftest import ROOT, RULES

ORIGINAL = "https://www.rferl.org/a/trump-putin-meet-g20-osaka/29968834.html"


def git(*args: str, cwd) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout.strip()


def test_pre_commit_hook_blocks_a_non_compliant_draft(tmp_path):
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    head = git("rev-parse", "HEAD", cwd=ROOT)
    if "compliance-check" not in git("show", f"{head}:.pre-commit-hooks.yaml", cwd=ROOT):
        pytest.skip("the hook definition is not committed yet")
    repo = tmp_path / "drafts"
    repo.mkdir()
    git("init", "-q", cwd=repo)
    shutil.copytree(RULES, repo / "licence-rules")
    seed = (ROOT / "fixtures" / "seed" / "amn-reprint.html").read_text("utf-8")
    (repo / "good.html").write_text(seed, "utf-8")
    (repo / ".pre-commit-config.yaml").write_text(textwrap.dedent(f"""
        repos:
          - repo: {ROOT}
            rev: {head}
            hooks:
              - id: compliance-check
                args: [--rules, licence-rules, --partner, american-military-news,
                       --original-url, "{ORIGINAL}", --photo-credit, "(Kremlin/Released)"]
    """), "utf-8")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache"),
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid"}
    command = [sys.executable, "-m", "pre_commit", "run", "--all-files"]
    git("add", "-A", cwd=repo)
    passing = subprocess.run(command, cwd=repo, env=env, capture_output=True, text=True,
                             timeout=600)
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert "licence compliance of HTML drafts" in passing.stdout

    (repo / "bad.html").write_text(seed.replace("and is reprinted with permission", ""), "utf-8")
    git("add", "-A", cwd=repo)
    failing = subprocess.run(command, cwd=repo, env=env, capture_output=True, text=True,
                             timeout=600)
    assert failing.returncode == 1
    assert "FAIL   american-military-news  bad.html" in failing.stdout
    assert "credit-line (attribution_text, error)" in failing.stdout
