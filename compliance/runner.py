"""The nightly job: every reprint of every manifest, judged into a run folder.

``reports/<run-id>/`` holds ``targets.jsonl`` (the validated manifest rows, one per line, in
order), ``results.jsonl`` (one judged page per line, appended as pages finish), the evidence
WARC, ``run.log``, ``run.json`` and, at the end, ``report.json``. ``reports/latest`` points at
the newest run. A run stopped by SIGINT/SIGTERM, or killed outright, resumes with
``--resume``: finished pages are neither fetched again nor counted twice.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import json
import os
import resource
import secrets
import signal
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from types import FrameType
from typing import Any, TextIO, cast

from . import __version__
from .errors import UsageError
from .evidence import EvidenceWriter
from .fetch import Credentials, Fetcher, SiteConfig
from .files import atomic_open
from .formatters.summary import ReportContext, report_context
from .manifest import scan_manifest
from .model import PageResult, Target, exit_code
from .pipeline import Job, Outcome, Pipeline
from .policy import FetchPolicy
from .progress import Progress
from .results import Replay
from .rules import RuleBook, load_rulebook

MANIFEST_SUFFIXES = (".csv", ".jsonl", ".ndjson")
EXIT_INTERRUPTED = 130


# ---------------------------------------------------------------------------------------------
# Files


def point_latest(reports: Path, run_dir: Path) -> None:
    link = reports / "latest"
    tmp = reports / f".latest.{os.getpid()}.tmp"
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    os.symlink(run_dir.name, tmp)
    os.replace(tmp, link)


def manifest_files(paths: Sequence[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.iterdir() if p.suffix in MANIFEST_SUFFIXES))
        else:
            found.append(path)
    if not found:
        raise UsageError(f"no manifests (*.csv, *.jsonl) in {', '.join(map(str, paths))}")
    return found


def site_configs(book: RuleBook, environ: dict[str, str] | None = None
                 ) -> tuple[dict[str, SiteConfig], dict[str, frozenset[str]]]:
    """Per partner: how to fetch its site, and which request headers carry its secrets."""
    env = os.environ if environ is None else environ
    missing: list[str] = []
    sites: dict[str, SiteConfig] = {}
    secret_headers: dict[str, frozenset[str]] = {}

    def secret(partner_id: str, where: str, name: str) -> str:
        value = env.get(name)
        if value is None:
            missing.append(f"partner {partner_id!r} ({where}) needs the environment variable "
                           f"{name}")
            return ""
        return value

    for partner in book.partners.values():
        config = partner.fetch
        headers = {h: secret(partner.id, f"fetch.headers.{h}", v)
                   for h, v in (config.get("headers") or {}).items()}
        cookies = {c: secret(partner.id, f"fetch.cookies.{c}", v)
                   for c, v in (config.get("cookies") or {}).items()}
        basic = config.get("basic_auth")
        auth = (secret(partner.id, "fetch.basic_auth.username", basic["username"]),
                secret(partner.id, "fetch.basic_auth.password", basic["password"])) \
            if basic else None
        creds = Credentials(headers, cookies, auth, tuple(d.lower() for d in partner.domains)) \
            if (headers or cookies or auth) else None
        sites[partner.id] = SiteConfig(config.get("robots", "obey") != "ignore", creds)
        secret_headers[partner.id] = frozenset(headers)
    if missing:
        raise UsageError("; ".join(missing) + " (set them before the run; secrets are never "
                         "written in rule files)")
    return sites, secret_headers


# ---------------------------------------------------------------------------------------------
# Progress


# ---------------------------------------------------------------------------------------------
# The run folder


@dataclass
class RunInfo:
    id: str
    started_at: str
    rules: str
    manifests: list[str]
    total: int = 0
    complete: bool = False
    finished_at: str | None = None
    resumed_at: list[str] = field(default_factory=list)
    tool: str = f"compliance {__version__}"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def new_run_id() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(2)


def _target_to_dict(target: Target) -> dict[str, Any]:
    data = asdict(target)
    data["photo_credits"] = list(target.photo_credits)
    return data


def _target_from_dict(data: dict[str, Any]) -> Target:
    data = dict(data)
    data["photo_credits"] = tuple(data.get("photo_credits") or ())
    return Target(**data)


def read_results(path: Path) -> tuple[dict[int, int], int]:
    """Offsets of the complete lines of results.jsonl by page index, and where they end.

    A line cut short by a kill is not a result: it is dropped, and that page is judged again.
    """
    offsets: dict[int, int] = {}
    end = 0
    evidence_end = 0
    if not path.exists():
        return offsets, 0
    with path.open("rb") as handle:
        while True:
            start = handle.tell()
            line = handle.readline()
            if not line.endswith(b"\n"):
                break
            try:
                record = json.loads(line)
            except ValueError:
                break
            offsets[int(record["index"])] = start
            evidence_end = max(evidence_end, int(record.get("evidence_end") or 0))
            end = handle.tell()
    with path.open("r+b") as handle:
        handle.truncate(end)
    return offsets, evidence_end


class Run:
    def __init__(self, reports: Path, run_id: str) -> None:
        self.reports = reports
        self.dir = reports / run_id
        self.id = run_id

    @property
    def info_path(self) -> Path:
        return self.dir / "run.json"

    def load_info(self) -> RunInfo:
        return RunInfo(**json.loads(self.info_path.read_text("utf-8")))

    def save_info(self, info: RunInfo) -> None:
        with atomic_open(self.info_path) as handle:
            json.dump(asdict(info), handle, indent=2)

    def targets(self) -> Iterator[tuple[int, Target]]:
        with (self.dir / "targets.jsonl").open(encoding="utf-8") as handle:
            for index, line in enumerate(handle):
                yield index, _target_from_dict(json.loads(line))

    def results(self, offsets: dict[int, int]) -> Iterator[PageResult]:
        if not offsets:
            return
        with (self.dir / "results.jsonl").open("rb") as handle:
            for index in sorted(offsets):
                handle.seek(offsets[index])
                yield PageResult.from_dict(json.loads(handle.readline())["page"])


def find_resumable(reports: Path, run_id: str | None) -> Run:
    if run_id:
        if (reports / run_id).is_symlink():
            run_id = os.readlink(reports / run_id)
        run = Run(reports, run_id)
        if not run.info_path.exists():
            raise UsageError(f"--resume {run_id}: no such run in {reports}")
        return run
    candidates = sorted((p for p in reports.iterdir()
                         if not p.is_symlink() and (p / "run.json").exists()),
                        key=lambda p: p.name, reverse=True) if reports.is_dir() else []
    for path in candidates:
        run = Run(reports, path.name)
        if not run.load_info().complete:
            return run
    raise UsageError(f"--resume: no unfinished run in {reports}; start a new one without "
                     "--resume")


# ---------------------------------------------------------------------------------------------
# The job


@dataclass
class RunOptions:
    manifests: list[Path]
    rules: Path = Path("rules")
    reports: Path = Path("reports")
    resume: str | bool | None = None
    policy: FetchPolicy = field(default_factory=FetchPolicy)
    processes: int | None = None
    progress: TextIO = sys.stderr
    fail_on: str = "fail"
    history: Path | None = None
    """SQLite run history (default: <reports>/history.sqlite)."""


def _tame_malloc() -> None:
    """Keep memory flat over long runs (glibc only; elsewhere nothing happens).

    Pages are large buffers allocated and freed by many threads. glibc raises its mmap
    threshold after each such free and gives every thread its own arena, so freed pages stay
    in the heap and the peak creeps up with the number of pages (measured: +33 % from 1,000 to
    10,000). A fixed threshold returns page buffers to the system; two arenas are plenty.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    m_mmap_threshold, m_arena_max = -3, -8
    libc.mallopt(m_mmap_threshold, 128 * 1024)
    libc.mallopt(m_arena_max, 2)


