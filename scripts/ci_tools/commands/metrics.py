"""``ci-tools metrics``: pipeline figures of one repository, several, or an organisation, from GitHub Actions.

Arguments only; the work is :func:`ci_tools.metrics.generate`. Output: Markdown (default) or JSON on
stdout or ``--output``, JSON also to ``--json-output``; traces to ``--otlp-endpoint``. Exit 0, or 1
when ``--alert-red-after`` found a default branch red for longer; 2 for a bad argument, 3 when the API
or the collector failed.
"""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "metrics"
HELP = ("pipeline metrics from GitHub Actions: durations, queue, failures, flaky tests, runner cost; "
        "Markdown, JSON, OTLP traces")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("repos", nargs="*", metavar="OWNER/REPO",
                        help="repositories (default: $GITHUB_REPOSITORY unless --org is given)")
    parser.add_argument("--org", metavar="ORG", help="every repository of the organisation (archived ones left out)")
    parser.add_argument("--since", default="30d", metavar="WHEN",
                        help='start of the window: a duration back from --until ("30d", "2w", "12h") or a date '
                             "(default: 30d)")
    parser.add_argument("--until", metavar="WHEN", help="end of the window, a date or date-time (default: now)")
    parser.add_argument("--workflow", action="append", default=[], metavar="NAME",
                        help="only runs of this workflow: its name, file name or path; a glob (repeatable)")
    parser.add_argument("--branch", action="append", default=[], metavar="NAME",
                        help="only runs on this branch; a glob (repeatable)")
    parser.add_argument("--format", choices=("markdown", "json"), default="markdown",
                        help="report format (default: markdown)")
    parser.add_argument("--output", type=Path, metavar="FILE", help="write the report to FILE instead of stdout")
    parser.add_argument("--json-output", type=Path, metavar="FILE", help="also write the JSON report to FILE")
    parser.add_argument("--alert-red-after", metavar="DURATION",
                        help='exit 1 when a workflow has failed on the default branch for longer than this ("24h")')
    parser.add_argument("--rate", action="append", default=[], metavar="RUNNER=USD",
                        help="price per minute of a runner type (ubuntu-latest=0.008) or family "
                             "(linux, windows, macos, self-hosted); repeatable")
    parser.add_argument("--junit-artifacts", default="*junit*", metavar="GLOB",
                        help="artifacts holding JUnit XML (default: *junit*)")
    parser.add_argument("--no-tests", action="store_true", help="read no artifact: no test figures")
    parser.add_argument("--max-artifact-mb", type=float, default=64.0, metavar="MB",
                        help="largest artifact archive read (default: 64)")
    otel = parser.add_argument_group("OpenTelemetry")
    otel.add_argument("--otlp-endpoint", metavar="URL",
                      help="send one trace per run to this OTLP/HTTP collector (/v1/traces is added to a bare URL)")
    otel.add_argument("--otlp-header", action="append", default=[], metavar="KEY=VALUE",
                      help="header for the collector, e.g. authorization (repeatable; also OTEL_EXPORTER_OTLP_HEADERS)")
    otel.add_argument("--otlp-resend", action="store_true",
                      help="send every run of the window, also those already sent to this endpoint")
    api = parser.add_argument_group("API and cache")
    api.add_argument("--jobs", type=int, default=8, metavar="N", help="requests at once (default: 8)")
    api.add_argument("--cache-dir", type=Path, metavar="DIR",
                     help="cache directory (default: $XDG_CACHE_HOME/ci-tools or ~/.cache/ci-tools)")
    api.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")


def run(args: argparse.Namespace) -> int:
    import sys

    from ci_tools import metrics
    from ci_tools.core.output import write
    from ci_tools.core.redact import redact
    from ci_tools.errors import FatalError, UsageError
    from ci_tools.gha.resolve.base import NotFound, ResolveError
    from ci_tools.metrics.markdown import plain

    settings = metrics.Settings(
        repos=args.repos, org=args.org, since=args.since, until=args.until, workflows=args.workflow,
        branches=args.branch, artifacts=args.junit_artifacts, tests=not args.no_tests, jobs=args.jobs,
        rates=args.rate, red_after=args.alert_red_after, otlp_endpoint=args.otlp_endpoint,
        otlp_headers=args.otlp_header, otlp_resend=args.otlp_resend, cache_dir=args.cache_dir,
        no_cache=args.no_cache, max_artifact_mb=args.max_artifact_mb)
    try:
        outcome = metrics.generate(settings)
    except metrics.MetricsUsageError as exc:
        raise UsageError(str(exc)) from None
    except (metrics.MetricsError, ResolveError, NotFound) as exc:
        raise FatalError(str(exc)) from None
    for note in outcome.notes:
        sys.stderr.write(redact(plain(f"ci-tools metrics: {note}")) + "\n")
    if args.json_output:
        write(outcome.json, args.json_output)
    write(outcome.json if args.format == "json" else outcome.markdown, args.output)
    if outcome.export is not None:
        e = outcome.export
        sys.stderr.write(redact(f"ci-tools metrics: sent {e.spans} spans of {e.runs} runs to {e.url} "
                                f"in {e.requests} requests") + (f", {e.rejected_spans} rejected" if e.rejected_spans
                                                                else "") + "\n")
    for alert in outcome.alerts:
        sys.stderr.write(redact(plain(f"ci-tools metrics: alert: {alert['repository']}: \"{alert['workflow']}\" has "
                                      f"failed on {alert['branch']} for {alert['hours']:g} h (since {alert['since']}, "
                                      f"{alert['failing_runs']} failing runs): {alert['first_failing_run']}")) + "\n")
    return 1 if outcome.alerts else 0
