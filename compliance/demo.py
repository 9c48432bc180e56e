"""``compliance demo``: the nightly job against the bundled demo site, served on loopback.

The site (``fixtures/site/``) holds reprints by several partners of two publishers, some
compliant and some not, in the markup of real CMSs. Its ``manifest.csv`` names pages as
``{site}/path``; the demo fills in the address of its own server on 127.0.0.1. Its
``_redirects.txt`` lists moved pages (``/old/path /new/path`` per line).
"""

from __future__ import annotations

import contextlib
import functools
import tempfile
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

from .errors import UsageError
from .policy import FetchPolicy
from .runner import RunOptions, nightly


class _SiteHandler(SimpleHTTPRequestHandler):
    redirects: ClassVar[dict[str, str]] = {}

    def do_GET(self) -> None:
        target = self.redirects.get(self.path)
        if target is not None:
            self.send_response(301)
            self.send_header("Location", target)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        super().do_GET()

    def log_message(self, format: str, *args: Any) -> None:  # the run log says what matters
        pass


DEFAULT_PORT = 8631


@contextlib.contextmanager
def serve(site: Path, port: int = 0) -> Iterator[str]:
    """Serve ``site`` on 127.0.0.1 for the duration; yield its base URL. Port 0 takes any free
    port; the demo's default is fixed, so that run history knows the pages again next time."""
    redirects: dict[str, str] = {}
    listing = site / "_redirects.txt"
    if listing.exists():
        for line in listing.read_text("utf-8").splitlines():
            parts = line.split()
            if len(parts) == 2 and not line.startswith("#"):
                redirects[parts[0]] = parts[1]
    handler = type("Handler", (_SiteHandler,), {"redirects": redirects})
    try:
        server = ThreadingHTTPServer(("127.0.0.1", port),
                                     functools.partial(handler, directory=str(site)))
    except OSError as exc:
        raise UsageError(f"cannot serve the demo site on 127.0.0.1:{port}: {exc.strerror}; "
                         "pass another --port") from None
    thread = threading.Thread(target=server.serve_forever, name="demo-site", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def run_demo(site: Path, rules: Path, reports: Path,
             port: int = DEFAULT_PORT) -> tuple[int, Path]:
    template = site / "manifest.csv"
    if not template.exists():
        raise UsageError(f"{template}: no demo manifest; run the demo from the repository root "
                         "or pass --site")
    with serve(site, port) as base, tempfile.TemporaryDirectory(prefix="compliance-demo-") as tmp:
        manifest = Path(tmp) / "manifest.csv"
        manifest.write_text(template.read_text("utf-8").replace("{site}", base), "utf-8")
        # Our own server on loopback: no need to space requests out as for a partner's site.
        policy = FetchPolicy(host_delay=0.0, per_host=8, deadline=30.0, retries=1, backoff=0.2)
        code, run = nightly(RunOptions(manifests=[manifest], rules=rules, reports=reports,
                                       policy=policy))
    return code, run.dir
