"""The nightly run over thousands of pages on loopback, against the floor.

Usage: python bench/bench_run.py [--pages 5000] [--memory]

Serves N real news pages (the shared corpus, cycled) from nginx on 127.0.0.1 (installed from
Debian's packages if missing), then times in one run:
  floor = a plain parallel fetch of every URL (xargs -P 16 curl) + lxml's parse of every page
          in one process;
  run   = `compliance run` over the same URLs (fetch, parse, check, evidence, reports).
Target: run <= 1.5 x floor. With --memory it also runs 1,000 and 10,000 pages and compares
the main process's peak RSS (target: at most 10 % more at 10,000).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lxml import html

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus" / "real-pages"
PORT = 18631


def ensure_nginx() -> str:
    found = shutil.which("nginx") or (Path("/usr/sbin/nginx").exists() and "/usr/sbin/nginx")
    if not found:
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "nginx-light"], check=True)
        found = "/usr/sbin/nginx"
    return str(found)


def start_nginx(nginx: str, root: Path, work: Path) -> subprocess.Popen[bytes]:
    conf = work / "nginx.conf"
    conf.write_text(f"""
user root root;
worker_processes 2;
daemon off;
pid {work}/nginx.pid;
error_log {work}/error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  types {{ text/html html; text/plain txt; }}
  default_type text/html;
  client_body_temp_path {work}/tmp; proxy_temp_path {work}/tmp; fastcgi_temp_path {work}/tmp;
  uwsgi_temp_path {work}/tmp; scgi_temp_path {work}/tmp;
  server {{ listen 127.0.0.1:{PORT}; root {root}; }}
}}
""")
    (work / "tmp").mkdir(exist_ok=True)
    process = subprocess.Popen([nginx, "-c", str(conf), "-p", str(work)])
    time.sleep(0.5)
    if process.poll() is not None:
        # Most likely another server (an earlier bench left running) holds the port: timing
        # against it would measure the wrong site.
        raise SystemExit(f"nginx exited at once ({process.returncode}); is 127.0.0.1:{PORT} "
                         f"taken? See {work}/error.log:\n{(work / 'error.log').read_text()}")
    return process


def make_site(root: Path, count: int) -> list[str]:
    pages = sorted(CORPUS.glob("*.html"))
    (root / "robots.txt").write_text("User-agent: *\nAllow: /\n")
    urls = []
    for i in range(count):
        name = f"p{i:05d}.html"
        target = root / name
        if not target.exists():
            target.symlink_to(pages[i % len(pages)])
        urls.append(f"http://127.0.0.1:{PORT}/{name}")
    return urls


def floor(urls: list[str], root: Path) -> tuple[float, float]:
    probe = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", urls[0]],
                           capture_output=True, text=True, check=True)
    if probe.stdout != "200":
        raise SystemExit(f"nginx answers {probe.stdout} for {urls[0]}; see its error.log")
    start = time.perf_counter()
    # One curl per 50 URLs, each URL's body to /dev/null.
    script = 'exec curl -s $(for u in "$@"; do printf -- "-o /dev/null %s " "$u"; done)'
    subprocess.run(["xargs", "-P", "16", "-n", "50", "sh", "-c", script, "_"],
                   input="\n".join(urls).encode(), check=True)
    fetch = time.perf_counter() - start
    start = time.perf_counter()
    for url in urls:
        html.document_fromstring((root / url.rsplit("/", 1)[1]).read_bytes(),
                                 parser=html.HTMLParser(encoding="utf-8"))
    return fetch, time.perf_counter() - start


def run(urls: list[str], work: Path) -> tuple[float, float]:
    manifest = work / f"manifest-{len(urls)}.csv"
    manifest.write_text("partner,reprint_url,original_url\n" + "".join(
        f"american-military-news,{u},https://www.rferl.org/a/x/1.html\n" for u in urls))
    reports = work / f"reports-{len(urls)}"
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "compliance.cli", "run", "--manifest",
                           str(manifest), "--reports", str(reports), "--host-delay", "0",
                           "--per-host", "16", "--concurrency", "16"],
                          cwd=ROOT, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1, 3):
        raise SystemExit(f"compliance run failed ({done.returncode}): {done.stderr}")
    log = (reports / "latest" / "run.log").read_text()
    summary = json.loads((reports / "latest" / "report.json").read_text())["summary"]
    if summary["pages"] != len(urls) or summary["error"]:
        # A page that errored (refused, timed out) costs less than one judged: the timing
        # would flatter the run.
        raise SystemExit(f"compliance run did not judge every page: {summary}\n{log}")
    peak = float(re.search(r"peak memory of the main process (\d+) MiB", log).group(1))
    cpu = re.search(r"CPU time: main process ([\d.]+) s, worker processes ([\d.]+) s", log)
    print(f"  {len(urls)} pages: {elapsed:.2f} s; CPU per page: main process "
          f"{float(cpu.group(1)) / len(urls) * 1000:.1f} ms, workers "
          f"{float(cpu.group(2)) / len(urls) * 1000:.1f} ms")
    shutil.rmtree(reports)
    return elapsed, peak


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=5000)
    parser.add_argument("--memory", action="store_true")
    args = parser.parse_args()
    if not CORPUS.is_dir():
        print(f"{CORPUS} is absent: the benchmark serves the shared corpus", file=sys.stderr)
        return 2
    nginx = ensure_nginx()
    with tempfile.TemporaryDirectory(prefix="bench-run-") as tmp:
        work = Path(tmp)
        root = work / "site"
        root.mkdir()
        largest = max(args.pages, 10000 if args.memory else 0)
        all_urls = make_site(root, largest)
        server = start_nginx(nginx, root, work)
        try:
            urls = all_urls[: args.pages]
            fetch_s, parse_s = floor(urls, root)
            run_s, peak = run(urls, work)
            total = fetch_s + parse_s
            print(f"{len(urls)} pages on loopback (nginx)")
            print(f"floor: fetch {fetch_s:.2f} s (xargs -P 16 curl) + parse {parse_s:.2f} s (lxml) "
                  f"= {total:.2f} s")
            print(f"compliance run: {run_s:.2f} s = {run_s / total:.2f} x floor (target <= 1.5); "
                  f"main process peak RSS {peak:.0f} MiB")
            if args.memory:
                _, small = run(all_urls[:1000], work)
                _, large = run(all_urls[:10000], work)
                print(f"peak RSS: {small:.0f} MiB at 1,000 pages, {large:.0f} MiB at 10,000 "
                      f"({(large / small - 1) * 100:+.1f} %, target <= +10 %)")
        finally:
            server.terminate()
            server.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
