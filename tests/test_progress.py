from __future__ import annotations

import io

from compliance.model import PageResult, Target
from compliance.progress import Progress


def results(statuses):
    return [PageResult(Target("p", f"page-{i}"), status) for i, status in enumerate(statuses)]


def test_terminal_gets_a_bar_with_counts():
    out, logged = io.StringIO(), []
    progress = Progress(3, out, logged.append, tty=True)
    for result in results(["pass", "fail", "error"]):
        progress.update(result)
    progress.close()
    text = out.getvalue()
    assert text.startswith("\r[##########....................] 1/3 pages, 1 pass, 0 fail, 0 error")
    assert "\r[##############################] 3/3 pages, 1 pass, 1 fail, 1 error" in text
    assert text.splitlines()[-1].startswith("compliance: 3/3 pages, 1 pass, 1 fail, 1 error, ")


def test_elsewhere_plain_lines_and_the_log_keep_pace():
    out, logged = io.StringIO(), []
    progress = Progress(2, out, logged.append, tty=False, every=0.0)
    for result in results(["pass", "pass"]):
        progress.update(result)
    lines = out.getvalue().splitlines()
    assert [line.split(",")[0] for line in lines] == ["compliance: 1/2 pages", "compliance: 2/2 pages"]
    assert "\r" not in out.getvalue()
    assert [entry.split(",")[0] for entry in logged] == ["1/2 pages", "2/2 pages"]
