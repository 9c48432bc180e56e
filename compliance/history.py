"""Run history in SQLite: what is new since last night, what was fixed, how long each violation
has stood.

A finding's identity is (partner, normalised reprint URL, rule id). Every run records its pages
(with their status) and its findings that did not pass; passing obligations are implied by the
page rows. The database uses WAL and records each run in one transaction, so a crash mid-run
leaves the previous runs intact.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from .model import PageResult
from .urls import normalize_url

PROBLEM = ("fail", "needs-review")
LISTED = 1000
"""Changes listed in a report, per kind; the counts are always complete."""
_RANK = {"fail": 4, "needs-review": 3, "error": 2, "waived": 1}

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY, started_at TEXT NOT NULL, finished_at TEXT,
    complete INTEGER NOT NULL, pages INTEGER NOT NULL, pass INTEGER NOT NULL,
    fail INTEGER NOT NULL, error INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS pages (
    run_id TEXT NOT NULL, partner TEXT NOT NULL, page TEXT NOT NULL, target TEXT NOT NULL,
    status TEXT NOT NULL, gone INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, partner, page)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS findings (
    run_id TEXT NOT NULL, partner TEXT NOT NULL, page TEXT NOT NULL, rule_id TEXT NOT NULL,
    status TEXT NOT NULL, severity TEXT NOT NULL, message TEXT NOT NULL,
    PRIMARY KEY (run_id, partner, page, rule_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS findings_identity ON findings (partner, page, rule_id, run_id);
CREATE INDEX IF NOT EXISTS pages_page ON pages (partner, page, run_id);
CREATE INDEX IF NOT EXISTS runs_started ON runs (started_at);
"""


@dataclass(frozen=True)
class Change:
    partner: str
    page: str
    target: str
    rule: str
    message: str
    first_seen: str | None = None
    days_open: int | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"partner": self.partner, "page": self.target, "rule": self.rule,
                                "message": self.message}
        if self.first_seen is not None:
            data["first_seen"] = self.first_seen
            data["days_open"] = self.days_open
        return data


@dataclass
class Changes:
    run: str
    previous: str | None
    new: list[Change] = field(default_factory=list)
    persisting: list[Change] = field(default_factory=list)
    fixed: list[Change] = field(default_factory=list)
    gone: list[Change] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(
        ("new", "persisting", "fixed", "gone"), 0))

    def to_dict(self) -> dict[str, Any]:
        return {"run": self.run, "previous_run": self.previous, "counts": dict(self.counts),
                **{name: [c.to_dict() for c in getattr(self, name)]
                   for name in ("new", "persisting", "fixed", "gone")}}


def page_key(location: str) -> str:
    return normalize_url(location)


def _days(since: str, until: str) -> int:
    return (datetime.fromisoformat(until) - datetime.fromisoformat(since)).days


