"""Evidence that holds up: every exchange with a partner's site, in a WARC file (warcio).

Each fetch adds a request record and a response record per hop (redirects included).
Credentials are redacted from the request records. The response record of the page that was
judged is named in the report by its WARC-Record-ID, with the fetch time and the SHA-256 of the
body we judged (decompressed, exactly as the checks saw it).
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from . import __version__
from .fetch import Hop, redact

# Headers describing the wire encoding no longer apply: the record keeps the decoded body.
_WIRE_HEADERS = {"content-encoding", "transfer-encoding", "content-length"}


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


class EvidenceWriter:
    """Appends to ``<run>/evidence.warc.gz``. Used from one thread (the run's main loop)."""

    def __init__(self, path: Path, truncate_at: int | None = None) -> None:
        self.path = path
        existing = path.exists()
        self._file: BinaryIO = path.open("r+b" if existing else "wb")
        if existing:
            # Bytes after the last record a result points to belong to a page that was never
            # reported (the run was killed mid-write); they go, and the page is fetched again.
            self._file.truncate(truncate_at or 0)
            self._file.seek(0, io.SEEK_END)
        self._writer = WARCWriter(self._file, gzip=True)
        if self._file.tell() == 0:
            self._write_warcinfo()

    def _write_warcinfo(self) -> None:
        record = self._writer.create_warcinfo_record(
            self.path.name, {"software": f"compliance/{__version__}",
                             "format": "WARC File Format 1.1",
                             "description": "Pages fetched by a compliance run; response bodies "
                                            "are stored decoded, as judged."})
        self._writer.write_record(record)

    def record(self, hops: list[Hop], fetched_at: str,
               secret_headers: frozenset[str] = frozenset()) -> EvidenceRef | None:
        """Write every hop; return a reference to the last response (the page judged)."""
        ref: EvidenceRef | None = None
        for hop in hops:
            offset = self._file.tell()
            parts = urlsplit(hop.url)
            path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            request = self._writer.create_warc_record(
                hop.url, "request", payload=io.BytesIO(b""), length=0,
                warc_headers_dict={"WARC-Date": _warc_date(fetched_at)},
                http_headers=StatusAndHeaders(f"{hop.method} {path} HTTP/1.1",
                                              redact(hop.request_headers, secret_headers),
                                              is_http_request=True),
            )
            headers = [(k, v) for k, v in hop.response_headers if k.lower() not in _WIRE_HEADERS]
            headers.append(("Content-Length", str(len(hop.body))))
            digest = hashlib.sha256(hop.body).hexdigest()
            response = self._writer.create_warc_record(
                hop.url, "response", payload=io.BytesIO(hop.body), length=len(hop.body),
                warc_headers_dict={
                    "WARC-Date": _warc_date(fetched_at),
                    "WARC-Concurrent-To": request.rec_headers.get_header("WARC-Record-ID"),
                    "WARC-Compliance-Body-SHA256": digest,
                },
                http_headers=StatusAndHeaders(f"{hop.status} {hop.reason}",
                                              redact(headers, secret_headers), protocol="HTTP/1.1"),
            )
            self._writer.write_record(request)
            self._writer.write_record(response)
            self._file.flush()
            ref = EvidenceRef(self.path.name, response.rec_headers.get_header("WARC-Record-ID"),
                              offset, self._file.tell(), digest, fetched_at)
        return ref

    def close(self) -> None:
        self._file.close()


def _warc_date(iso: str) -> str:
    return iso.replace("+00:00", "Z")
