"""Checking throughput against lxml's parse alone, over the real-pages corpus.

Usage: python bench/bench_check.py [CORPUS_DIR] [--rounds N]

Prints pages/s for (a) lxml parse only and (b) decode + parse + the full AMN rule set, measured
in the same run over the same bytes in one process, and their ratio (target: at least 0.5).
Then the same comparison as users run it: `compliance check --manifest` over the corpus cycled
--cycles times (process pool on every core, start-up and JSON report included) against lxml's
parse of the same files in one process. Then times `compliance check` on one draft page as a
fresh process, start-up included (target: < 0.3 s).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
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
    parser.add_argument("--cycles", type=int, default=10,
                        help="times the corpus is listed in the manifest for the command run")
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

    # The same work as users run it: `compliance check --manifest`, which judges pages in a
    # process pool on every core, start-up, rule loading and the JSON report included. The
    # corpus is cycled so that start-up does not dominate.
    with tempfile.TemporaryDirectory(prefix="bench-check-") as tmp:
        manifest = Path(tmp) / "manifest.csv"
        listed = []
        for i in range(len(files) * args.cycles):  # a manifest lists each reprint once
            link = Path(tmp) / f"p{i:05d}.html"
            link.symlink_to(files[i % len(files)])
            listed.append(link)
        manifest.write_text("partner,reprint_url,original_url,photo_credits\n" + "".join(
            f"american-military-news,{path},https://www.rferl.org/a/x/1.html,Kremlin/Released\n"
            for path in listed))
        start = time.perf_counter()
        for path in listed:
            html.document_fromstring(path.read_bytes(), parser=html.HTMLParser(encoding="utf-8"))
        listed_parse_s = time.perf_counter() - start
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "compliance.cli", "check", "--manifest",
                               str(manifest), "--output", f"json:{tmp}/report.json"],
                              cwd=ROOT, capture_output=True, text=True)
        command_s = time.perf_counter() - start
        if done.returncode not in (0, 1):
            print(f"compliance check failed ({done.returncode}): {done.stderr}", file=sys.stderr)
            return 2
        judged = json.loads((Path(tmp) / "report.json").read_text())["summary"]
        if judged.get("pages") != len(listed) or judged.get("error"):
            print(f"compliance check judged {judged}, not {len(listed)} pages", file=sys.stderr)
            return 2
    print(f"as run by users, {len(listed)} pages ({args.cycles} x the corpus), "
          f"{os.cpu_count()} cores:")
    print(f"  lxml parse only, one process    : {listed_parse_s:6.2f} s "
          f"{len(listed) / listed_parse_s:7.1f} pages/s")
    print(f"  compliance check --manifest     : {command_s:6.2f} s "
          f"{len(listed) / command_s:7.1f} pages/s (start-up and report included)")
    print(f"  throughput ratio                : {listed_parse_s / command_s:.2f}")

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
