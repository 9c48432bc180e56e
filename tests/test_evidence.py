"""WARC records of a fetch: what a hostile server sends is kept, as ASCII the format allows."""

from __future__ import annotations

import io

from warcio.archiveiterator import ArchiveIterator

from compliance.evidence import build_records
from compliance.fetch import Hop


def records(hops: list[Hop]) -> list:
    blob = build_records(hops, "2026-11-28T02:00:00+00:00")
    assert blob is not None
    return [(r.rec_type, r.rec_headers.get_header("WARC-Target-URI"), r.http_headers,
             r.content_stream().read()) for r in ArchiveIterator(io.BytesIO(blob.data))]


def test_non_ascii_url_reason_and_headers_are_percent_encoded_as_they_came():
    hop = Hop(url="http://127.0.0.1:8631/новости/café?q=ü", method="GET",
              request_headers=[("User-Agent", "compliance/test"), ("Cookie", "s=secret")],
              status=200, reason="OK \u00e9",
              response_headers=[("Content-Type", "text/html"), ("X-\u00ff", "v"),
                                ("Link", "<\u00e9>; rel=canonical"), ("X-Ctl", "a\x00b")],
              body=b"<p>page</p>")
    (request, uri, sent, _), (response, uri2, got, body) = records([hop])
    encoded = "http://127.0.0.1:8631/%D0%BD%D0%BE%D0%B2%D0%BE%D1%81%D1%82%D0%B8/caf%C3%A9?q=%C3%BC"
    assert (request, uri, response, uri2) == ("request", encoded, "response", encoded)
    assert sent.protocol == "GET" and sent.statusline.startswith(
        "/%D0%BD%D0%BE%D0%B2%D0%BE%D1%81%D1%82%D0%B8/caf%C3%A9?q=%C3%BC")
    assert sent.get_header("Cookie") == "[redacted]"
    assert got.statusline == "200 OK ?"
    assert got.headers == [("Content-Type", "text/html"), ("X-%FF", "v"),
                           ("Link", "<%E9>; rel=canonical"), ("X-Ctl", "a%00b"),
                           ("Content-Length", "11")]
    assert body == b"<p>page</p>"
