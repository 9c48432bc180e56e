"""Read local targets: paths, file:// URLs and standard input.

Remote (http/https) targets are fetched elsewhere; this module never touches the network.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .errors import PageError
from .model import Target
from .page import Page

# Drafts and saved pages are small; a cap keeps a mistaken path (a disk image, /dev/zero) harmless.
MAX_LOCAL_BYTES = 50 * 1024 * 1024


def is_remote(location: str) -> bool:
    return location.lower().startswith(("http://", "https://"))


def is_blank(data: bytes) -> bool:
    """Empty or white space only. Not ``data.strip()``: that copies the whole page to learn
    that it is not empty."""
    return not data or data.isspace()


def local_path(location: str) -> Path:
    if location.lower().startswith("file:"):
        parts = urlsplit(location)
        if parts.netloc not in {"", "localhost"}:
            raise PageError(f"{location}: file:// URLs must name a local file (no host)")
        return Path(unquote(parts.path))
    return Path(location)


def read_bytes(target: Target) -> tuple[bytes, str | None]:
    """The bytes of a local target and its file:// URL (None for stdin)."""
    location = target.location
    if location == "-":
        data = sys.stdin.buffer.read(MAX_LOCAL_BYTES + 1)
        url = None
    else:
        path = local_path(location)
        try:
            with path.open("rb") as handle:
                # Ask for what the file holds, not the cap: read(n) allocates n bytes first.
                size = os.fstat(handle.fileno()).st_size
                data = handle.read(min(size, MAX_LOCAL_BYTES) + 1)
                if len(data) > size:  # no size known (a pipe), or the file grew meanwhile
                    data += handle.read(MAX_LOCAL_BYTES + 1 - len(data))
        except FileNotFoundError:
            raise PageError(f"{location}: no such file") from None
        except IsADirectoryError:
            raise PageError(f"{location}: is a folder, not an HTML file") from None
        except OSError as exc:
            raise PageError(f"{location}: cannot read: {exc.strerror or exc}") from None
        url = path.resolve().as_uri()
    if len(data) > MAX_LOCAL_BYTES:
        raise PageError(f"{location}: larger than {MAX_LOCAL_BYTES // (1024 * 1024)} MiB; "
                        "is this an HTML page?")
    if is_blank(data):
        raise PageError(f"{location}: the file is empty")
    return data, url


def read_local(target: Target) -> Page:
    data, url = read_bytes(target)
    try:
        return Page.from_bytes(data, target, url=url)
    except PageError as exc:
        raise PageError(f"{target.location}: {exc}") from None