def nightly(options: RunOptions) -> tuple[int, Run]:
    """Run (or resume) the nightly job; return the exit code and the run."""
    _tame_malloc()
    book = load_rulebook(options.rules)
    sites, secret_headers = site_configs(book)
    options.reports.mkdir(parents=True, exist_ok=True)
    if options.resume:
        run = find_resumable(options.reports, options.resume if isinstance(options.resume, str)
                             else None)
        info = run.load_info()
        info.resumed_at.append(_now())
    else:
        run = Run(options.reports, new_run_id())
        run.dir.mkdir()
        info = _prepare(run, options, book)
    offsets, evidence_end = read_results(run.dir / "results.jsonl")
    log_file = (run.dir / "run.log").open("a", encoding="utf-8")

    def log(message: str) -> None:
        log_file.write(f"{_now()} {message}\n")
        log_file.flush()

    log(f"{'resumed' if options.resume else 'started'} run {run.id}: {info.total} pages, "
        f"{len(offsets)} already done")
    run.save_info(info)
    point_latest(options.reports, run.dir)
    evidence = EvidenceWriter(run.dir / "evidence.warc.gz", truncate_at=evidence_end)
    pipeline = Pipeline(book, options.rules, Fetcher(options.policy), evidence,
                        processes=options.processes, sites=sites, secret_headers=secret_headers)
    progress = Progress(info.total, options.progress, log)
    used: set[str] = set()  # waiver ids that excused something, over the whole run
    for result in run.results(offsets):
        progress.update(result)
        used |= _used_waivers(result)
    stopped_by: list[int] = []

    def stop(signum: int, frame: FrameType | None) -> None:
        if not stopped_by:
            log(f"received signal {signum}; stopping, finished pages are kept")
            options.progress.write("\ncompliance: stopping; resume with: compliance run "
                                   f"--resume {run.id}\n")
        stopped_by.append(signum)
        pipeline.stop()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    jobs = (Job(index, target) for index, target in run.targets() if index not in offsets)
    try:
        out = _Results(run.dir / "results.jsonl")
        try:
            for outcome in pipeline.run(jobs):
                out.append(outcome)
                progress.update(outcome.result)
                used |= _used_waivers(outcome.result)
                if outcome.result.status == "error":
                    log(f"error {outcome.result.target.location}: {outcome.result.error}")
        finally:
            out.close()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        evidence.close()
        progress.close()
    offsets, _ = read_results(run.dir / "results.jsonl")
    info.complete = not stopped_by and len(offsets) == info.total
    if info.complete:
        info.finished_at = _now()
    # Waivers that matched no finding of the run: candidates for removal.
    stale = [w.to_dict() for w in book.waivers if w.id not in used]
    for waiver in stale:
        log(f"waiver matched nothing in this run: {waiver['id']} ({waiver['partner']} "
            f"{waiver['rule']} on {waiver['url']})")
    extra: dict[str, Any] = {"waivers": {"unmatched": stale}} if book.waivers else {}
    extra.update(_record_history(options.history or options.reports / "history.sqlite", run,
                                 info, offsets, log))
    _write_report(run, info, offsets, book, extra)
    run.save_info(info)
    own = resource.getrusage(resource.RUSAGE_SELF)
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)  # the worker processes, reaped
    log(f"{'finished' if info.complete else 'stopped'}: {progress.line()}; peak memory of the "
        f"main process {own.ru_maxrss / 1024:.0f} MiB; CPU time: main process "
        f"{own.ru_utime + own.ru_stime:.1f} s, worker processes "
        f"{workers.ru_utime + workers.ru_stime:.1f} s")
    log_file.close()
    if stopped_by:
        return EXIT_INTERRUPTED, run
    return exit_code(progress.counts, progress.warned, options.fail_on), run


