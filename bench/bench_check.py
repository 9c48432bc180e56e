"""Checking throughput against lxml's parse alone, over the real-pages corpus.

Usage: python bench/bench_check.py [CORPUS_DIR] [--rounds N]

Prints pages/s for (a) lxml parse only and (b) decode + parse + the full AMN rule set, measured
in the same run over the same bytes, and their ratio (target: at least 0.5). Then times
`compliance check` on one draft page as a fresh process, start-up included (target: < 0.3 s).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

from lxml import html

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from compliance.engine import evaluate  # noqa: E402
from compliance.model import Target  # noqa: E402
from compliance.page import Page  # noqa: E402
from compliance.rules import load_rulebook  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("corpus", nargs="?", type=Path,
                        default=ROOT.parent / "shared" / "corpus" / "real-pages")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    files = sorted(args.corpus.glob("*.html"))
    if not files:
        print(f"no pages under {args.corpus}", file=sys.stderr)
        return 2
    pages = [f.read_bytes() for f in files]
    megabytes = sum(map(len, pages)) / 1e6
    partner = load_rulebook(ROOT / "rules").partner("american-military-news")
    target = Target("american-military-news", "bench", original_url="https://www.rferl.org/a/x/1.html",
                    photo_credits=("Kremlin/Released",))

    def parse_only() -> None:
        for data in pages:
            html.document_fromstring(data, parser=html.HTMLParser(encoding="utf-8"))

    def full() -> None:
        for data in pages:
            evaluate(Page.from_bytes(data, target), partner.rules)

    parse_times, full_times = [], []
    for _ in range(args.rounds):
        start = time.perf_counter()
        parse_only()
        parse_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        full()
        full_times.append(time.perf_counter() - start)
    parse_s, full_s = min(parse_times), min(full_times)
    print(f"corpus: {len(pages)} pages, {megabytes:.1f} MB, best of {args.rounds} rounds")
    print(f"parse only      : {parse_s:6.2f} s  {len(pages) / parse_s:7.1f} pages/s")
    print(f"parse + checks  : {full_s:6.2f} s  {len(pages) / full_s:7.1f} pages/s")
    print(f"throughput ratio: {parse_s / full_s:.2f} (target >= 0.50)")

    draft = ROOT / "fixtures" / "seed" / "amn-reprint.html"
    command = [sys.executable, "-m", "compliance.cli", "check", "--partner",
               "american-military-news", "--original-url",
               "https://www.rferl.org/a/trump-putin-meet-g20-osaka/29968834.html",
               "--photo-credit", "(Kremlin/Released)", str(draft)]
    walls = []
    for _ in range(7):
        start = time.perf_counter()
        subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
        walls.append(time.perf_counter() - start)
    print(f"draft check wall time: median {statistics.median(walls):.3f} s, "
          f"min {min(walls):.3f} s over 7 runs (target < 0.3 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