class History:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(str(path), timeout=30, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # -- writing -------------------------------------------------------------------------------

    def record(self, run_id: str, started_at: str, finished_at: str | None, complete: bool,
               results: Iterable[PageResult]) -> None:
        """Record (or re-record, after a resume) a run, in one transaction."""
        counts = {"pages": 0, "pass": 0, "fail": 0, "error": 0}
        with self._transaction() as db:
            db.execute("DELETE FROM pages WHERE run_id = ?", (run_id,))
            db.execute("DELETE FROM findings WHERE run_id = ?", (run_id,))
            for result in results:
                counts["pages"] += 1
                if result.status in counts:
                    counts[result.status] += 1
                key = page_key(result.target.location)
                gone = bool((result.fetch or {}).get("gone"))
                db.execute("INSERT OR REPLACE INTO pages VALUES (?, ?, ?, ?, ?, ?)",
                           (run_id, result.target.partner, key, result.target.location,
                            result.status, int(gone)))
                worst: dict[str, tuple[str, str, str]] = {}
                for finding in result.findings:
                    if finding.status not in _RANK:
                        continue
                    held = worst.get(finding.rule_id)
                    if held is None or _RANK[finding.status] > _RANK[held[0]]:
                        worst[finding.rule_id] = (finding.status, finding.severity,
                                                  finding.message)
                db.executemany(
                    "INSERT INTO findings VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [(run_id, result.target.partner, key, rule, *row)
                     for rule, row in worst.items()])
            db.execute("INSERT OR REPLACE INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       (run_id, started_at, finished_at, int(complete), counts["pages"],
                        counts["pass"], counts["fail"], counts["error"]))

    # -- reading -------------------------------------------------------------------------------

    def runs(self, limit: int | None = None) -> list[dict[str, Any]]:
        query = "SELECT * FROM runs ORDER BY started_at DESC"
        rows = self.db.execute(query + (f" LIMIT {int(limit)}" if limit else "")).fetchall()
        names = ["id", "started_at", "finished_at", "complete", "pages", "pass", "fail", "error"]
        return [dict(zip(names, row, strict=True)) for row in rows]

    def started(self, run_id: str) -> str | None:
        row = self.db.execute("SELECT started_at FROM runs WHERE id = ?", (run_id,)).fetchone()
        return row[0] if row else None

    def previous(self, run_id: str) -> str | None:
        """The last complete run before ``run_id``."""
        started = self.started(run_id)
        if started is None:
            return None
        row = self.db.execute(
            "SELECT id FROM runs WHERE complete = 1 AND started_at < ? AND id != ? "
            "ORDER BY started_at DESC LIMIT 1", (started, run_id)).fetchone()
        return row[0] if row else None

    def first_seen(self, identity: tuple[str, str, str], run_id: str) -> str:
        """When the current unbroken streak of this failure began."""
        partner, page, rule = identity
        started = self.started(run_id) or ""
        last_ok = self.db.execute(
            "SELECT MAX(r.started_at) FROM pages p JOIN runs r ON r.id = p.run_id "
            "WHERE p.partner = ? AND p.page = ? AND r.started_at < ? AND p.status != 'error' "
            "AND NOT EXISTS (SELECT 1 FROM findings f WHERE f.partner = p.partner AND "
            "f.page = p.page AND f.rule_id = ? AND f.run_id = p.run_id AND f.status IN "
            "('fail', 'needs-review'))", (partner, page, started, rule)).fetchone()[0] or ""
        first = self.db.execute(
            "SELECT MIN(r.started_at) FROM findings f JOIN runs r ON r.id = f.run_id "
            "WHERE f.partner = ? AND f.page = ? AND f.rule_id = ? AND f.status IN "
            "('fail', 'needs-review') AND r.started_at > ? AND r.started_at <= ?",
            (partner, page, rule, last_ok, started)).fetchone()[0]
        return str(first or started)

    def diff(self, run_id: str, previous: str | None = None,
             limit: int | None = LISTED) -> Changes:
        """What changed since ``previous`` (default: the last complete run before this one).

        Computed by SQLite, so memory does not grow with the number of findings; each list
        holds at most ``limit`` items (``counts`` has the full numbers).
        """
        previous = previous or self.previous(run_id)
        started = self.started(run_id) or ""
        changes = Changes(run_id, previous)
        cap = -1 if limit is None else limit
        problem = "status IN ('fail', 'needs-review')"
        absent = ("NOT EXISTS (SELECT 1 FROM findings g WHERE g.run_id = :other AND "
                  "g.partner = f.partner AND g.page = f.page AND g.rule_id = f.rule_id AND "
                  f"g.{problem})")
        target = ("(SELECT p.target FROM pages p WHERE p.run_id = :now AND p.partner = f.partner"
                  " AND p.page = f.page)")
        queries = {
            "new": (f"FROM findings f WHERE f.run_id = :now AND f.{problem} AND {absent}",
                    {"now": run_id, "other": previous or ""}),
            "persisting": (f"FROM findings f WHERE f.run_id = :now AND f.{problem} AND NOT "
                           f"{absent}", {"now": run_id, "other": previous or ""}),
            # Fixed: failing last time, checked this time (not gone, not in error), not failing.
            "fixed": (f"FROM findings f JOIN pages q ON q.run_id = :now AND q.partner = f.partner"
                      f" AND q.page = f.page AND q.gone = 0 AND q.status != 'error' WHERE "
                      f"f.run_id = :other AND f.{problem} AND {absent.replace(':other', ':now')}",
                      {"now": run_id, "other": previous or ""}),
        }
        for name, (where, params) in queries.items():
            if previous is None and name != "new":
                continue
            changes.counts[name] = self.db.execute(f"SELECT COUNT(*) {where}", params).fetchone()[0]
            rows = self.db.execute(
                f"SELECT f.partner, f.page, f.rule_id, f.message, "
                f"COALESCE({target}, f.page) {where} ORDER BY f.partner, f.page, f.rule_id "
                f"LIMIT {cap}", params)
            for partner, page, rule, message, location in rows.fetchall():
                change = Change(partner, page, location, rule, message)
                if name == "persisting":
                    first = self.first_seen((partner, page, rule), run_id)
                    change = Change(partner, page, location, rule, message, first,
                                    _days(first, started))
                getattr(changes, name).append(change)
        changes.counts["gone"] = self.db.execute(
            "SELECT COUNT(*) FROM pages WHERE run_id = ? AND gone = 1", (run_id,)).fetchone()[0]
        for partner, key, location in self.db.execute(
                "SELECT partner, page, target FROM pages WHERE run_id = ? AND gone = 1 "
                f"ORDER BY partner, page LIMIT {cap}", (run_id,)).fetchall():
            changes.gone.append(Change(partner, key, location, "", "page gone (404/410)"))
        return changes

    def partners(self, run_id: str) -> list[str]:
        return [row[0] for row in self.db.execute(
            "SELECT DISTINCT partner FROM pages WHERE run_id = ? ORDER BY partner", (run_id,))]

    def trend(self, partner: str, limit: int = 30) -> list[tuple[str, str, int]]:
        """(run id, started at, failing pages) for the partner's last ``limit`` runs, oldest
        first."""
        rows = self.db.execute(
            "SELECT r.id, r.started_at, (SELECT COUNT(DISTINCT f.page) FROM findings f WHERE "
            "f.run_id = r.id AND f.partner = ? AND f.status = 'fail') FROM runs r WHERE EXISTS "
            "(SELECT 1 FROM pages p WHERE p.run_id = r.id AND p.partner = ?) "
            "ORDER BY r.started_at DESC LIMIT ?", (partner, partner, limit)).fetchall()
        return [(str(a), str(b), int(c)) for a, b, c in reversed(rows)]

    def mean_time_to_fix(self, partner: str) -> tuple[float | None, int]:
        """Mean days from a failure's first sighting to the run that saw it fixed, and how
        many fixes that covers."""
        runs = self.db.execute(
            "SELECT r.id, r.started_at FROM runs r WHERE EXISTS (SELECT 1 FROM pages p WHERE "
            "p.run_id = r.id AND p.partner = ?) ORDER BY r.started_at", (partner,)).fetchall()
        failing: dict[str, set[tuple[str, str]]] = defaultdict(set)
        for run_id, page, rule in self.db.execute(
                "SELECT run_id, page, rule_id FROM findings WHERE partner = ? AND status IN "
                "('fail', 'needs-review')", (partner,)):
            failing[run_id].add((page, rule))
        open_since: dict[tuple[str, str], str] = {}
        durations: list[int] = []
        for run_id, started in runs:
            checked = {page for (page,) in self.db.execute(
                "SELECT page FROM pages WHERE run_id = ? AND partner = ? AND status != 'error'",
                (run_id, partner))}
            now = failing.get(run_id, set())
            for identity in list(open_since):
                if identity not in now and identity[0] in checked:
                    durations.append(_days(open_since.pop(identity), started))
            for identity in now:
                open_since.setdefault(identity, started)
        if not durations:
            return None, 0
        return sum(durations) / len(durations), len(durations)