def _prepare(run: Run, options: RunOptions, book: RuleBook) -> RunInfo:
    """Validate every manifest row into targets.jsonl before anything is fetched."""
    files = manifest_files(options.manifests)
    warnings: list[str] = []
    total = 0
    try:
        with atomic_open(run.dir / "targets.jsonl") as out:
            for path in files:
                for target in scan_manifest(path, book.partners, warnings):
                    out.write(json.dumps(_target_to_dict(target), ensure_ascii=False) + "\n")
                    total += 1
    except BaseException:
        _remove_tree(run.dir)
        raise
    for warning in warnings:
        options.progress.write(f"compliance: warning: {warning}\n")
    return RunInfo(run.id, _now(), str(options.rules), [str(p) for p in files], total)


def _remove_tree(path: Path) -> None:
    for child in path.iterdir():
        child.unlink()
    path.rmdir()


class _Results:
    """results.jsonl: each line flushed at once (a killed process loses nothing written);
    synced to disk every second or so, which covers a crash of the machine itself."""

    def __init__(self, path: Path) -> None:
        self._file = path.open("ab")
        self._synced = time.monotonic()

    def append(self, outcome: Outcome) -> None:
        record = {"index": outcome.index, "page": outcome.result.to_dict(),
                  "evidence_end": outcome.evidence.end if outcome.evidence else None}
        self._file.write(json.dumps(record, ensure_ascii=False).encode("utf-8") + b"\n")
        self._file.flush()
        if time.monotonic() - self._synced > 1.0:
            os.fsync(self._file.fileno())
            self._synced = time.monotonic()

    def close(self) -> None:
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()


