"""The nightly job: run folders, evidence read back with warcio, secrets kept out, resume
after SIGINT and after SIGKILL, and the demo."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from .conftest import ROOT, run_cli
from .hostile import HostileServer
from .test_cli import validate

ORIGINAL = "https://www.rferl.org/a/x/1.html"
FAST = ["--host-delay", "0", "--per-host", "8", "--deadline", "10"]


@pytest.fixture
def server():
    with HostileServer() as running:
        yield running


def warc_records(path: Path) -> list:
    records = []
    with path.open("rb") as handle:
        for record in ArchiveIterator(handle):
            records.append((record.rec_type, record.rec_headers, record.http_headers,
                            record.content_stream().read()))
    return records


def write_manifest(path: Path, urls: list[str]) -> Path:
    lines = ["partner,reprint_url,original_url"]
    lines += [f"american-military-news,{url},{ORIGINAL}" for url in urls]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_demo_writes_a_real_report_and_evidence(tmp_path):
    result = run_cli("demo", "--reports", str(tmp_path))
    assert result.returncode == 0, result.stderr
    run_dir = Path(result.stdout.splitlines()[-1])
    assert run_dir.parent == tmp_path
    assert (tmp_path / "latest").resolve() == run_dir.resolve()
    report = json.loads((run_dir / "report.json").read_text("utf-8"))
    validate(report)
    assert report["run"]["complete"] is True
    outcome = {(p["partner"], p["target"].split("/", 3)[3]): p["status"] for p in report["pages"]}
    assert outcome == {
        ("american-military-news", "americanmilitarynews/?p=95412"): "pass",
        ("american-military-news", "americanmilitarynews/2019/07/russia-tests-hypersonic-missile/"): "fail",
        ("danube-daily", "danubedaily/news/2019/06/29/putin-g20-osaka"): "fail",
        ("danube-daily", "danubedaily/news/2019/07/02/moldova-protests"): "pass",
        ("danube-daily", "danubedaily/news/2019/07/05/serbia-kosovo-talks"): "fail",
        ("coastal-courier", "coastalcourier/2019/06/coral-reefs-heatwaves/"): "pass",
        ("coastal-courier", "coastalcourier/2019/07/why-teenagers-need-more-sleep/"): "fail",
        ("prairie-post", "prairiepost/stories/2019/07/farm-drones"): "fail",
        ("prairie-post", "prairiepost/stories/2019/07/drought-policy"): "pass",
        ("prairie-post", "prairiepost/stories/2019/06/old-flood-story"): "error",
        ("prairie-post", "prairiepost/drafts/county-water-plan"): "error",
    }
    failing = {p["target"].split("/", 3)[3]: [(f["check"], f["message"]) for f in p["findings"]
                                              if f["status"] == "fail"]
               for p in report["pages"] if p["status"] == "fail"}
    assert failing["danubedaily/news/2019/06/29/putin-g20-osaka"] == [
        ("link-to-original", 'no valid link to the original article: the link has '
                             'rel="nofollow", so it is not followed')]
    assert failing["prairiepost/stories/2019/07/farm-drones"] == [
        ("photo-credit", "the photo's caption does not carry the required credit")]
    gone = next(p for p in report["pages"] if p["target"].endswith("old-flood-story"))
    assert (gone["gone"], gone["http_status"]) == (True, 404)
    moved = report["pages"][0]
    assert moved["redirects"] == [moved["final_url"]]

    # Evidence: each judged body is in the WARC under the id the report names, with its hash.
    records = warc_records(run_dir / "evidence.warc.gz")
    responses = {h.get_header("WARC-Record-ID"): body for kind, h, _, body in records
                 if kind == "response"}
    judged = [p for p in report["pages"] if p["status"] in {"pass", "fail"}]
    assert len(judged) == 9
    for page in judged:
        body = responses[page["evidence"]["record_id"]]
        assert hashlib.sha256(body).hexdigest() == page["evidence"]["sha256"]
        assert page["evidence"]["fetched_at"].endswith("+00:00")
    assert records[0][0] == "warcinfo"


def test_credentials_are_sent_but_never_written(tmp_path, server):
    rules = tmp_path / "rules"
    (rules / "publishers").mkdir(parents=True)
    (rules / "partners").mkdir()
    (rules / "publishers" / "rferl.yaml").write_text(
        (ROOT / "rules" / "publishers" / "rferl.yaml").read_text("utf-8"), "utf-8")
    (rules / "partners" / "amn.yaml").write_text(textwrap.dedent("""
        partner:
          id: american-military-news
          name: AMN
          domains: [127.0.0.1]
          fetch:
            headers: {X-Api-Key: TEST_AMN_KEY}
            cookies: {session: TEST_AMN_COOKIE}
            basic_auth: {username: TEST_AMN_USER, password: TEST_AMN_PASSWORD}
        extends: rferl
    """), "utf-8")
    manifest = write_manifest(tmp_path / "m.csv", [server.base + "/ok/members-only"])
    env = {**os.environ, "TEST_AMN_KEY": "key-s3cret", "TEST_AMN_COOKIE": "cookie-s3cret",
           "TEST_AMN_USER": "amn", "TEST_AMN_PASSWORD": "password-s3cret"}
    reports = tmp_path / "reports"
    result = subprocess.run([sys.executable, "-m", "compliance.cli", "run", "--manifest",
                             str(manifest), "--rules", str(rules), "--reports", str(reports),
                             *FAST], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    sent = dict(server.seen_headers)["/ok/members-only"]
    assert (sent["X-Api-Key"], sent["Cookie"]) == ("key-s3cret", "session=cookie-s3cret")
    run_dir = Path(result.stdout.splitlines()[-1])
    requests_ = [h for kind, _, h, _ in warc_records(run_dir / "evidence.warc.gz")
                 if kind == "request"]
    assert [(h.get_header("X-Api-Key"), h.get_header("Cookie"), h.get_header("Authorization"))
            for h in requests_] == [("[redacted]", "[redacted]", "[redacted]")]
    for path in run_dir.rglob("*"):
        if path.is_dir():
            continue
        data = path.read_bytes()
        if path.suffix == ".gz":
            data = gzip.decompress(data)
        for secret in (b"key-s3cret", b"cookie-s3cret", b"password-s3cret", b"YW1uOnBhc3N3b3Jk"):
            assert secret not in data, f"{secret!r} leaked into {path.name}"

    missing = subprocess.run([sys.executable, "-m", "compliance.cli", "run", "--manifest",
                              str(manifest), "--rules", str(rules), "--reports", str(reports)],
                             cwd=ROOT, capture_output=True, text=True, timeout=60,
                             env={k: v for k, v in os.environ.items() if not k.startswith("TEST_")})
    assert missing.returncode == 2
    assert "needs the environment variable TEST_AMN_KEY" in missing.stderr


def test_unicode_urls_are_fetched_judged_and_kept_as_ascii_evidence(tmp_path, server):
    # A Cyrillic slug pasted into the manifest, and a redirect whose Location is Latin-1.
    manifest = write_manifest(tmp_path / "m.csv", [server.base + "/ok/новости",
                                                   server.base + "/redirect-latin1"])
    result = subprocess.run([sys.executable, "-m", "compliance.cli", "run", "--manifest",
                             str(manifest), "--reports", str(tmp_path / "reports"), *FAST],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    run_dir = Path(result.stdout.splitlines()[-1])
    report = json.loads((run_dir / "report.json").read_text("utf-8"))
    assert [(p["target"], p["status"]) for p in report["pages"]] == [
        (server.base + "/ok/новости", "pass"), (server.base + "/redirect-latin1", "pass")]
    uris = [(kind, headers.get_header("WARC-Target-URI"))
            for kind, headers, _, _ in warc_records(run_dir / "evidence.warc.gz")
            if kind in {"request", "response"}]
    encoded = server.base + "/ok/%D0%BD%D0%BE%D0%B2%D0%BE%D1%81%D1%82%D0%B8"
    # The two pages are fetched at once: their records may come in either order.
    assert sorted(uris) == sorted([("request", encoded), ("response", encoded),
                                   ("request", server.base + "/redirect-latin1"),
                                   ("response", server.base + "/redirect-latin1"),
                                   ("request", server.base + "/ok/caf%C3%A9"),
                                   ("response", server.base + "/ok/caf%C3%A9")])


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["SIGINT", "SIGKILL"])
def test_interrupted_run_resumes_without_refetching_or_double_counting(tmp_path, server, sig):
    urls = [f"{server.base}/slow/0.4?page={i}" for i in range(16)]
    manifest = write_manifest(tmp_path / "m.csv", urls)
    reports = tmp_path / "reports"
    command = [sys.executable, "-m", "compliance.cli", "run", "--manifest", str(manifest),
               "--reports", str(reports), "--concurrency", "2", "--processes", "1", *FAST]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    deadline = time.monotonic() + 60
    results = None
    while time.monotonic() < deadline:
        found = list(reports.glob("*/results.jsonl"))
        if found and found[0].read_bytes().count(b"\n") >= 4:
            results = found[0]
            break
        time.sleep(0.05)
    assert results is not None, "the run never got going"
    process.send_signal(sig)
    _, err = process.communicate(timeout=60)
    assert process.returncode == (130 if sig == signal.SIGINT else -9), err
    run_dir = results.parent.resolve()
    done_before = [json.loads(line)["page"]["target"]
                   for line in results.read_text("utf-8").splitlines() if line.endswith("}")]
    assert 4 <= len(done_before) < 16
    if sig == signal.SIGINT:
        assert json.loads((run_dir / "run.json").read_text("utf-8"))["complete"] is False
        assert "resume with: compliance run --resume" in err

    resumed = subprocess.run([sys.executable, "-m", "compliance.cli", "run", "--resume",
                              "--reports", str(reports), "--processes", "1", *FAST],
                             cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    assert Path(resumed.stdout.splitlines()[-1]) == run_dir
    report = json.loads((run_dir / "report.json").read_text("utf-8"))
    validate(report)
    assert report["run"]["complete"] is True
    assert [p["target"] for p in report["pages"]] == urls
    assert report["summary"]["pages"] == 16 and report["summary"]["pass"] == 16
    for target in done_before:
        assert server.hits[target.removeprefix(server.base)] == 1, f"{target} fetched again"
    # The evidence file is whole: every record reads back, one response per page.
    responses = [h for kind, h, _, _ in warc_records(run_dir / "evidence.warc.gz")
                 if kind == "response"]
    ids = {p["evidence"]["record_id"] for p in report["pages"]}
    assert len(ids) == 16 and ids <= {h.get_header("WARC-Record-ID") for h in responses}
