"""A real HTTP server on 127.0.0.1 that misbehaves on purpose, one path per behaviour."""

from __future__ import annotations

import gzip
import os
import socket
import struct
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PAGE = (b"<!DOCTYPE html><html><head><meta charset='utf-8'><title>Reprint</title></head><body>"
        b"<article><h1>A reprint</h1><div class='entry-content'><p>Some article text that is "
        b"long enough to be the body of the story, with a second sentence.</p>"
        b"<p><em>This article was originally published by <a href='https://www.rferl.org/a/x/1.html'>"
        b"Radio Free Europe/Radio Liberty</a> and is reprinted with permission.</em></p>"
        b"</div></article></body></html>")
# 200 MB of zeros compress to about 200 KB: a decompression bomb.
BOMB = gzip.compress(b"\0" * (200 * 1024 * 1024), compresslevel=9)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: HostileServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def send(self, status: int, body: bytes = b"", content_type: str = "text/html; charset=utf-8",
             headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def drip(self, byte: bytes, content_type: str, every: float) -> None:
        """A body that promises 100,000 bytes and sends one every ``every`` seconds, until the
        client gives up or the server stops."""
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", "100000")
        self.end_headers()
        try:
            for _ in range(100000):
                if self.server.stopping.wait(every):
                    break
                self.wfile.write(byte)
                self.wfile.flush()
        except OSError:
            pass

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        with self.server.lock:
            self.server.hits[self.path] += 1
            hits = self.server.hits[self.path]
            self.server.seen_headers.append((path, dict(self.headers.items())))
        if path == "/robots.txt":
            if self.server.robots_drip:
                return self.drip(b"#", "text/plain", every=0.5)
            return self.send(200, b"User-agent: *\nDisallow: /private/\n", "text/plain")
        if path.startswith("/ok") or path.startswith("/private/") or path.startswith("/page/"):
            return self.send(200, PAGE)
        if path.startswith("/slow/"):
            time.sleep(float(path.rsplit("/", 1)[1]))
            return self.send(200, PAGE)
        if path == "/moved":
            return self.send(301, headers={"Location": "/ok/after-move"})
        if path == "/loop-a":
            return self.send(302, headers={"Location": "/loop-b"})
        if path == "/loop-b":
            return self.send(302, headers={"Location": "/loop-a"})
        if path == "/gone":
            return self.send(404, b"<h1>Not found</h1>")
        if path == "/429-then-ok":
            if hits == 1:
                return self.send(429, b"slow down", headers={"Retry-After": "1"})
            return self.send(200, PAGE)
        if path == "/429-forever":
            return self.send(429, b"slow down", headers={"Retry-After": "3600"})
        if path == "/503-then-ok":
            if hits == 1:
                return self.send(503, b"busy")
            return self.send(200, PAGE)
        if path == "/image":
            return self.send(200, b"\x89PNG\r\n\x1a\n" + b"\0" * 100, "image/png")
        if path == "/undecodable":
            return self.send(200, b"<html><body><p>" + bytes(range(128, 256)) * 50 + b"</p></body></html>")
        if path == "/redirect-latin1":  # a Location header that is not UTF-8
            self.send_response(302)
            self.send_header("Location", "/ok/caf\u00e9")  # http.server sends it as latin-1
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        if path == "/301-no-location":
            return self.send(301, b"moved somewhere")
        if path == "/partial":
            return self.send(206, PAGE[:80], headers={"Content-Range": f"bytes 0-79/{len(PAGE)}"})
        if path == "/no-content":
            self.send_response(204)
            self.end_headers()
            return None
        if path == "/brotli":  # an encoding the client never asked for
            return self.send(200, os.urandom(2000), headers={"Content-Encoding": "br"})
        if path == "/bad-gzip":  # says gzip, is not
            return self.send(200, PAGE, headers={"Content-Encoding": "gzip"})
        if path == "/many-headers":  # more header lines than any client keeps
            return self.send(200, PAGE, headers={f"X-Filler-{i}": "x" for i in range(150)})
        if path == "/huge-header":
            return self.send(200, PAGE, headers={"Set-Cookie": "a=" + "x" * 100_000})
        if path == "/gzip-bomb":
            return self.send(200, BOMB, headers={"Content-Encoding": "gzip"})
        if path == "/endless":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            try:
                while not self.server.stopping.is_set():
                    self.wfile.write(b"<p>" + b"more " * 2000 + b"</p>\n")
            except OSError:
                pass
            return None
        if path == "/drip":
            return self.drip(b"<", "text/html", every=0.2)
        if path == "/header-drip":
            # The status line and headers, one byte at a time: no read timeout ever fires.
            try:
                for byte in b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Slow: " + b"a" * 500:
                    if self.server.stopping.wait(0.05):
                        break
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
            except OSError:
                pass
            self.close_connection = True
            return None
        if path == "/garbage":
            self.wfile.write(b"\x00\x01NOT HTTP AT ALL\r\n\r\n")
            self.close_connection = True
            return None
        if path == "/short-body":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", "100000")
            self.end_headers()
            self.wfile.write(b"<html><body><p>cut short")
            self.close_connection = True
            return None
        if path == "/empty":
            return self.send(200, b"")
        if path == "/to-ftp":
            return self.send(302, headers={"Location": "ftp://127.0.0.1/file.html"})
        if path == "/reset":
            # Close with RST instead of FIN: the client sees "connection reset by peer".
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            os.close(self.connection.detach())  # the buffered files still hold the socket object
            self.close_connection = True
            return None
        if path == "/never":
            self.server.stopping.wait(120)
            return None
        return self.send(404, b"unknown test path")


class HostileServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, robots_drip: bool = False) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.robots_drip = robots_drip
        self.hits: Counter[str] = Counter()
        self.seen_headers: list[tuple[str, dict[str, str]]] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients that give up on a hostile path reset the connection; that is expected

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def __enter__(self) -> HostileServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.shutdown()
        self.server_close()
