"""The ``compliance`` command line.

Exit codes (a contract scripts rely on): 0 every page passes; 1 at least one page violates its
licence; 2 usage, rule or manifest error (nothing was checked); 3 no violation, but at least one
page could not be checked.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from . import __version__
from .errors import ComplianceError, ManifestError, RuleError, UsageError
from .model import FAIL_ON, PageResult, Target, exit_code

EXIT_OK, EXIT_VIOLATION, EXIT_USAGE, EXIT_UNCHECKED, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    from .formatters import FORMATTERS

    parser = _Parser(prog="compliance", description="Check syndicated reprints against the "
                                                    "publisher's licence rules.")
    parser.add_argument("--version", action="version", version=f"compliance {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="show tracebacks for errors")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    check = sub.add_parser("check", help="check pages (files, file:// URLs or stdin)",
                           description="Check reprints against their partner's licence rules.")
    check.add_argument("targets", nargs="*", metavar="TARGET",
                       help="a local path, file:// URL, http(s) URL, or - for standard input")
    check.add_argument("--manifest", type=Path, help="CSV or JSON Lines manifest of reprints")
    check.add_argument("--partner", help="partner id for TARGETs given on the command line")
    check.add_argument("--original-url", help="URL of the original article")
    check.add_argument("--photo-credit", action="append", default=[], metavar="TEXT",
                       help="a credit the original's photos carry (repeatable)")
    check.add_argument("--title", help="title of the original article, for {title}")
    check.add_argument("--author", help="author of the original article, for {author}")
    check.add_argument("--rules", type=Path, default=Path("rules"),
                       help="rules folder (default: ./rules)")
    check.add_argument("--format", choices=sorted(FORMATTERS), default=None,
                       help="format printed on stdout (default: text, or nothing when "
                            "--output is given)")
    check.add_argument("--output", action="append", default=[], metavar="FORMAT:PATH",
                       help="also write FORMAT to PATH (repeatable), e.g. json:report.json "
                            f"(formats: {', '.join(sorted(FORMATTERS))})")
    check.add_argument("--baseline", type=Path, metavar="REPORT",
                       help="a JSON report of known problems: only findings not in it set the "
                            "exit code (each identified by partner, page and rule)")
    check.add_argument("--fail-on", choices=FAIL_ON, default="fail",
                       help="what makes the exit code 1: fail (default), also needs-review, or "
                            "also warning-severity failures")
    _fetch_options(check)

    run = sub.add_parser("run", help="the nightly job: check every reprint into a run folder",
                         description="Check every reprint of the manifests and write "
                                     "<reports>/<run-id>/ (report.json, evidence.warc.gz, "
                                     "run.log); <reports>/latest points at it.")
    run.add_argument("--manifest", type=Path, action="append", default=[], required=False,
                     help="manifest file, or folder of manifests (repeatable)")
    run.add_argument("--rules", type=Path, default=Path("rules"))
    run.add_argument("--reports", type=Path, default=Path("reports"))
    run.add_argument("--resume", nargs="?", const=True, default=None, metavar="RUN_ID",
                     help="finish an interrupted run (default: the newest unfinished one)")
    run.add_argument("--fail-on", choices=FAIL_ON, default="fail",
                     help="what makes the exit code 1 (as for check)")
    run.add_argument("--history", type=Path,
                     help="run history database (default: <reports>/history.sqlite)")
    run.add_argument("--processes", type=int, default=None,
                     help="processes for parsing and checking (default: one per core)")
    _fetch_options(run)

    report = sub.add_parser("report", help="render a stored run's report.json in any format")
    report.add_argument("run", nargs="?", default="latest",
                        help="run id (default: latest) or a path to a report.json")
    report.add_argument("--format", choices=sorted(FORMATTERS), required=True)
    report.add_argument("--output", type=Path, help="write to this file instead of stdout")
    report.add_argument("--reports", type=Path, default=Path("reports"))
    report.add_argument("--rules", type=Path, default=Path("rules"),
                        help="rules folder, for partner names (optional)")

    summary = sub.add_parser("summary", help="partner summaries by e-mail: .eml files, or sent "
                                             "by SMTP with --send")
    summary.add_argument("--run", default="latest", help="run id (default: latest)")
    summary.add_argument("--partner", help="only this partner")
    summary.add_argument("--send", action="store_true",
                         help="deliver by SMTP (COMPLIANCE_SMTP_HOST and friends)")
    summary.add_argument("--reports", type=Path, default=Path("reports"))
    summary.add_argument("--rules", type=Path, default=Path("rules"))

    history = sub.add_parser("history", help="past runs, the changes between two, a partner's "
                                             "trend")
    history.add_argument("--reports", type=Path, default=Path("reports"))
    history.add_argument("--history", type=Path, help="database (default: "
                                                      "<reports>/history.sqlite)")
    history.add_argument("--diff", nargs=2, metavar=("OLD", "NEW"),
                         help="what changed between two runs")
    history.add_argument("--partner", help="failing pages per run and mean time to fix")
    history.add_argument("--limit", type=int, default=30, help="runs to list (default 30)")
    history.add_argument("--format", choices=("text", "json"), default="text")

    demo = sub.add_parser("demo", help="serve the bundled demo site on 127.0.0.1 and run the "
                                       "nightly job against it")
    demo.add_argument("--reports", type=Path, default=Path("reports"))
    demo.add_argument("--site", type=Path, default=Path("fixtures/site"),
                      help="the demo site folder (default: fixtures/site)")
    demo.add_argument("--rules", type=Path, default=Path("rules"))
    demo.add_argument("--port", type=int, default=8631,
                      help="port on 127.0.0.1 (default 8631; 0 for any free port)")

    rules = sub.add_parser("rules", help="work with licence rule files")
    rules_sub = rules.add_subparsers(dest="rules_command", required=True, parser_class=_Parser)
    validate = rules_sub.add_parser("validate", help="validate rule files and report every "
                                                     "problem as file:line $.path: message")
    validate.add_argument("paths", nargs="*", type=Path, metavar="PATH",
                          help="rule files or folders (default: the rules folder)")
    validate.add_argument("--rules", type=Path, default=Path("rules"),
                          help="rules folder used to resolve 'extends' (default: ./rules)")
    explain = rules_sub.add_parser("explain", help="read a partner's rules back in plain English")
    explain.add_argument("partner")
    explain.add_argument("--rules", type=Path, default=Path("rules"))
    return parser


def _fetch_options(parser: argparse.ArgumentParser) -> None:
    from .policy import FetchPolicy

    defaults = FetchPolicy()
    group = parser.add_argument_group("fetching (polite defaults; change with care)")
    group.add_argument("--concurrency", type=int, default=defaults.concurrency,
                       help=f"pages fetched at once, all hosts (default {defaults.concurrency})")
    group.add_argument("--per-host", type=int, default=defaults.per_host,
                       help=f"requests at once to one host (default {defaults.per_host})")
    group.add_argument("--host-delay", type=float, default=defaults.host_delay,
                       help="seconds between requests to one host (default "
                            f"{defaults.host_delay})")
    group.add_argument("--deadline", type=float, default=defaults.deadline,
                       help=f"seconds allowed for one page (default {defaults.deadline:.0f})")
    group.add_argument("--contact", default=defaults.contact,
                       help="contact URL sent in the User-Agent")


def _policy(args: argparse.Namespace) -> Any:
    from .policy import FetchPolicy

    for name in ("concurrency", "per_host"):
        if getattr(args, name) < 1:
            raise UsageError(f"--{name.replace('_', '-')} must be at least 1")
    return FetchPolicy(contact=args.contact, concurrency=args.concurrency,
                       per_host=args.per_host, host_delay=max(0.0, args.host_delay),
                       deadline=max(1.0, args.deadline))


def _targets(args: argparse.Namespace, partners: Sequence[str]) -> list[Target]:
    from .manifest import check_location, read_manifest

    if args.manifest and args.targets:
        raise UsageError("give either --manifest or TARGETs, not both")
    if args.manifest:
        manifest = read_manifest(args.manifest, partners)
        for warning in manifest.warnings:
            print(f"compliance: warning: {warning}", file=sys.stderr)
        return manifest.targets
    if not args.targets:
        raise UsageError("nothing to check: give TARGETs (paths, URLs or -) or --manifest FILE")
    if not args.partner:
        raise UsageError("--partner ID is required with TARGETs given on the command line "
                         f"(known: {', '.join(sorted(partners))})")
    if args.partner not in partners:
        raise UsageError(f"--partner {args.partner!r}: unknown partner; known: "
                         f"{', '.join(sorted(partners)) or 'none'}")
    if args.targets.count("-") > 1:
        raise UsageError("standard input (-) can be read only once")
    problems = [f"{t}: {why}" for t in args.targets if t != "-" and (why := check_location(t))]
    if problems:
        raise ManifestError(problems)
    return [Target(partner=args.partner, location=t, original_url=args.original_url,
                   photo_credits=tuple(args.photo_credit), title=args.title, author=args.author,
                   origin="command line") for t in args.targets]


def _tallied(results: Iterable[PageResult], seen: dict[str, int]) -> Iterator[PageResult]:
    from .model import count

    for result in results:
        count(seen, result)
        yield result


def _outputs(specs: Sequence[str]) -> list[tuple[str, Path]]:
    from .formatters import FORMATTERS

    outputs = []
    for spec in specs:
        kind, sep, path = spec.partition(":")
        if not sep or not path or kind not in FORMATTERS:
            raise UsageError(f"--output {spec!r}: expected FORMAT:PATH with FORMAT one of "
                             f"{', '.join(sorted(FORMATTERS))}")
        outputs.append((kind, Path(path)))
    return outputs


def cmd_check(args: argparse.Namespace) -> int:
    import tempfile

    from .files import atomic_open
    from .formatters import FORMATTERS
    from .formatters.summary import report_context
    from .pipeline import Job, Pipeline
    from .results import Replay, read_lines, write_line
    from .rules import load_rulebook
    from .sources import is_remote

    outputs = _outputs(args.output)
    rulebook = load_rulebook(args.rules)
    targets = _targets(args, sorted(rulebook.partners))
    fetcher = None
    sites: dict[str, Any] = {}
    if any(is_remote(t.location) for t in targets):
        from .fetch import Fetcher
        from .runner import site_configs

        sites, _ = site_configs(rulebook)
        fetcher = Fetcher(_policy(args))
    # A few drafts are judged in this process: starting workers would cost more than it saves.
    pipeline = Pipeline(rulebook, args.rules, fetcher, processes=1 if len(targets) <= 8 else None,
                        sites=sites)
    seen: dict[str, int] = {}
    judged = (o.result for o in pipeline.run(Job(i, t) for i, t in enumerate(targets)))
    if args.baseline:
        from .baseline import Baseline

        baseline = Baseline.load(args.baseline)
        results = baseline.tally(judged, seen)
    else:
        results = _tallied(judged, seen)
    context = report_context(rulebook, None)
    if len(targets) > 20 and sys.stderr.isatty():
        results = _with_progress(results, len(targets))
    if not outputs:
        FORMATTERS[args.format or "text"].render(results, sys.stdout, context)
    else:
        # Evaluate first, into a file; then every report reads it, as often as it needs.
        with tempfile.TemporaryDirectory(prefix="compliance-") as tmp:
            store = Path(tmp) / "results.jsonl"
            with store.open("w", encoding="utf-8") as handle:
                for result in results:
                    write_line(handle, result)
            stored = Replay(lambda: read_lines(store))
            for kind, path in outputs:
                with atomic_open(path) as handle:
                    FORMATTERS[kind].render(stored, handle, context)
            if args.format:
                FORMATTERS[args.format].render(stored, sys.stdout, context)
    if args.baseline:
        print(f"compliance: {seen.get('known', 0)} failing finding(s) are in the baseline and do "
              f"not count; {seen.get('new', 0)} are new", file=sys.stderr)
    return exit_code(seen, bool(seen.get("warning")), args.fail_on)


def cmd_report(args: argparse.Namespace) -> int:
    from .formatters import FORMATTERS
    from .formatters.summary import ReportContext, report_context
    from .results import read_report
    from .rules import load_rulebook

    path = Path(args.run) if args.run.endswith(".json") else args.reports / args.run / "report.json"
    if not path.exists():
        raise UsageError(f"{path}: no stored report; name a run in {args.reports} or a "
                         "report.json")
    header, pages = read_report(path)
    run = header.get("run") if isinstance(header.get("run"), dict) else None
    try:
        context = report_context(load_rulebook(args.rules), run)  # type: ignore[arg-type]
    except ComplianceError:
        context = ReportContext(run=run)  # type: ignore[arg-type]
    if args.output:
        from .files import atomic_open

        with atomic_open(args.output) as handle:
            FORMATTERS[args.format].render(pages, handle, context)
    else:
        FORMATTERS[args.format].render(pages, sys.stdout, context)
    return EXIT_OK


def cmd_summary(args: argparse.Namespace) -> int:
    from . import notify
    from .formatters.summary import report_context
    from .results import read_report
    from .rules import load_rulebook

    run_dir = args.reports / args.run
    path = run_dir / "report.json"
    if not path.exists():
        raise UsageError(f"{path}: no stored report; run `compliance run` first or pass --run")
    book = load_rulebook(args.rules)
    header, pages = read_report(path)
    run = header.get("run") if isinstance(header.get("run"), dict) else None
    context = report_context(book, run)  # type: ignore[arg-type]
    partners = sorted({p.target.partner for p in pages})
    if args.partner:
        if args.partner not in partners:
            raise UsageError(f"--partner {args.partner!r}: no pages of that partner in {path}")
        partners = [args.partner]
    sender = os.environ.get("COMPLIANCE_MAIL_FROM", "compliance@localhost")
    summaries = []
    for partner_id in partners:
        partner = book.partners.get(partner_id)
        if partner is None:
            print(f"compliance: warning: {partner_id}: no rule file any more; skipped",
                  file=sys.stderr)
            continue
        summary = notify.build(partner, [p for p in pages if p.target.partner == partner_id],
                               context, sender)
        if summary is None:
            reason = "no contacts in its rule file" if not partner.contacts else \
                "all clear, and its rule file asks for no all-clear message"
            print(f"compliance: {partner_id}: nothing sent ({reason})", file=sys.stderr)
            continue
        summaries.append(summary)
    if not args.send:
        for summary in summaries:
            print(notify.write_eml(summary, run_dir.resolve() / "summaries"))
        return EXIT_OK
    failures = notify.send(summaries, notify.smtp_settings())
    for summary in summaries:
        if summary.partner in failures:
            print(f"compliance: error: {summary.partner}: {failures[summary.partner]}",
                  file=sys.stderr)
        else:
            print(f"{summary.partner}: sent to {', '.join(summary.recipients)}")
    return EXIT_UNCHECKED if failures else EXIT_OK


def _with_progress(results: Iterable[PageResult], total: int) -> Iterator[PageResult]:
    from .progress import Progress

    progress = Progress(total, sys.stderr, lambda _: None)
    for result in results:
        progress.update(result)
        yield result
    progress.close()


def cmd_run(args: argparse.Namespace) -> int:
    from .runner import RunOptions, nightly

    if not args.manifest and not args.resume:
        raise UsageError("give --manifest FILE (or a folder of manifests), or --resume")
    options = RunOptions(manifests=args.manifest, rules=args.rules, reports=args.reports,
                         resume=args.resume, policy=_policy(args), processes=args.processes,
                         fail_on=args.fail_on, history=args.history)
    code, run = nightly(options)
    print(run.dir)
    return code


def cmd_history(args: argparse.Namespace) -> int:
    import json

    from .history import History

    path = args.history or args.reports / "history.sqlite"
    if not path.exists():
        raise UsageError(f"{path}: no run history yet; `compliance run` records one")
    history = History(path)
    try:
        if args.diff:
            old, new = args.diff
            for run_id in (old, new):
                if history.started(run_id) is None:
                    raise UsageError(f"--diff: no run {run_id!r} in {path}")
            data: Any = history.diff(new, old, limit=None).to_dict()
            if args.format == "text":
                for name in ("new", "persisting", "fixed", "gone"):
                    print(f"{name} ({len(data[name])}):")
                    for change in data[name]:
                        since = f" (since {change['first_seen']}, {change['days_open']} days)" \
                            if "first_seen" in change else ""
                        print(f"  {change['partner']}  {change['page']}  {change['rule']}"
                              f"{since}")
        elif args.partner:
            trend = history.trend(args.partner, args.limit)
            if not trend:
                raise UsageError(f"--partner {args.partner!r}: no runs of that partner in {path}")
            mean, fixes = history.mean_time_to_fix(args.partner)
            data = {"partner": args.partner, "mean_days_to_fix": mean, "fixes": fixes,
                    "runs": [{"run": r, "started_at": s, "failing_pages": n}
                             for r, s, n in trend]}
            if args.format == "text":
                for row in data["runs"]:
                    print(f"{row['run']}  {row['started_at']}  {row['failing_pages']:5d} failing "
                          f"page{'s' if row['failing_pages'] != 1 else ''}")
                print("mean time to fix: " + (f"{mean:.1f} days over {fixes} fixes" if mean
                                               is not None else "no fixes recorded yet"))
        else:
            data = history.runs(args.limit)
            if args.format == "text":
                for row in data:
                    state = "" if row["complete"] else "  (unfinished)"
                    print(f"{row['id']}  {row['started_at']}  {row['pages']:6d} pages  "
                          f"{row['pass']:6d} pass  {row['fail']:6d} fail  {row['error']:6d} "
                          f"error{state}")
        if args.format == "json":
            print(json.dumps(data, indent=2))
    finally:
        history.close()
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    code, run_dir = run_demo(args.site, args.rules, args.reports, args.port)
    print(run_dir)
    # The demo site breaks licences on purpose: finding that is the demo working, so only an
    # interrupted run is a failure here. The report says what was found.
    return code if code == EXIT_INTERRUPTED else EXIT_OK


def cmd_rules(args: argparse.Namespace) -> int:
    from .explain import explain_partner
    from .rules import load_rulebook

    if args.rules_command == "validate":
        book = load_rulebook(args.rules, args.paths or None)
        print(f"{len(book.files)} rule file{'s' if len(book.files) != 1 else ''} valid "
              f"({len(book.partners)} partner{'s' if len(book.partners) != 1 else ''}, "
              f"{len(book.publishers)} publisher{'s' if len(book.publishers) != 1 else ''})")
        return EXIT_OK
    book = load_rulebook(args.rules)
    if args.partner not in book.partners:
        raise UsageError(f"unknown partner {args.partner!r}; known: "
                         f"{', '.join(sorted(book.partners)) or 'none'}")
    sys.stdout.write(explain_partner(book.partners[args.partner]))
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        command = {"check": cmd_check, "run": cmd_run, "demo": cmd_demo, "rules": cmd_rules,
                   "report": cmd_report, "summary": cmd_summary, "history": cmd_history}
        return command[args.command](args)
    except (RuleError, ManifestError) as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(f"compliance: error: {exc}; nothing was checked", file=sys.stderr)
        if args.verbose:
            traceback.print_exc()
        return EXIT_USAGE
    except ComplianceError as exc:
        print(f"compliance: error: {exc}", file=sys.stderr)
        if args.verbose:
            traceback.print_exc()
        return exc.exit_code
    except KeyboardInterrupt:
        print("compliance: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # the reader (head, less) went away: not our error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:  # a bug: say so in one line, and how to see more
        print(f"compliance: internal error: {type(exc).__name__}: {exc} (run with --verbose for "
              "the traceback, and please report it)", file=sys.stderr)
        if args.verbose:
            traceback.print_exc()
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
