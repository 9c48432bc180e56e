"""Run history: two demo runs with a page fixed and a page broken in between."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from compliance.history import History
from compliance.model import Finding, PageResult, Target

from .conftest import ROOT, run_cli
from .test_cli import validate

PORT = "18632"


def demo(site: Path, reports: Path) -> dict:
    result = run_cli("demo", "--site", str(site), "--reports", str(reports), "--port", PORT)
    assert result.returncode == 0, result.stderr
    report = json.loads((Path(result.stdout.splitlines()[-1]) / "report.json").read_text("utf-8"))
    validate(report)
    return report


def short(change: dict) -> tuple[str, str, str]:
    return change["partner"], change["page"].split("/", 3)[3], change["rule"]


def test_new_fixed_and_persisting_between_two_demo_runs(tmp_path):
    site = tmp_path / "site"
    shutil.copytree(ROOT / "fixtures" / "site", site)
    reports = tmp_path / "reports"
    first = demo(site, reports)
    assert first["changes"]["previous_run"] is None
    assert len(first["changes"]["new"]) == 6

    # Between the runs Danube Daily drops nofollow, and Coastal Courier breaks its coral page.
    nofollow = site / "danubedaily/news/2019/06/29/putin-g20-osaka/index.html"
    nofollow.write_text(nofollow.read_text("utf-8").replace(' rel="nofollow"', ""), "utf-8")
    coral = site / "coastalcourier/2019/06/coral-reefs-heatwaves/index.html"
    coral.write_text(coral.read_text("utf-8").replace("under a Creative Commons license",
                                                      "with permission"), "utf-8")
    second = demo(site, reports)
    changes = second["changes"]
    assert changes["previous_run"] == first["run"]["id"]
    assert [short(c) for c in changes["new"]] == [
        ("coastal-courier", "coastalcourier/2019/06/coral-reefs-heatwaves/", "republished-credit")]
    assert [short(c) for c in changes["fixed"]] == [
        ("danube-daily", "danubedaily/news/2019/06/29/putin-g20-osaka", "link-to-original")]
    assert sorted(short(c) for c in changes["persisting"]) == [
        ("american-military-news", "americanmilitarynews/2019/07/russia-tests-hypersonic-missile/",
         "credit-line"),
        ("coastal-courier", "coastalcourier/2019/07/why-teenagers-need-more-sleep/",
         "link-to-original"),
        ("coastal-courier", "coastalcourier/2019/07/why-teenagers-need-more-sleep/",
         "republished-credit"),
        ("danube-daily", "danubedaily/news/2019/07/05/serbia-kosovo-talks", "credit-line"),
        ("prairie-post", "prairiepost/stories/2019/07/farm-drones", "photo-credit"),
    ]
    assert all(c["first_seen"] == first["run"]["started_at"] and c["days_open"] == 0
               for c in changes["persisting"])
    assert [short(c)[:2] for c in changes["gone"]] == [
        ("prairie-post", "prairiepost/stories/2019/06/old-flood-story")]
    assert [row["failing_pages"] for row in second["trends"]["coastal-courier"]] == [1, 2]
    html = (reports / "latest" / "index.html").read_text("utf-8")
    assert "New since last run" in html and "<polyline" in html

    listing = run_cli("history", "--reports", str(reports))
    assert [line.split()[0] for line in listing.stdout.splitlines()] == [
        second["run"]["id"], first["run"]["id"]]
    diff = run_cli("history", "--reports", str(reports), "--diff", first["run"]["id"],
                   second["run"]["id"], "--format", "json")
    assert json.loads(diff.stdout)["fixed"] == changes["fixed"]
    trend = run_cli("history", "--reports", str(reports), "--partner", "danube-daily")
    assert trend.stdout.splitlines()[-1] == "mean time to fix: 0.0 days over 1 fixes"


def result(location: str, status: str) -> PageResult:
    finding = Finding(status, "m", rule_id="credit-line", type="attribution_text")
    return PageResult(Target("p", location), status, (finding,))


def test_a_crash_while_recording_leaves_the_history_as_it_was(tmp_path):
    history = History(tmp_path / "h.sqlite")
    history.record("r1", "2026-01-01T00:00:00+00:00", None, True, [result("https://a.example/1",
                                                                          "fail")])

    def exploding():
        yield result("https://a.example/1", "pass")
        raise RuntimeError("killed mid-run")

    with pytest.raises(RuntimeError):
        history.record("r2", "2026-01-02T00:00:00+00:00", None, True, exploding())
    assert [r["id"] for r in history.runs()] == ["r1"]
    assert history.db.execute("SELECT COUNT(*) FROM pages WHERE run_id = 'r2'").fetchone() == (0,)
    mode = history.db.execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_days_open_and_mean_time_to_fix(tmp_path):
    history = History(tmp_path / "h.sqlite")
    page = "https://a.example/1"
    for day, status in ((1, "fail"), (3, "fail"), (4, "pass"), (8, "fail"), (10, "fail")):
        history.record(f"r{day}", f"2026-01-{day:02d}T00:00:00+00:00", None, True,
                       [result(page, status)])
    changes = history.diff("r10")
    assert [(c.first_seen, c.days_open) for c in changes.persisting] == [
        ("2026-01-08T00:00:00+00:00", 2)]
    assert history.mean_time_to_fix("p") == (3.0, 1)
