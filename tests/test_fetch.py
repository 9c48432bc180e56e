"""Fetching against a real, hostile HTTP server on 127.0.0.1: every misbehaviour ends in a
verdict or a clear error for that page, and the other pages are unaffected."""

from __future__ import annotations

import time

import pytest

from compliance.fetch import Credentials, Fetcher, FetchError, FetchPolicy, SiteConfig, parse_retry_after
from compliance.model import Target
from compliance.pipeline import Job, Pipeline
from compliance.rules import load_rulebook

from .conftest import RULES
from .hostile import HostileServer

POLICY = FetchPolicy(connect_timeout=2, read_timeout=1.5, deadline=4, retries=2, backoff=0.05,
                     max_retry_after=5, host_delay=0, per_host=8, concurrency=16,
                     max_bytes=2 * 1024 * 1024, max_decoded=5 * 1024 * 1024,
                     contact="https://compliance.invalid/tests")


@pytest.fixture(scope="module")
def server():
    with HostileServer() as running:
        yield running


def fetch_error(server: HostileServer, path: str) -> str:
    with pytest.raises(FetchError) as caught:
        Fetcher(POLICY).fetch(server.base + path)
    return str(caught.value)


def test_plain_page_redirect_and_user_agent(server):
    fetched = Fetcher(POLICY).fetch(server.base + "/moved")
    assert fetched.status == 200
    assert fetched.final_url == server.base + "/ok/after-move"
    assert fetched.redirects == [server.base + "/ok/after-move"]
    assert b"reprinted with permission" in fetched.body
    assert fetched.charset == "utf-8"
    agent = dict(server.seen_headers)["/moved"]["User-Agent"]
    assert agent == ("compliance/0.1.0 (licence compliance checker; "
                     "+https://compliance.invalid/tests)")


def test_redirect_loop(server):
    assert fetch_error(server, "/loop-a") == (
        f"redirect loop: {server.base}/loop-a -> {server.base}/loop-b -> {server.base}/loop-a")


def test_429_with_retry_after_is_honoured_then_succeeds(server):
    start = time.monotonic()
    fetched = Fetcher(POLICY).fetch(server.base + "/429-then-ok")
    assert fetched.status == 200
    assert time.monotonic() - start >= 1.0, "waited the second Retry-After asked for"
    assert server.hits["/429-then-ok"] == 2


def test_retry_after_beyond_the_cap_is_a_clear_error(server):
    assert fetch_error(server, "/429-forever") == (
        "HTTP 429 Too Many Requests: the server asks us to wait 3600 s (Retry-After), more than "
        "the 5 s we allow; the page will be tried again on the next run")


def test_503_then_200_is_retried(server):
    assert Fetcher(POLICY).fetch(server.base + "/503-then-ok").status == 200
    assert server.hits["/503-then-ok"] == 2


def test_gone(server):
    with pytest.raises(FetchError) as caught:
        Fetcher(POLICY).fetch(server.base + "/gone")
    assert caught.value.gone and caught.value.status == 404
    assert str(caught.value) == f"page gone: HTTP 404 from {server.base}/gone"


def test_wrong_content_type(server):
    assert fetch_error(server, "/image") == (
        f"not an HTML page: Content-Type is image/png ({server.base}/image)")


def test_content_encoding_not_asked_for_is_an_error(server):
    assert fetch_error(server, "/brotli") == (
        "the server sent the page with Content-Encoding 'br', which was not asked for "
        f"(Accept-Encoding: gzip, deflate) and cannot be read ({server.base}/brotli); the "
        "server must honour Accept-Encoding")


def test_body_that_is_not_the_encoding_it_claims(server):
    assert fetch_error(server, "/bad-gzip") == (
        "the page is not valid gzip data although the server says it is (Content-Encoding: "
        "gzip); the server sends a broken or mislabelled body")


@pytest.mark.parametrize(("path", "detail"), [
    ("/many-headers", "got more than 100 headers"),
    ("/huge-header", "got more than 65536 bytes when reading header line"),
])
def test_headers_no_client_accepts_are_named_and_not_retried(server, path, detail):
    before = server.hits[path]
    assert fetch_error(server, path) == (
        f"the server's reply is not valid HTTP: {detail} ({server.base}{path}); the server or a "
        "proxy in front of it is broken")
    assert server.hits[path] == before + 1


def test_redirect_whose_location_is_not_utf8_is_followed(server):
    fetched = Fetcher(POLICY).fetch(server.base + "/redirect-latin1")
    assert fetched.status == 200
    assert fetched.final_url == server.base + "/ok/caf\u00e9"


