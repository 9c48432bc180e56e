"""Progress for long runs: a bar on a terminal, a plain line every few seconds elsewhere."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

from .model import PageResult, has_warning


class Progress:
    """A bar with counts and rate on a terminal; a plain line every few seconds elsewhere."""

    def __init__(self, total: int, stream: TextIO, log: Callable[[str], None],
                 tty: bool | None = None, every: float = 10.0) -> None:
        self.total = total
        self.stream = stream
        self.log = log
        self.tty = stream.isatty() if tty is None else tty
        self.every = every
        self.counts = {"pass": 0, "fail": 0, "error": 0, "needs-review": 0}
        self.warned = False
        self.done = 0
        self.started = time.monotonic()
        self._last = 0.0
        self._logged = time.monotonic()

    def line(self) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = self.done / elapsed
        return (f"{self.done}/{self.total} pages, {self.counts['pass']} pass, "
                f"{self.counts['fail']} fail, {self.counts['error']} error, {rate:.1f} pages/s")

    def update(self, result: PageResult) -> None:
        self.done += 1
        self.counts[result.status] = self.counts.get(result.status, 0) + 1
        self.warned = self.warned or has_warning(result)
        now = time.monotonic()
        if self.tty:
            if now - self._last >= 0.1 or self.done == self.total:
                width = 30
                filled = int(width * self.done / max(self.total, 1))
                self.stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {self.line()}")
                self.stream.flush()
                self._last = now
        elif now - self._last >= self.every:
            self.stream.write(f"compliance: {self.line()}\n")
            self.stream.flush()
            self._last = now
        if now - self._logged >= self.every:
            self.log(self.line())  # the run log keeps the pace of the run too
            self._logged = now

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")
        self.stream.write(f"compliance: {self.line()}\n")
        self.stream.flush()