REPORT_FILES = {"report.json": "json", "index.html": "html", "junit.xml": "junit",
                "findings.csv": "csv"}


def write_reports(folder: Path, results: Iterable[PageResult], context: ReportContext,
                  by_partner: Mapping[str, Iterable[PageResult]]) -> None:
    """Every format into ``folder``, each file written atomically, plus one Markdown summary
    per partner under ``summaries/`` from that partner's results (``by_partner``)."""
    from .formatters import FORMATTERS

    for name, kind in REPORT_FILES.items():
        with atomic_open(folder / name) as handle:
            FORMATTERS[kind].render(results, cast(TextIO, handle), context)
    summaries = folder / "summaries"
    summaries.mkdir(exist_ok=True)
    for partner in sorted(by_partner):
        with atomic_open(summaries / f"{partner}.md") as handle:
            FORMATTERS["markdown"].render(by_partner[partner], cast(TextIO, handle), context)


def _write_report(run: Run, info: RunInfo, offsets: dict[int, int], book: RuleBook,
                  extra: dict[str, Any]) -> None:
    meta = {"id": info.id, "complete": info.complete, "started_at": info.started_at,
            **({"finished_at": info.finished_at} if info.finished_at else {})}
    # Each partner's lines of results.jsonl, found from the (small) targets file in one pass.
    partner_of = {index: target.partner for index, target in run.targets() if index in offsets}
    groups: dict[str, dict[int, int]] = {}
    for index, offset in offsets.items():
        groups.setdefault(partner_of[index], {})[index] = offset
    by_partner = {partner: Replay(functools.partial(run.results, group))
                  for partner, group in groups.items()}
    write_reports(run.dir, Replay(lambda: run.results(offsets)), report_context(book, meta, extra),
                  by_partner)


def _record_history(path: Path, run: Run, info: RunInfo, offsets: dict[int, int],
                    log: Callable[[str], None]) -> dict[str, Any]:
    """Record the run; return the report sections that compare it with the last one."""
    from .history import History

    history = History(path)
    try:
        history.record(info.id, info.started_at, info.finished_at, info.complete,
                       run.results(offsets))
        changes = history.diff(info.id)
        trends = {partner: history.trend(partner) for partner in history.partners(info.id)}
    finally:
        history.close()
    counts = changes.counts
    log(f"since {changes.previous or 'the first run'}: {counts['new']} new, "
        f"{counts['persisting']} still failing, {counts['fixed']} fixed, {counts['gone']} gone")
    return {"changes": changes.to_dict(),
            "trends": {p: [{"run": r, "started_at": s, "failing_pages": n} for r, s, n in rows]
                       for p, rows in trends.items()}}


def _used_waivers(result: PageResult) -> set[str]:
    return {f.waiver for f in result.findings if f.waiver}
