"""The polite defaults for fetching partner sites, in one place.

Kept apart from :mod:`compliance.fetch` so that the command line can show them without
importing an HTTP stack.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from . import __version__

CONTACT_URL = os.environ.get("COMPLIANCE_CONTACT", "https://compliance.invalid/bot")


@dataclass(frozen=True)
class FetchPolicy:
    """How we treat partner sites. The defaults are the polite ones; tests and the demo, which
    talk to a server of their own on loopback, may relax the host delay."""

    contact: str = CONTACT_URL
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    deadline: float = 90.0
    """Total time for one page: connecting, redirects, retries and the body."""
    max_bytes: int = 15 * 1024 * 1024
    """Bytes received on the wire for one response."""
    max_decoded: int = 40 * 1024 * 1024
    """Bytes after decompression: stops a compression bomb."""
    max_redirects: int = 5
    retries: int = 3
    backoff: float = 1.0
    max_retry_after: float = 120.0
    concurrency: int = 16
    per_host: int = 2
    host_delay: float = 1.0
    obey_robots: bool = True

    @property
    def user_agent(self) -> str:
        return f"compliance/{__version__} (licence compliance checker; +{self.contact})"
