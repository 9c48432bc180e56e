"""HTML: one self-contained file for people: totals by partner and by obligation, then every
page, failing ones with what was expected, what was found, where, how to fix it, and the
evidence hash and fetch time. Filters by partner and status work offline.

Rendered by Jinja2 with autoescaping; links are made only for http(s) URLs; and a
Content-Security-Policy allows only this report's own script and style (by hash), so even text
that slipped through could not run.
"""

from __future__ import annotations

import base64
import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable
from functools import cache
from importlib import resources
from typing import Any, TextIO
from urllib.parse import urlsplit

from .. import __version__
from ..model import PageResult
from .summary import ReportContext, Tally, problems, replayable

SUFFIX = ".html"


@cache
def _assets() -> tuple[Any, str, str]:
    import jinja2  # only reports in HTML pay for the import

    folder = resources.files("compliance").joinpath("templates")
    environment = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined,
                                     trim_blocks=False)
    template = environment.from_string(folder.joinpath("report.html.j2").read_text("utf-8"))
    return (template, folder.joinpath("report.css").read_text("utf-8"),
            folder.joinpath("report.js").read_text("utf-8"))


def _csp_hash(source: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(source.encode("utf-8")).digest()).decode()


def _href(url: str | None) -> str | None:
    if not url:
        return None
    return url if urlsplit(url).scheme.lower() in {"http", "https"} else None


def _page(result: PageResult) -> dict[str, Any]:
    fetch = result.fetch or {}
    return {
        "target": result.target.location, "href": _href(result.target.location),
        "partner": result.target.partner, "status": result.status, "error": result.error,
        "original_url": result.target.original_url,
        "original_href": _href(result.target.original_url),
        "http_status": fetch.get("http_status"), "evidence": fetch.get("evidence"),
        "problems": problems(result),
        "passed": sorted({f.rule_id for f in result.findings if f.status == "pass"}),
        "waived": [f for f in result.findings if f.status == "waived"],
    }


def _chart(rows: list[dict[str, Any]], width: int = 300, height: int = 60) -> dict[str, Any]:
    """An inline SVG polyline of failing pages per run (numbers only: nothing to escape)."""
    counts = [int(row.get("failing_pages", 0)) for row in rows]
    top = max(counts or [0]) or 1
    step = width / max(len(counts) - 1, 1)
    points = " ".join(f"{i * step:.1f},{height - 4 - (c / top) * (height - 8):.1f}"
                      for i, c in enumerate(counts))
    return {"points": points, "top": max(counts or [0]), "last": counts[-1] if counts else 0,
            "runs": len(counts), "width": width, "height": height}


def render(results: Iterable[PageResult], out: TextIO,
           context: ReportContext | None = None) -> None:
    context = context or ReportContext()
    results = replayable(results)
    tally = Tally()
    partners: dict[str, Counter[str]] = defaultdict(Counter)
    rules: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for result in results:
        tally.add(result)
        partners[result.target.partner]["pages"] += 1
        partners[result.target.partner][result.status] += 1
        for rule_id, kind, status in {(f.rule_id, f.type, f.status) for f in result.findings}:
            rules[(rule_id, kind)][status] += 1
    import markupsafe

    template, css, js = _assets()
    stream = template.generate(
        # Our own static files, not page content: inlined as they are, so their CSP hashes hold.
        css=markupsafe.Markup(css), js=markupsafe.Markup(js),
        style_hash=_csp_hash(css), script_hash=_csp_hash(js),
        run=context.run, generated_at=context.generated_at, version=__version__,
        totals=tally.to_dict(), by_partner=sorted(partners.items()),
        by_rule=sorted(rules.items()),
        partner_names=dict(context.partners), pages=(_page(r) for r in results),
        unmatched_waivers=(context.extra.get("waivers") or {}).get("unmatched", []),
        changes=context.extra.get("changes"),
        charts=sorted((p, _chart(rows)) for p, rows in (context.extra.get("trends") or {}).items()),
    )
    for chunk in stream:
        out.write(chunk)
