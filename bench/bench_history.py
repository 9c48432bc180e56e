"""Run history at scale: 1,000 runs of 10,000 pages (by default), then time what a nightly run
and its users ask of it.

Usage: python bench/bench_history.py [--runs 1000] [--pages 10000] [--db PATH]

Fills a database directly (10 % of pages failing a rule at any time, failures lasting 1-60
runs), then times: recording one more run through History.record, the diff with the previous
run, listing runs, and each partner's trend and mean time to fix.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from compliance.history import History, page_key  # noqa: E402
from compliance.model import Finding, PageResult, Target  # noqa: E402

PARTNERS = ["american-military-news", "danube-daily", "coastal-courier", "prairie-post"]
RULES = ["credit-line", "link-to-original", "photo-credit"]


def fill(history: History, runs: int, pages: int) -> list[str]:
    rng = random.Random(7)
    start = datetime(2024, 1, 1, 2, 0, tzinfo=timezone.utc)
    urls = [(PARTNERS[i % 4], f"https://partner{i % 4}.example/story/{i}") for i in range(pages)]
    keys = [(p, page_key(u), u) for p, u in urls]
    open_until: dict[tuple[int, str], int] = {}
    ids = []
    db = history.db
    for r in range(runs):
        run_id = f"run{r:05d}"
        started = (start + timedelta(days=r)).isoformat()
        for _ in range(pages // 100):  # new failures appear every night
            open_until[(rng.randrange(pages), rng.choice(RULES))] = r + rng.randint(1, 60)
        failing = {k for k, until in open_until.items() if until > r}
        open_until = {k: v for k, v in open_until.items() if v > r}
        bad_pages = {i for i, _ in failing}
        db.execute("BEGIN")
        db.executemany("INSERT INTO pages VALUES (?, ?, ?, ?, ?, 0)",
                       [(run_id, p, k, u, "fail" if i in bad_pages else "pass")
                        for i, (p, k, u) in enumerate(keys)])
        db.executemany("INSERT INTO findings VALUES (?, ?, ?, ?, 'fail', 'error', 'missing')",
                       [(run_id, keys[i][0], keys[i][1], rule) for i, rule in failing])
        db.execute("INSERT INTO runs VALUES (?, ?, ?, 1, ?, ?, ?, 0)",
                   (run_id, started, started, pages, pages - len(bad_pages), len(bad_pages)))
        db.execute("COMMIT")
        ids.append(run_id)
        if r % 100 == 0:
            print(f"  filled {r}/{runs} runs", file=sys.stderr)
    return ids


def timed(label: str, action):  # type: ignore[no-untyped-def]
    begin = time.perf_counter()
    value = action()
    print(f"{label:45s} {time.perf_counter() - begin:8.3f} s")
    return value


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--pages", type=int, default=10000)
    parser.add_argument("--db", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-history-") as tmp:
        path = args.db or Path(tmp) / "history.sqlite"
        history = History(path)
        timed(f"fill {args.runs} runs x {args.pages} pages", lambda: fill(history, args.runs,
                                                                          args.pages))
        print(f"database size: {path.stat().st_size / 2**20:.0f} MiB")
        rng = random.Random(1)
        results = []
        for i in range(args.pages):
            status = "fail" if rng.random() < 0.1 else "pass"
            finding = Finding(status, "missing", rule_id="credit-line", type="attribution_text")
            results.append(PageResult(Target(PARTNERS[i % 4], f"https://partner{i % 4}.example/"
                                                                f"story/{i}"), status, (finding,)))
        started = datetime(2030, 1, 1, tzinfo=timezone.utc).isoformat()
        timed(f"record one more run of {args.pages} pages", lambda: history.record(
            "tonight", started, started, True, results))
        changes = timed("diff with the previous run", lambda: history.diff("tonight"))
        counts = changes.counts
        print(f"  ({counts['new']} new, {counts['persisting']} persisting, {counts['fixed']} "
              "fixed; lists capped at 1,000)")
        timed("list the last 30 runs", lambda: history.runs(30))
        for partner in PARTNERS[:2]:
            timed(f"trend (30 runs) of {partner}", lambda p=partner: history.trend(p))
            timed(f"mean time to fix of {partner}", lambda p=partner: history.mean_time_to_fix(p))
        history.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