@pytest.mark.parametrize(("path", "message"), [
    ("/301-no-location", "HTTP 301 Moved Permanently from {base}/301-no-location with no "
                         "Location to follow"),
    ("/partial", "HTTP 206 Partial Content from {base}/partial: the server sent part of the "
                 "page, though all of it was asked for"),
    ("/no-content", "HTTP 204 No Content from {base}/no-content: the server sent no page"),
])
def test_replies_that_carry_no_whole_page_are_errors(server, path, message):
    assert fetch_error(server, path) == message.format(base=server.base)


def test_gzip_bomb_is_stopped(server):
    assert fetch_error(server, "/gzip-bomb") == (
        "the page decompresses to more than 5,242,880 bytes (a compression bomb, or a page far "
        "larger than any article)")


def test_endless_body_is_stopped(server):
    message = fetch_error(server, "/endless")
    assert message.startswith("the page ")
    assert "5,242,880" in message or "2,097,152" in message


def test_slow_drip_hits_the_deadline(server):
    start = time.monotonic()
    assert fetch_error(server, "/drip") == (
        f"took longer than the 4 s allowed for one page ({server.base}/drip); the server is "
        "too slow or sends data too slowly")
    assert time.monotonic() - start < 8


def test_server_that_never_answers(server):
    start = time.monotonic()
    message = fetch_error(server, "/never")
    assert message.startswith(("took longer than the 4 s", "timed out"))
    assert time.monotonic() - start < 8


def test_connection_reset(server):
    message = fetch_error(server, "/reset")
    assert message.startswith("connection failed:")
    assert message.endswith("after 3 attempts")


def test_robots_disallow_and_partner_override(server):
    assert fetch_error(server, "/private/report") == (
        f"robots.txt at {server.base}/robots.txt disallows /private/report; ask the partner to "
        "allow the 'compliance' user agent, or set 'fetch: {robots: ignore}' in its rule file if "
        "it agreed to be checked")
    fetched = Fetcher(POLICY).fetch(server.base + "/private/report", SiteConfig(obey_robots=False))
    assert fetched.status == 200


def test_robots_txt_that_drips_leaves_the_page_its_time():
    # The wait for robots.txt is capped at a third of the page's deadline; the rest is the
    # page's, and an unreadable robots.txt counts as none.
    with HostileServer(robots_drip=True) as dripping:
        fetched = Fetcher(POLICY).fetch(dripping.base + "/ok/page")
    assert fetched.status == 200 and b"reprinted with permission" in fetched.body


def test_credentials_go_only_to_the_partner_site(server):
    creds = Credentials({"X-Api-Key": "k-123"}, {"session": "s-456"}, ("amn", "pw"),
                        domains=("127.0.0.1",))
    Fetcher(POLICY).fetch(server.base + "/ok/secret", SiteConfig(True, creds))
    sent = dict(server.seen_headers)["/ok/secret"]
    assert sent["X-Api-Key"] == "k-123"
    assert sent["Cookie"] == "session=s-456"
    assert sent["Authorization"].startswith("Basic ")
    elsewhere = Credentials({"X-Api-Key": "k-123"}, domains=("partner.example",))
    Fetcher(POLICY).fetch(server.base + "/ok/public", SiteConfig(True, elsewhere))
    assert "X-Api-Key" not in dict(server.seen_headers)["/ok/public"]


def test_retry_after_http_date():
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert parse_retry_after("soon") is None


