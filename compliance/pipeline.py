"""The pipeline: fetch (threads, I/O-bound) overlapped with parse-and-check (processes,
CPU-bound), results yielded in the order the targets were given.

At most ``window`` pages are in flight or waiting to be yielded, so memory does not grow with
the number of pages. A page that cannot be fetched becomes an error result; the others go on.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import multiprocessing
import os
import queue
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from .engine import judge_page
from .errors import PageError
from .model import PageResult, Target
from .page import Page
from .rules import RuleBook, load_rulebook
from .sources import is_blank, is_remote, read_bytes

if TYPE_CHECKING:  # fetching pulls in requests; a local draft check does not pay for it
    from .evidence import EvidenceBlob, EvidenceRef, EvidenceWriter
    from .fetch import Fetcher, Hop, SiteConfig


@dataclass(frozen=True)
class Job:
    index: int
    target: Target


@dataclass
class Outcome:
    index: int
    result: PageResult
    evidence: EvidenceRef | None = None


@dataclass
class _Acquired:
    """Bytes to judge, and what the fetch left for the report and the evidence file."""

    data: bytes | None
    url: str | None
    headers: dict[str, str] = field(default_factory=dict)
    charset: str | None = None
    hops: list[Hop] = field(default_factory=list)
    fetched_at: str = ""
    error: PageError | None = None
    sha256: str | None = None
    evidence: EvidenceBlob | None = None
    in_worker: bool = False
    """A local file a worker process reads for itself."""


# -- the worker-process side -----------------------------------------------------------------


class _Judged(NamedTuple):
    """What a worker sends back for one page."""

    result: PageResult
    evidence: EvidenceBlob | None
    sha256: str | None
    read_at: str | None = None
    """When the worker read a local file itself; fetched pages keep their fetch time."""

_WORKER_BOOK: RuleBook | None = None


def _init_worker(rules_root: str, book: RuleBook | None) -> None:
    global _WORKER_BOOK
    # A forked worker is handed the parent's rule book as it stands in memory; a spawned one
    # loads (and validates) its own.
    _WORKER_BOOK = book if book is not None else load_rulebook(Path(rules_root))
    # What the worker inherited lives as long as it does: keep the collector off it, so it
    # neither scans it at every full collection nor copies its pages by touching them.
    gc.freeze()


def _judge_in_worker(target: Target, data: bytes, url: str | None, headers: dict[str, str],
                     charset: str | None, hops: list[Hop] | None, fetched_at: str,
                     secret_headers: frozenset[str]) -> _Judged:
    """Judge a page and, when ``hops`` are given, serialise its evidence: both are CPU work
    that would otherwise queue behind the fetching in the main process."""
    assert _WORKER_BOOK is not None
    blob = None
    if hops is not None:
        from .evidence import build_records

        blob = build_records(hops, fetched_at, secret_headers)
    digest = blob.sha256 if blob is not None else hashlib.sha256(data).hexdigest()
    return _Judged(judge_bytes(_WORKER_BOOK, target, data, url, headers, charset), blob, digest)


def _judge_file_in_worker(target: Target) -> _Judged:
    """Read, hash and judge a local file in the worker: the bytes never cross the pipe."""
    assert _WORKER_BOOK is not None
    read = Pipeline.read_local(target)
    if read.data is None:
        return _Judged(PageResult(target, "error", error=str(read.error)), None, None)
    return _Judged(judge_bytes(_WORKER_BOOK, target, read.data, read.url, {}, None), None,
                   read.sha256, read.fetched_at)


def judge_bytes(book: RuleBook, target: Target, data: bytes, url: str | None,
                headers: Mapping[str, str], charset: str | None) -> PageResult:
    try:
        page = Page.from_bytes(data, target, url=url, headers=headers, declared_charset=charset)
    except PageError as exc:
        return PageResult(target, "error", error=str(exc), url=url)
    except Exception as exc:  # bytes no parser or detector expected: this page fails, not the run
        return PageResult(target, "error", url=url,
                          error=f"cannot read the page: {type(exc).__name__}: {exc}; please "
                                "report it with the page attached")
    return judge_page(page, book)


# -- the pipeline ----------------------------------------------------------------------------


class Pipeline:
    def __init__(self, book: RuleBook, rules_root: Path, fetcher: Fetcher | None = None,
                 evidence: EvidenceWriter | None = None, processes: int | None = None,
                 sites: Mapping[str, SiteConfig] | None = None, window: int | None = None,
                 secret_headers: Mapping[str, frozenset[str]] | None = None) -> None:
        self.book = book
        self.rules_root = rules_root
        self._fetcher = fetcher
        self.evidence = evidence
        self.processes = processes if processes is not None else (os.cpu_count() or 1)
        self.sites = dict(sites or {})
        self.secret_headers = dict(secret_headers or {})
        self.window = window or 64
        self._stopping = False
        # With worker processes, evidence and hashes are made there, off the main process.
        self._offload = self.processes > 1

    @property
    def fetcher(self) -> Fetcher:
        if self._fetcher is None:
            from .fetch import Fetcher

            self._fetcher = Fetcher()
        return self._fetcher

    @property
    def threads(self) -> int:
        return self._fetcher.policy.concurrency if self._fetcher is not None else 4

    def stop(self) -> None:
        """Stop soon: no new pages, fetches under way are cut off and left for --resume."""
        self._stopping = True
        if self._fetcher is not None:
            self._fetcher.abort()

    @property
    def stopping(self) -> bool:
        return self._stopping

    def _acquire(self, target: Target) -> _Acquired:
        if not is_remote(target.location):
            if self._offload and target.location != "-":
                return _Acquired(None, None, in_worker=True)
            return self.read_local(target)
        from .fetch import FetchError

        try:
            fetched = self.fetcher.fetch(target.location, self.sites.get(target.partner))
        except FetchError as exc:
            acquired = _Acquired(None, target.location, hops=exc.hops, error=exc,
                                 fetched_at=_now())
        else:
            acquired = _Acquired(fetched.body, fetched.final_url, fetched.headers,
                                 fetched.charset, fetched.hops, fetched.fetched_at)
        if self._offload and acquired.data is not None and not is_blank(acquired.data):
            return acquired  # a worker process will hash it and write its evidence
        if self.evidence is not None:
            from .evidence import build_records

            acquired.evidence = build_records(
                acquired.hops, acquired.fetched_at,
                self.secret_headers.get(target.partner, frozenset()))
        if acquired.data is not None:
            acquired.sha256 = (acquired.evidence.sha256 if acquired.evidence is not None
                               else hashlib.sha256(acquired.data).hexdigest())
        return acquired

    @staticmethod
    def read_local(target: Target) -> _Acquired:
        """A local file's bytes, its file:// URL, when it was read and its SHA-256."""
        when = _now()
        try:
            data, url = read_bytes(target)
        except PageError as exc:
            return _Acquired(None, None, error=exc)
        return _Acquired(data, url, fetched_at=when, sha256=hashlib.sha256(data).hexdigest())

    def run(self, jobs: Iterable[Job],
            on_outcome: Callable[[Outcome], None] | None = None) -> Iterator[Outcome]:
        threads = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="fetch")
        procs: ProcessPoolExecutor | None = None
        if self.processes > 1:
            forked = multiprocessing.get_start_method() == "fork"
            procs = ProcessPoolExecutor(max_workers=self.processes, initializer=_init_worker,
                                        initargs=(str(self.rules_root),
                                                  self.book if forked else None))
        # Finished futures arrive here from their callbacks: one queue read per page instead
        # of a wait() that arms every future in flight each time round.
        completed: queue.SimpleQueue[Future[Any]] = queue.SimpleQueue()
        fetching: dict[Future[_Acquired], Job] = {}
        judging: dict[Future[Any], tuple[Job, _Acquired, EvidenceRef | None]] = {}
        ready: dict[int, Outcome] = {}
        order: deque[int] = deque()
        source = iter(jobs)
        exhausted = False
        try:
            while True:
                while not exhausted and not self._stopping and len(order) < self.window:
                    job = next(source, None)
                    if job is None:
                        exhausted = True
                        break
                    order.append(job.index)
                    submitted = threads.submit(self._acquire, job.target)
                    submitted.add_done_callback(completed.put)
                    fetching[submitted] = job
                while order and order[0] in ready:
                    yield ready.pop(order.popleft())
                if not fetching and not judging:
                    if self._stopping:
                        yield from (ready.pop(i) for i in order if i in ready)
                    if exhausted or self._stopping:
                        break
                    continue
                try:
                    done = [completed.get(timeout=0.5)]
                except queue.Empty:
                    continue  # nothing finished: look at the stop flag again
                with contextlib.suppress(queue.Empty):
                    while True:
                        done.append(completed.get_nowait())
                for future in done:
                    if future in fetching:
                        job = fetching.pop(future)
                        acquired = future.result()
                        outcome = self._after_fetch(job, acquired, procs, judging, completed)
                    else:
                        job, acquired, ref = judging.pop(future)
                        judged: _Judged = future.result()
                        acquired.sha256 = judged.sha256
                        acquired.fetched_at = judged.read_at or acquired.fetched_at
                        if judged.evidence is not None and self.evidence is not None:
                            ref = self.evidence.append(judged.evidence)
                        outcome = Outcome(job.index, self._stamp(judged.result, acquired, ref),
                                          ref)
                    if outcome is not None:
                        ready[outcome.index] = outcome
                        if on_outcome is not None:
                            on_outcome(outcome)
                    elif self._stopping and job.index in order:
                        order.remove(job.index)
        finally:
            threads.shutdown(wait=True, cancel_futures=True)
            if procs is not None:
                procs.shutdown(wait=True, cancel_futures=True)

    def _after_fetch(self, job: Job, acquired: _Acquired, procs: ProcessPoolExecutor | None,
                     judging: dict[Future[Any], tuple[Job, _Acquired, EvidenceRef | None]],
                     completed: queue.SimpleQueue[Future[Any]]) -> Outcome | None:
        target = job.target
        if acquired.error is not None and acquired.error.aborted:
            return None  # not judged: the page is fetched again on resume
        if acquired.in_worker and procs is not None:
            future: Future[Any] = procs.submit(_judge_file_in_worker, target)
            future.add_done_callback(completed.put)
            judging[future] = (job, acquired, None)
            return None
        ref = None
        if self.evidence is not None and acquired.evidence is not None:
            ref = self.evidence.append(acquired.evidence)
            acquired.evidence = None
        if acquired.error is not None or acquired.data is None:
            error = acquired.error or PageError("nothing was read")
            result = PageResult(target, "error", error=str(error), url=acquired.url)
            return Outcome(job.index, self._stamp(result, acquired, ref), ref)
        if is_blank(acquired.data):
            result = PageResult(target, "error", error=f"{target.location}: the page is empty",
                                url=acquired.url)
            return Outcome(job.index, self._stamp(result, acquired, ref), ref)
        if procs is None:
            result = judge_bytes(self.book, target, acquired.data, acquired.url, acquired.headers,
                                 acquired.charset)
            return Outcome(job.index, self._stamp(result, acquired, ref), ref)
        hops = acquired.hops if self.evidence is not None and acquired.evidence is None \
            and ref is None else None
        future = procs.submit(_judge_in_worker, target, acquired.data, acquired.url,
                              acquired.headers, acquired.charset, hops, acquired.fetched_at,
                              self.secret_headers.get(target.partner, frozenset()))
        # The pending call holds the page until it is pickled to the worker (later, in another
        # thread): rebind rather than change what it holds, and keep no copy here.
        acquired.data = None
        acquired.hops = [replace(hop, body=b"") for hop in acquired.hops]
        future.add_done_callback(completed.put)
        judging[future] = (job, acquired, ref)
        return None

    @staticmethod
    def _stamp(result: PageResult, acquired: _Acquired, ref: EvidenceRef | None) -> PageResult:
        fetch: dict[str, Any] = {}
        if acquired.hops:
            fetch["http_status"] = acquired.hops[-1].status
            fetch["final_url"] = acquired.hops[-1].url
            if len(acquired.hops) > 1:
                fetch["redirects"] = [hop.url for hop in acquired.hops[1:]]
        if acquired.error is not None and acquired.error.gone:
            fetch["gone"] = True
        if ref is not None:
            fetch["evidence"] = ref.to_dict()
        elif acquired.sha256 and acquired.fetched_at:
            fetch["evidence"] = {"sha256": acquired.sha256, "fetched_at": acquired.fetched_at}
        return replace(result, fetch=fetch or None)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")

