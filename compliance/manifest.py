"""Read a manifest of reprints (CSV or JSON Lines) into targets, reporting every broken row.

Columns: ``partner``, ``reprint_url`` (http(s) URL, file path or file:// URL; a relative path is
relative to the manifest), ``original_url``; optional ``photo_credits`` (several separated by
``|``), ``title``, ``author``, ``published_at``, ``expires_at``.
"""

from __future__ import annotations

import csv
import difflib
import io
import json
import os
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .errors import ManifestError
from .model import Target

REQUIRED = ("partner", "reprint_url", "original_url")
OPTIONAL = ("photo_credits", "title", "author", "published_at", "expires_at")
COLUMNS = REQUIRED + OPTIONAL


@dataclass
class Manifest:
    targets: list[Target]
    warnings: list[str] = field(default_factory=list)


def _is_http_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in {"http", "https"} and bool(parts.hostname) and " " not in value


def check_location(value: str) -> str | None:
    """Why ``value`` is not a usable reprint location, or None."""
    if not value:
        return "is empty; give the reprint's http(s) URL or a file path"
    lowered = value.lower()
    if lowered.startswith(("http://", "https://")):
        return None if _is_http_url(value) else f"{value!r} is not a valid http(s) URL"
    if lowered.startswith("file:"):
        parts = urlsplit(value)
        if parts.netloc not in {"", "localhost"} or not parts.path:
            return f"{value!r} is not a valid file:// URL (use file:///absolute/path.html)"
        return None
    if "://" in value or lowered.startswith(("javascript:", "data:", "mailto:", "ftp:")):
        return f"{value!r} is neither an http(s) URL nor a file path"
    return None


def _rows(path: Path, text: str) -> Iterator[tuple[int, dict[str, Any] | None, str | None]]:
    """(line, row, problem) for each data row."""
    kind = path.suffix.lower()
    if kind in {".jsonl", ".ndjson", ".json"} or (kind != ".csv" and text.lstrip().startswith("{")):
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                yield number, None, f"not valid JSON: {exc.msg} (column {exc.colno})"
                continue
            if not isinstance(row, dict):
                yield number, None, "each line must be a JSON object with the manifest columns"
                continue
            yield number, row, None
        return
    first = text.split("\n", 1)[0]
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=_delimiter(first))
    # Spreadsheets write headers as "Reprint URL" or "Partner": the name is what counts.
    header = [_column(name) for name in reader.fieldnames or []]
    reader.fieldnames = header
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        yield 1, None, (f"missing column{'s' if len(missing) > 1 else ''} "
                        f"{', '.join(missing)}; the header must name {', '.join(REQUIRED)} "
                        f"(found: {', '.join(header) or 'nothing'})")
        return
    last_line = 1
    for row in reader:
        number, last_line = last_line + 1, reader.line_num
        if not any((value or "").strip() for key, value in row.items() if key is not None):
            continue  # a spreadsheet's empty row: ",,,"
        yield number, row, None


def _column(name: str) -> str:
    return "_".join(name.strip().lower().replace("-", " ").split())


def _delimiter(header_line: str) -> str:
    """The header's delimiter: a comma, or the semicolon or tab that spreadsheets in many
    locales write instead; the one that yields the most known column names wins."""
    def known(delimiter: str) -> int:
        cells = next(csv.reader([header_line], delimiter=delimiter), [])
        return sum(_column(cell) in COLUMNS for cell in cells)

    return max((",", ";", "\t"), key=known)  # max keeps the first of equals: the comma


def read_manifest(path: Path, partners: Collection[str]) -> Manifest:
    """All targets of a manifest; ManifestError lists every broken row."""
    warnings: list[str] = []
    targets = list(scan_manifest(path, partners, warnings))
    return Manifest(targets, warnings)


def scan_manifest(path: Path, partners: Collection[str],
                  warnings: list[str]) -> Iterator[Target]:
    """Targets one at a time, so a long manifest is never held in memory. Raises
    ManifestError with every problem once the whole file has been read."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ManifestError([f"{path}: no such manifest file"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ManifestError([f"{path}: cannot read the manifest: {exc}"]) from None
    problems: list[str] = []
    count = 0
    # Hashes, not the strings themselves: a long manifest costs a few bytes a row here.
    seen: dict[int, int] = {}
    base = path.parent
    warned_columns: set[str] = set()
    for line, row, problem in _rows(path, text):
        if problem is not None or row is None:
            problems.append(f"{path}:{line}: {problem}")
            continue
        if None in row:  # csv puts surplus cells under the None key
            problems.append(f"{path}:{line}: the row has more cells than the header has columns")
            continue
        for column in row:
            if column not in COLUMNS and column not in warned_columns:
                warned_columns.add(column)
                close = difflib.get_close_matches(column, COLUMNS, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                warnings.append(f"{path}:{line} {column}: unknown column, ignored{hint}")
        target, row_problems = _target(row, path, line, base, partners)
        problems.extend(row_problems)
        if target is None:
            continue
        key = hash((target.partner, target.location))
        if key in seen:
            warnings.append(f"{path}:{line} reprint_url: same partner and reprint as line "
                            f"{seen[key]}; checked once")
            continue
        seen[key] = line
        count += 1
        if not problems:
            yield target
    if problems:
        raise ManifestError(problems)
    if not count:
        raise ManifestError([f"{path}: the manifest lists no reprints"])


def _target(row: dict[str, Any], path: Path, line: int, base: Path,
            partners: Collection[str]) -> tuple[Target | None, list[str]]:
    def cell(name: str) -> str:
        value = row.get(name)
        if isinstance(value, list):
            return "|".join(str(v) for v in value)
        return "" if value is None else str(value).strip()

    problems: list[str] = []

    def bad(column: str, message: str) -> None:
        problems.append(f"{path}:{line} {column}: {message}")

    for column in REQUIRED:
        if column not in row:
            bad(column, "missing; every row needs partner, reprint_url and original_url")
    partner = cell("partner")
    if "partner" in row and partner not in partners:
        close = difflib.get_close_matches(partner, list(partners), n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        bad("partner", f"unknown partner {partner!r}; {hint}known: "
                       f"{', '.join(sorted(partners)) or 'none (no partner rule files)'}")
    location = cell("reprint_url")
    if "reprint_url" in row:
        why = check_location(location)
        if why:
            bad("reprint_url", why)
        elif "://" not in location and location != "-":
            location = os.path.normpath(base / location)
    original = cell("original_url")
    if "original_url" in row and not _is_http_url(original):
        bad("original_url", f"{original!r} is not an http(s) URL; give the URL of the original "
                            "article" if original else "is empty; give the URL of the original "
                                                       "article")
    for column in ("published_at", "expires_at"):
        value = cell(column)
        if value:
            try:
                datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                bad(column, f"{value!r} is not an ISO 8601 date (e.g. 2026-01-31 or "
                            "2026-01-31T12:00:00Z)")
    if problems:
        return None, problems
    credits = tuple(c.strip() for c in cell("photo_credits").split("|") if c.strip())
    return Target(
        partner=partner, location=location, original_url=original, photo_credits=credits,
        title=cell("title") or None, author=cell("author") or None,
        published_at=cell("published_at") or None, expires_at=cell("expires_at") or None,
        origin=f"{path}:{line}",
    ), []
