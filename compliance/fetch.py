"""Fetch published reprints: politely, within hard limits, and never stalled by one server.

Every polite default lives in :class:`FetchPolicy`: timeouts, a total deadline per page, a cap
on the bytes received and on the bytes after decompression, a redirect cap, retries with
exponential backoff and jitter that honour ``Retry-After`` up to a cap, concurrency across
hosts with a per-host limit and a minimum delay between requests to one host, robots.txt
(protego), and a User-Agent that names the tool, its version and a contact URL.

The deadline is enforced by a watchdog that shuts down the sockets of a fetch that runs over,
so a server that drips one byte a second, or never answers, cannot hold a worker.
"""

from __future__ import annotations

import contextlib
import email.utils
import http.client
import random
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
import urllib3.exceptions
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from .errors import PageError
from .policy import FetchPolicy

HTML_TYPES = ("text/html", "application/xhtml+xml")
SENSITIVE_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization", "set-cookie"})


class FetchError(PageError):
    """The page could not be fetched; the message says why and what to do."""

    def __init__(self, message: str, status: int | None = None, gone: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.gone = gone
        self.hops: list[Hop] = []
        """What was exchanged before the failure, kept as evidence."""


class FetchAborted(FetchError):
    """The run is stopping; the page was not judged and will be fetched again on resume."""

    aborted = True


@dataclass
class Hop:
    """One request and its response, as kept for the evidence file."""

    url: str
    method: str
    request_headers: list[tuple[str, str]]
    status: int
    reason: str
    response_headers: list[tuple[str, str]]
    body: bytes = b""


@dataclass
class Fetched:
    url: str
    final_url: str
    status: int
    headers: dict[str, str]
    body: bytes
    fetched_at: str
    charset: str | None
    hops: list[Hop] = field(default_factory=list)

    @property
    def redirects(self) -> list[str]:
        return [hop.url for hop in self.hops[1:]]


@dataclass(frozen=True)
class Credentials:
    """Secrets for one partner's site, read from environment variables at run start."""

    headers: Mapping[str, str] = field(default_factory=dict)
    cookies: Mapping[str, str] = field(default_factory=dict)
    basic_auth: tuple[str, str] | None = None
    domains: tuple[str, ...] = ()

    def applies_to(self, url: str) -> bool:
        host = (urlsplit(url).hostname or "").lower()
        return any(host == d or host.endswith("." + d) for d in self.domains)


@dataclass(frozen=True)
class SiteConfig:
    """What a partner's rule file says about fetching its site."""

    obey_robots: bool = True
    credentials: Credentials | None = None


# ---------------------------------------------------------------------------------------------
# The watchdog


class _Watchdog:
    """Shuts down the sockets of fetches that outlive their deadline, or of all on abort."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active: dict[int, tuple[float, set[socket.socket]]] = {}
        self._local = threading.local()
        self._thread: threading.Thread | None = None

    @contextmanager
    def guard(self, deadline: float) -> Iterator[None]:
        ident = threading.get_ident()
        with self._lock:
            self._active[ident] = (deadline, set())
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="fetch-watchdog",
                                                daemon=True)
                self._thread.start()
        try:
            yield
        finally:
            with self._lock:
                self._active.pop(ident, None)

    def adopt(self, sock: socket.socket | None) -> None:
        if sock is None:
            return
        with self._lock:
            entry = self._active.get(threading.get_ident())
            if entry is not None:
                entry[1].add(sock)

    def expire_all(self) -> None:
        with self._lock:
            for ident, (_, socks) in list(self._active.items()):
                self._active[ident] = (0.0, socks)

    def _run(self) -> None:
        while True:
            time.sleep(0.1)
            now = time.monotonic()
            with self._lock:
                late = [socks for deadline, socks in self._active.values() if deadline <= now]
            for socks in late:
                for sock in list(socks):
                    with contextlib.suppress(OSError):
                        sock.shutdown(socket.SHUT_RDWR)


WATCHDOG = _Watchdog()


class _Watched:
    """Hands every socket a request uses to the watchdog, new or kept alive."""

    sock: socket.socket | None

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        WATCHDOG.adopt(self.sock)

    def request(self, *args: Any, **kwargs: Any) -> None:
        WATCHDOG.adopt(self.sock)
        super().request(*args, **kwargs)  # type: ignore[misc]


class _WatchedHTTPConnection(_Watched, HTTPConnection):
    pass


class _WatchedHTTPSConnection(_Watched, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class _Session(requests.Session):
    """A session that tolerates any Location header: redirects are followed by the fetcher,
    but requests still decodes the target of each one, and raises on one that is not UTF-8."""

    def get_redirect_target(self, resp: requests.Response) -> str | None:
        try:
            return super().get_redirect_target(resp)
        except UnicodeError:
            return None


class _Adapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}


# ---------------------------------------------------------------------------------------------
# Hosts and robots.txt


class _HostGate:
    """At most ``per_host`` requests at once to a host, started at least ``delay`` apart."""

    def __init__(self, per_host: int, delay: float) -> None:
        self._slots = threading.BoundedSemaphore(per_host)
        self._lock = threading.Lock()
        self._next = 0.0
        self._delay = delay

    @contextmanager
    def slot(self, deadline: float) -> Iterator[None]:
        if not self._slots.acquire(timeout=max(0.0, deadline - time.monotonic())):
            raise FetchError("gave up waiting for a free connection to this host before the "
                             "page's deadline; the host is busy with other pages of this run")
        try:
            with self._lock:
                start = max(time.monotonic(), self._next)
                self._next = start + self._delay
            wait = start - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            yield
        finally:
            self._slots.release()


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    current = datetime.now(timezone.utc).timestamp() if now is None else now
    return max(0.0, when.timestamp() - current)


def _charset(content_type: str) -> str | None:
    for part in content_type.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.strip().lower() == "charset" and value.strip():
            return value.strip().strip("\"'")
    return None


class Fetcher:
    """Thread-safe; one per run."""

    def __init__(self, policy: FetchPolicy | None = None) -> None:
        self.policy = policy or FetchPolicy()
        self._local = threading.local()
        self._gates: dict[str, _HostGate] = {}
        self._robots: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._aborted = threading.Event()

    # -- plumbing --------------------------------------------------------------------------

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = _Session()
            adapter = _Adapter(pool_connections=16, pool_maxsize=max(2, self.policy.per_host),
                               max_retries=0)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            session.headers.update({"User-Agent": self.policy.user_agent,
                                    "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1",
                                    "Accept-Encoding": "gzip, deflate"})
            session.trust_env = False  # no proxies or .netrc credentials from the environment
            self._local.session = session
        return session

    def _gate(self, url: str) -> _HostGate:
        key = urlsplit(url).netloc.lower()
        with self._lock:
            gate = self._gates.get(key)
            if gate is None:
                gate = self._gates[key] = _HostGate(self.policy.per_host, self.policy.host_delay)
            return gate

    def abort(self) -> None:
        """Stop every fetch now (SIGINT/SIGTERM): their pages are left for --resume."""
        self._aborted.set()
        WATCHDOG.expire_all()

    # -- fetching --------------------------------------------------------------------------

    def fetch(self, url: str, site: SiteConfig | None = None) -> Fetched:
        site = site or SiteConfig()
        deadline = time.monotonic() + self.policy.deadline
        hops: list[Hop] = []
        try:
            return self._fetch(url, site, deadline, hops)
        except FetchError as exc:
            exc.hops = hops
            raise
        except Exception as exc:
            # Whatever a server sends must end in an error for its page, never in a run that
            # stops: the libraries below raise more kinds of exception than they document.
            error = FetchError(f"could not fetch {url}: {type(exc).__name__}: {exc}")
            error.hops = hops
            raise error from exc

    def _fetch(self, url: str, site: SiteConfig, deadline: float, hops: list[Hop]) -> Fetched:
        seen = [url]
        current = url
        with WATCHDOG.guard(deadline):
            while True:
                if self.policy.obey_robots and site.obey_robots:
                    self._check_robots(current, deadline)
                hop, response = self._with_retries(current, site, deadline)
                hops.append(hop)
                if hop.status in _REDIRECTS and response.get("location"):
                    target = urljoin(current, response["location"].strip())
                    if target in seen:
                        raise FetchError(f"redirect loop: {' -> '.join([*seen, target])}",
                                         status=hop.status)
                    if len(seen) > self.policy.max_redirects:
                        raise FetchError(f"more than {self.policy.max_redirects} redirects "
                                         f"(last: {target}); check the reprint URL",
                                         status=hop.status)
                    if urlsplit(target).scheme not in {"http", "https"}:
                        raise FetchError(f"redirected to a non-web URL {target!r}")
                    seen.append(target)
                    current = target
                    continue
                break
        final = hops[-1]
        headers = {k.lower(): v for k, v in final.response_headers}
        fetched = Fetched(url, current, final.status, headers, final.body,
                          datetime.now(timezone.utc).isoformat(timespec="seconds"),
                          _charset(headers.get("content-type", "")), hops)
        if final.status in {404, 410}:
            raise FetchError(f"page gone: HTTP {final.status} from {current}",
                             status=final.status, gone=True)
        if 300 <= final.status < 400:
            raise FetchError(f"HTTP {final.status} {final.reason} from {current} with no "
                             "Location to follow", status=final.status)
        if final.status in {204, 205}:
            raise FetchError(f"HTTP {final.status} {final.reason} from {current}: the server "
                             "sent no page", status=final.status)
        if final.status == 206:
            raise FetchError(f"HTTP 206 Partial Content from {current}: the server sent part "
                             "of the page, though all of it was asked for", status=final.status)
        if final.status >= 400:
            raise FetchError(f"HTTP {final.status} {final.reason} from {current}",
                             status=final.status)
        content_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type and content_type not in HTML_TYPES:
            raise FetchError(f"not an HTML page: Content-Type is {content_type} ({current})",
                             status=final.status)
        return fetched

    def _with_retries(self, url: str, site: SiteConfig,
                      deadline: float) -> tuple[Hop, dict[str, str]]:
        attempt = 0
        while True:
            if self._aborted.is_set():
                raise FetchAborted("the run was stopped before this page was fetched")
            problem: str
            wait: float | None = None
            try:
                with self._gate(url).slot(deadline):
                    hop = self._request(url, site, deadline)
                headers = {k.lower(): v for k, v in hop.response_headers}
                if hop.status == 429 or hop.status >= 500:
                    problem = f"HTTP {hop.status} {hop.reason}"
                    wait = parse_retry_after(headers.get("retry-after"))
                    if wait is not None and wait > self.policy.max_retry_after:
                        raise FetchError(
                            f"{problem}: the server asks us to wait {wait:.0f} s (Retry-After), "
                            f"more than the {self.policy.max_retry_after:.0f} s we allow; the "
                            "page will be tried again on the next run", status=hop.status)
                    if attempt >= self.policy.retries:
                        raise FetchError(f"{problem} from {url} after {attempt + 1} attempts",
                                         status=hop.status)
                else:
                    return hop, headers
            except requests.exceptions.ConnectionError as exc:
                if self._aborted.is_set():
                    raise FetchAborted("the run was stopped while this page was fetched") from None
                if time.monotonic() >= deadline:
                    raise self._deadline_error(url) from None
                broken = _protocol_violation(exc)
                if broken is not None:  # the same server will break it the same way again
                    raise FetchError(f"the server's reply is not valid HTTP: {broken} ({url}); "
                                     "the server or a proxy in front of it is broken") from None
                problem = f"connection failed: {_reason(exc)}"
                if attempt >= self.policy.retries:
                    raise FetchError(f"{problem} ({url}) after {attempt + 1} attempts") from None
            except requests.exceptions.Timeout:
                if time.monotonic() >= deadline:
                    raise self._deadline_error(url) from None
                problem = "timed out"
                if attempt >= self.policy.retries:
                    raise FetchError(f"timed out ({url}) after {attempt + 1} attempts") from None
            if wait is None:
                wait = self.policy.backoff * (2 ** attempt) * (0.5 + random.random())
            if time.monotonic() + wait >= deadline:
                raise FetchError(f"{problem} from {url}; retrying would overrun the page's "
                                 f"{self.policy.deadline:.0f} s deadline")
            attempt += 1
            if self._aborted.wait(wait):
                raise FetchAborted("the run was stopped before this page was fetched")

    def _deadline_error(self, url: str) -> FetchError:
        if self._aborted.is_set():
            return FetchAborted("the run was stopped while this page was fetched")
        return FetchError(f"took longer than the {self.policy.deadline:.0f} s allowed for one "
                          f"page ({url}); the server is too slow or sends data too slowly")

    def _request(self, url: str, site: SiteConfig, deadline: float) -> Hop:
        session = self._session()
        headers: dict[str, str] = {}
        auth = None
        creds = site.credentials
        if creds is not None and creds.applies_to(url):
            headers.update(creds.headers)
            if creds.cookies:
                headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in creds.cookies.items())
            auth = creds.basic_auth
        timeout = (self.policy.connect_timeout,
                   max(0.1, min(self.policy.read_timeout, deadline - time.monotonic())))
        response = session.get(url, headers=headers, auth=auth, timeout=timeout, stream=True,
                               allow_redirects=False)
        try:
            sent = list(response.request.headers.items())
            hop = Hop(url, "GET", sent, response.status_code, response.reason or "",
                      list(response.raw.headers.items()))
            if response.status_code in _REDIRECTS | {404, 410} or \
                    response.status_code >= 500 or response.status_code == 429:
                # Keep a little of the body for the evidence; do not read a large error page.
                hop.body = self._read(response, deadline, limit=64 * 1024, strict=False)
            else:
                _check_content_encoding(response.headers.get("content-encoding", ""), url)
                hop.body = self._read(response, deadline)
            return hop
        finally:
            response.close()

    def _read(self, response: requests.Response, deadline: float, limit: int | None = None,
              strict: bool = True) -> bytes:
        policy = self.policy
        declared = response.headers.get("content-length", "")
        if strict and declared.isdigit() and int(declared) > policy.max_bytes:
            raise FetchError(f"the page is {int(declared):,} bytes, over the "
                             f"{policy.max_bytes:,}-byte limit")
        raw = response.raw
        parts: list[bytes] = []
        size = 0
        cap = limit if limit is not None else policy.max_decoded
        while True:
            if time.monotonic() >= deadline:
                raise self._deadline_error(response.url)
            try:
                chunk = raw.read1(256 * 1024, decode_content=True)
            except Exception as exc:  # urllib3 wraps socket, protocol and decoding errors
                if time.monotonic() >= deadline or self._aborted.is_set():
                    raise self._deadline_error(response.url) from None
                if isinstance(exc, urllib3.exceptions.DecodeError):
                    coding = response.headers.get("content-encoding", "")
                    raise FetchError(f"the page is not valid {coding} data although the server "
                                     f"says it is (Content-Encoding: {coding}); the server "
                                     "sends a broken or mislabelled body") from None
                raise FetchError(f"the connection broke while reading the page: "
                                 f"{_reason(exc)}") from None
            if not chunk:
                break
            parts.append(chunk)
            size += len(chunk)
            if size > cap:
                if not strict:
                    break
                raise FetchError(f"the page decompresses to more than {cap:,} bytes (a "
                                 "compression bomb, or a page far larger than any article)")
            if raw.tell() > policy.max_bytes:
                raise FetchError(f"the page is over the {policy.max_bytes:,}-byte limit "
                                 "(the server kept sending)")
        return b"".join(parts)

    def _check_robots(self, url: str, deadline: float) -> None:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        with self._lock:
            parser = self._robots.get(origin)
        if parser is None:
            parser = self._load_robots(origin, deadline)
            with self._lock:
                self._robots[origin] = parser
        if parser is not False and not parser.can_fetch(url, "compliance"):
            raise FetchError(f"robots.txt at {origin}/robots.txt disallows {parts.path or '/'}; "
                             "ask the partner to allow the 'compliance' user agent, or set "
                             "'fetch: {robots: ignore}' in its rule file if it agreed to be "
                             "checked")

    def _robots_time(self) -> float:
        # A third of the page's deadline at most, so that a robots.txt that drips or never
        # ends leaves the page itself time to be fetched (as if there were no robots.txt).
        return min(20.0, self.policy.deadline / 3)

    def _load_robots(self, origin: str, deadline: float) -> Any:
        from protego import Protego

        try:
            with self._gate(origin).slot(deadline):
                hop = self._request(f"{origin}/robots.txt", SiteConfig(obey_robots=False),
                                    min(deadline, time.monotonic() + self._robots_time()))
        except (requests.RequestException, FetchError):
            return False  # unreachable robots.txt: treat as no restrictions
        if hop.status != 200:
            return False
        return Protego.parse(hop.body[:512 * 1024].decode("utf-8", errors="replace"))


_REDIRECTS = {300, 301, 302, 303, 307, 308}
# What the Accept-Encoding header offers, and what urllib3 decodes without optional packages.
_READABLE_ENCODINGS = {"", "identity", "gzip", "x-gzip", "deflate"}


def _check_content_encoding(value: str, url: str) -> None:
    """Refuse a body in a coding we did not offer: it would reach the checks as noise."""
    codings = [part.strip().lower() for part in value.split(",")]
    unknown = [c for c in codings if c not in _READABLE_ENCODINGS]
    if unknown:
        raise FetchError(f"the server sent the page with Content-Encoding {value.strip()!r}, "
                         "which was not asked for (Accept-Encoding: gzip, deflate) and cannot "
                         f"be read ({url}); the server must honour Accept-Encoding")


def _protocol_violation(exc: BaseException) -> str | None:
    """What the server got wrong, when http.client refused its reply (a status line that is
    not HTTP, more or longer header lines than any client accepts); None for network trouble."""
    pending: list[BaseException] = [exc]
    seen: set[int] = set()
    while pending:
        error = pending.pop()
        if id(error) in seen:
            continue
        seen.add(id(error))
        if isinstance(error, http.client.HTTPException) and not isinstance(
                error, (http.client.RemoteDisconnected, http.client.IncompleteRead)):
            detail = str(error).strip() or type(error).__name__
            if isinstance(error, http.client.BadStatusLine):
                detail = f"bad status line {detail[:80]!r}"
            return detail[:200]
        pending.extend(arg for arg in error.args if isinstance(arg, BaseException))
        pending.extend(e for e in (error.__cause__, error.__context__) if e is not None)
    return None


def _reason(exc: BaseException) -> str:
    text = str(exc)
    for marker in ("Connection reset by peer", "Connection refused", "Connection aborted",
                   "Read timed out", "Name or service not known", "IncompleteRead",
                   "RemoteDisconnected", "Remote end closed connection"):
        if marker in text:
            return marker
    return text[:200]


def redact(headers: list[tuple[str, str]], extra: frozenset[str] = frozenset()) -> list[tuple[str, str]]:
    """Headers safe to keep: credentials replaced by a marker."""
    secret = SENSITIVE_HEADERS | {h.lower() for h in extra}
    return [(k, "[redacted]" if k.lower() in secret else v) for k, v in headers]
