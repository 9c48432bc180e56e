"""Page results on disk: written once as JSON lines, read back as often as reports need."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO

from .model import PageResult


class Replay(Iterable[PageResult]):
    """An iterable that starts afresh on every ``iter()``: formatters that print totals first
    read the results twice without holding them in memory."""

    def __init__(self, factory: Callable[[], Iterator[PageResult]]) -> None:
        self._factory = factory

    def __iter__(self) -> Iterator[PageResult]:
        return self._factory()


def write_line(handle: IO[str], result: PageResult) -> None:
    handle.write(json.dumps(result.to_dict(), ensure_ascii=False) + "\n")


def read_lines(path: Path) -> Iterator[PageResult]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield PageResult.from_dict(json.loads(line))


def read_report(path: Path) -> tuple[dict[str, object], list[PageResult]]:
    """A stored report.json: its header (tool, run, summary) and its pages."""
    document = json.loads(path.read_text("utf-8"))
    pages = [PageResult.from_dict(page) for page in document.pop("pages", [])]
    return document, pages
