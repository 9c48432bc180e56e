"""Evidence that holds up: every exchange with a partner's site, in a WARC file (warcio).

Each fetch adds a request record and a response record per hop (redirects included).
Credentials are redacted from the request records. The response record of the page that was
judged is named in the report by its WARC-Record-ID, with the fetch time and the SHA-256 of the
body we judged (decompressed, exactly as the checks saw it).
"""

from __future__ import annotations

import base64
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote, urlsplit

from requests.utils import requote_uri
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from . import __version__
from .fetch import Hop, redact

try:
    # ISA-L's deflate writes standard gzip members four to five times faster than zlib at the
    # same ratio; compressing the evidence was the largest cost per page after parsing.
    from isal.igzip import compress as _gzip
except ImportError:  # pragma: no cover - a platform without an isal wheel
    from gzip import compress as _gzip  # type: ignore[assignment]

# Headers describing the wire encoding no longer apply: the record keeps the decoded body.
_WIRE_HEADERS = {"content-encoding", "transfer-encoding", "content-length"}
# warcio's own writer uses level 9, which costs several times the CPU of parsing the page;
# level 1 keeps most of the saving on HTML for a fraction of the time.
_LEVEL = 1


@dataclass(frozen=True)
class EvidenceRef:
    warc: str
    record_id: str
    offset: int
    end: int
    sha256: str
    fetched_at: str

    def to_dict(self) -> dict[str, object]:
        return {"warc": self.warc, "record_id": self.record_id, "offset": self.offset,
                "sha256": self.sha256, "fetched_at": self.fetched_at}


@dataclass(frozen=True)
class EvidenceBlob:
    """The WARC records of one fetch, ready to append: one gzip member per record."""

    data: bytes
    record_id: str
    sha256: str
    fetched_at: str


def build_records(hops: list[Hop], fetched_at: str,
                  secret_headers: frozenset[str] = frozenset()) -> EvidenceBlob | None:
    """Serialise and compress the records of one fetch.

    Runs in a worker process (or the fetching thread without one); each record is its own
    gzip member, as the WARC standard recommends.
    """
    if not hops:
        return None
    members: list[bytes] = []
    record_id = digest = ""
    writer = WARCWriter(io.BytesIO(), gzip=False)
    for hop in hops:
        # The URL as it went on the wire: requests percent-encodes a path written in Unicode
        # (a Cyrillic slug pasted into a manifest, a redirect to one), and WARC headers are
        # ASCII.
        uri = requote_uri(hop.url)
        parts = urlsplit(uri)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        request = writer.create_warc_record(
            uri, "request", payload=io.BytesIO(b""), length=0,
            warc_headers_dict={"WARC-Date": _warc_date(fetched_at)},
            http_headers=StatusAndHeaders(f"{hop.method} {path} HTTP/1.1",
                                          _ascii_headers(redact(hop.request_headers,
                                                                secret_headers)),
                                          is_http_request=True),
        )
        headers = [(k, v) for k, v in hop.response_headers if k.lower() not in _WIRE_HEADERS]
        headers.append(("Content-Length", str(len(hop.body))))
        sha = hashlib.sha256(hop.body)
        digest = sha.hexdigest()
        response = writer.create_warc_record(
            uri, "response", payload=io.BytesIO(hop.body), length=len(hop.body),
            warc_headers_dict={
                "WARC-Date": _warc_date(fetched_at),
                "WARC-Concurrent-To": request.rec_headers.get_header("WARC-Record-ID"),
                # SHA-256 (WARC 1.1 allows any algorithm): the hash the report quotes, and
                # warcio then has no need to hash the body again with SHA-1.
                "WARC-Payload-Digest": "sha256:" + base64.b32encode(sha.digest()).decode(),
            },
            # http.client reads the status line as Latin-1; the record's must be ASCII.
            http_headers=StatusAndHeaders(f"{hop.status} {_ascii(hop.reason)}",
                                          _ascii_headers(redact(headers, secret_headers)),
                                          protocol="HTTP/1.1"),
        )
        for record in (request, response):
            buffer = io.BytesIO()
            WARCWriter(buffer, gzip=False).write_record(record)
            members.append(_gzip(buffer.getvalue(), compresslevel=_LEVEL))
        record_id = response.rec_headers.get_header("WARC-Record-ID")
    return EvidenceBlob(b"".join(members), record_id, digest, fetched_at)


class EvidenceWriter:
    """Appends to ``<run>/evidence.warc.gz``, from the run's main loop only."""

    def __init__(self, path: Path, truncate_at: int | None = None) -> None:
        self.path = path
        existing = path.exists()
        self._file: BinaryIO = path.open("r+b" if existing else "wb")
        if existing:
            # Bytes after the last record a result points to belong to a page that was never
            # reported (the run was killed mid-write); they go, and the page is fetched again.
            self._file.truncate(truncate_at or 0)
            self._file.seek(0, io.SEEK_END)
        if self._file.tell() == 0:
            self._write_warcinfo()

    def _write_warcinfo(self) -> None:
        writer = WARCWriter(self._file, gzip=True)
        record = writer.create_warcinfo_record(
            self.path.name, {"software": f"compliance/{__version__}",
                             "format": "WARC File Format 1.1",
                             "description": "Pages fetched by a compliance run; response bodies "
                                            "are stored decoded, as judged."})
        writer.write_record(record)
        self._file.flush()

    def append(self, blob: EvidenceBlob) -> EvidenceRef:
        offset = self._file.tell()
        self._file.write(blob.data)
        self._file.flush()
        return EvidenceRef(self.path.name, blob.record_id, offset, self._file.tell(), blob.sha256,
                           blob.fetched_at)

    def close(self) -> None:
        self._file.close()


def _ascii(text: str) -> str:
    return text.encode("ascii", "replace").decode("ascii")


# Printable ASCII but "%": what a header may keep as it is in the record.
_HEADER_SAFE = "".join(chr(c) for c in range(0x20, 0x7F) if chr(c) != "%")


def _ascii_headers(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Headers a WARC record can hold: ASCII only (warcio gives up on a non-ASCII header name,
    and on some non-ASCII values), each other byte percent-encoded as it came. http.client
    reads header bytes as Latin-1, so encoding to Latin-1 gives the bytes back."""
    def one(text: str) -> str:
        if text.isascii() and text.isprintable():
            return text
        return quote(text.encode("latin-1", errors="replace"), safe=_HEADER_SAFE)

    return [(one(name), one(value)) for name, value in headers]


def _warc_date(iso: str) -> str:
    return iso.replace("+00:00", "Z")