def test_every_hostile_page_gets_a_result_and_the_others_are_unaffected(server):
    book = load_rulebook(RULES)
    paths = ["/ok/1", "/drip", "/loop-a", "/429-then-ok", "/503-then-ok", "/gzip-bomb",
             "/endless", "/image", "/undecodable", "/reset", "/private/x", "/never", "/gone",
             "/ok/2", "/moved", "/header-drip", "/garbage", "/short-body", "/empty", "/to-ftp",
             "/brotli", "/bad-gzip", "/many-headers", "/huge-header", "/redirect-latin1",
             "/301-no-location", "/partial", "/no-content"]
    jobs = [Job(i, Target("american-military-news", server.base + path,
                          original_url="https://www.rferl.org/a/x/1.html"))
            for i, path in enumerate(paths)]
    pipeline = Pipeline(book, RULES, Fetcher(POLICY), processes=1)
    start = time.monotonic()
    results = [outcome.result for outcome in pipeline.run(jobs)]
    assert time.monotonic() - start < 20, "hostile pages are handled in parallel, within deadlines"
    assert [r.target.location for r in results] == [server.base + p for p in paths]
    statuses = {p: r.status for p, r in zip(paths, results, strict=True)}
    assert statuses == {
        "/ok/1": "pass", "/drip": "error", "/loop-a": "error", "/429-then-ok": "pass",
        "/503-then-ok": "pass", "/gzip-bomb": "error", "/endless": "error", "/image": "error",
        "/undecodable": "fail", "/reset": "error", "/private/x": "error", "/never": "error",
        "/gone": "error", "/ok/2": "pass", "/moved": "pass", "/header-drip": "error",
        "/garbage": "error", "/short-body": "error", "/empty": "error", "/to-ftp": "error",
        "/brotli": "error", "/bad-gzip": "error", "/many-headers": "error",
        "/huge-header": "error", "/redirect-latin1": "pass", "/301-no-location": "error",
        "/partial": "error", "/no-content": "error",
    }
    errors = {p: r.error for p, r in zip(paths, results, strict=True)}
    assert errors["/header-drip"] == (f"took longer than the 4 s allowed for one page "
                                      f"({server.base}/header-drip); the server is too slow or "
                                      "sends data too slowly")
    assert errors["/to-ftp"] == "redirected to a non-web URL 'ftp://127.0.0.1/file.html'"
    assert errors["/empty"] == f"{server.base}/empty: the page is empty"
    assert errors["/short-body"].startswith("the connection broke while reading the page")
    assert errors["/garbage"] == (
        f"the server's reply is not valid HTTP: bad status line '\\x00\\x01NOT HTTP AT ALL' "
        f"({server.base}/garbage); the server or a proxy in front of it is broken")
    gone = results[paths.index("/gone")]
    assert gone.fetch is not None and gone.fetch["gone"] is True and gone.fetch["http_status"] == 404
    undecodable = results[paths.index("/undecodable")]
    assert undecodable.notes[0] == "bytes are not valid utf-8 as declared in HTTP header"
    assert undecodable.notes[1].startswith(("encoding detected as", "encoding unknown"))


# Pieces of replies that servers in the wild have sent, combined at random (with a fixed seed).
_STATUS = [b"200 OK", b"200 \xe9\xff", b"301 Moved", b"302 Found", b"404 Not Found", b"500 Oops",
           b"204 No Content", b"999 Weird", b"200", b"abc", b"", b"-1 Negative"]
_HEADERS = [b"Content-Type: text/html", b"Content-Type: text/html; charset=\xff\xfe",
            b"Content-Type: text/html; charset=utf-16", b"Location: /p/\xe9\x00x",
            b"Location: http://[::1", b"Location: //", b"Location: javascript:alert(1)",
            b"Content-Length: -5", b"Content-Length: abc", b"Transfer-Encoding: chunked",
            b"Content-Encoding: gzip", b"Content-Encoding: deflate, br", b"Retry-After: -3",
            b"Set-Cookie: \xff=\xfe; Path=/", b"X-\xff: \x01\x7f", b"Link: <\xe9>; rel=canonical"]
_BODIES = [b"<html><body><p>caf\xe9 \x00 \x1b[2J</p></body></html>", b"\x1f\x8b\x08\x00junk",
           b"0\r\n\r\n", b"zz\r\nbad chunk\r\n", b"<p>" + bytes(range(256)) + b"</p>", b"",
           b"<meta charset='utf-16'><p>x</p>", b"\xef\xbb\xbf<p>\xff</p>"]


@pytest.mark.parametrize("processes", [1, 2], ids=["in-process", "worker-processes"])
def test_random_broken_replies_never_stop_the_run(tmp_path, processes):
    import random
    import socket
    import threading

    from compliance.evidence import EvidenceWriter

    chance = random.Random(20261128)
    lock = threading.Lock()

    def reply(conn: socket.socket) -> None:
        with conn:
            conn.settimeout(3)
            request = b""
            while b"\r\n\r\n" not in request:
                data = conn.recv(4096)
                if not data:
                    return
                request += data
            if request.startswith(b"GET /robots.txt"):
                conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                return
            with lock:
                head = b"HTTP/1.1 " + chance.choice(_STATUS) + b"\r\n" + b"".join(
                    chance.choice(_HEADERS) + b"\r\n" for _ in range(chance.randint(0, 5)))
                body = chance.choice(_BODIES)
                if chance.random() < 0.7:
                    head += b"Content-Length: " + str(len(body)).encode() + b"\r\n"
            conn.sendall(head + b"\r\n" + body)

    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=reply, args=(conn,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    port = listener.getsockname()[1]
    jobs = [Job(i, Target("american-military-news", f"http://127.0.0.1:{port}/p/{i}",
                          original_url="https://www.rferl.org/a/x/1.html")) for i in range(80)]
    evidence = EvidenceWriter(tmp_path / "evidence.warc.gz")
    pipeline = Pipeline(load_rulebook(RULES), RULES, Fetcher(POLICY), evidence,
                        processes=processes)
    try:
        results = [outcome.result for outcome in pipeline.run(jobs)]
    finally:
        evidence.close()
        listener.close()
    assert [r.target.location for r in results] == [job.target.location for job in jobs]
    assert all(r.status in {"pass", "fail", "error"} for r in results)
