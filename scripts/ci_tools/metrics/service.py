"""``ci-tools metrics`` from settings to outputs: validate, collect, analyse, render, export.

:func:`generate` is what ``commands/metrics.py`` calls with the values it parsed; it returns an
:class:`Outcome` (the report, its Markdown and JSON texts, the OTLP export's result and the alerts) and
writes nothing but the cache. Bad settings raise :class:`MetricsUsageError` before any request.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ci_tools.metrics import analyse, markdown, otlp
from ci_tools.metrics.cache import MetricsCache
from ci_tools.metrics.client import DEFAULT_MAX_ARTIFACT_BYTES, ActionsClient
from ci_tools.metrics.collect import Query, collect
from ci_tools.metrics.errors import MetricsUsageError
from ci_tools.metrics.timeutil import parse_duration, parse_moment, parse_since

_REPO = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+\Z")
_ORG = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*\Z")


@dataclass
class Settings:
    repos: list[str] = field(default_factory=list)
    org: str | None = None
    since: str = "30d"
    until: str | None = None
    workflows: list[str] = field(default_factory=list)
    branches: list[str] = field(default_factory=list)
    artifacts: str = "*junit*"
    tests: bool = True
    jobs: int = 8
    rates: list[str] = field(default_factory=list)  # RUNNER=USD or FAMILY=USD
    red_after: str | None = None  # alert threshold, a duration
    otlp_endpoint: str | None = None
    otlp_headers: list[str] = field(default_factory=list)
    otlp_resend: bool = False
    cache_dir: Path | None = None
    no_cache: bool = False
    max_artifact_mb: float = DEFAULT_MAX_ARTIFACT_BYTES / (1024 * 1024)


@dataclass
class Outcome:
    report: dict
    markdown: str
    json: str
    export: otlp.ExportResult | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def alerts(self) -> list[dict]:
        return self.report["alerts"]


def resolve_query(settings: Settings, now: float, environ: Mapping[str, str] | None = None) -> Query:
    env: Mapping[str, str] = os.environ if environ is None else environ
    repos = [r.strip() for r in settings.repos if r.strip()]
    for repo in repos:
        if not _REPO.match(repo):
            raise MetricsUsageError(f'"{repo}" is not a repository; name it as OWNER/NAME')
    org = settings.org.strip() if settings.org else None
    if org is not None and not _ORG.match(org):
        raise MetricsUsageError(f'--org "{org}" is not an organisation name')
    if not repos and not org:
        current = env.get("GITHUB_REPOSITORY", "").strip()
        if not current:
            raise MetricsUsageError("name the repositories (OWNER/NAME ...) or --org ORG "
                                    "(GITHUB_REPOSITORY is not set)")
        if not _REPO.match(current):
            raise MetricsUsageError(f'GITHUB_REPOSITORY "{current}" is not OWNER/NAME')
        repos = [current]
    until = parse_moment(settings.until, "--until") if settings.until else now
    since = parse_since(settings.since, until)
    if since >= until:
        raise MetricsUsageError("--since must be before --until")
    if until - since > 400 * 86400:
        raise MetricsUsageError("the window is longer than 400 days; GitHub keeps run history for 400 days")
    if settings.jobs < 1 or settings.jobs > 32:
        raise MetricsUsageError("--jobs must be between 1 and 32 (GitHub limits concurrent requests)")
    return Query(repos, org, since, until, list(settings.workflows), list(settings.branches),
                 settings.artifacts or "*junit*", settings.tests, settings.jobs)


def parse_rates(pairs: list[str]) -> dict[str, float]:
    rates: dict[str, float] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        try:
            rate = float(value)
        except ValueError:
            rate = -1.0
        if not sep or not key.strip() or not rate >= 0 or rate == float("inf"):
            raise MetricsUsageError(f'--rate "{pair}" must be RUNNER=USD_PER_MINUTE, e.g. "ubuntu-latest=0.008" '
                                    'or "linux=0.006"')
        rates[key.strip()] = rate
    return rates


def generate(settings: Settings, *, now: float | None = None, progress=None,
             environ: Mapping[str, str] | None = None) -> Outcome:
    from ci_tools.gha.resolve.cache import default_cache_dir
    from ci_tools.gha.resolve.github import GitHubResolver, token_from_env

    now = time.time() if now is None else now
    query = resolve_query(settings, now, environ)
    rates = parse_rates(settings.rates)
    red_after = parse_duration(settings.red_after, "--alert-red-after") if settings.red_after else None
    endpoint = otlp.traces_url(settings.otlp_endpoint) if settings.otlp_endpoint else None
    headers = otlp.parse_headers(settings.otlp_headers, environ) if endpoint else {}
    if settings.max_artifact_mb <= 0:
        raise MetricsUsageError("--max-artifact-mb must be positive")

    token = token_from_env()
    github = GitHubResolver(token=token)
    client = ActionsClient(github, max_artifact_bytes=int(settings.max_artifact_mb * 1024 * 1024))
    cache = None if settings.no_cache else MetricsCache(settings.cache_dir or default_cache_dir(),
                                                        "metrics " + github.api + (" token" if token else ""))
    kwargs = {"progress": progress} if progress is not None else {}
    data = collect(query, client, cache, now=now, **kwargs)
    report = analyse.analyse(data, generated_at=now, rates=rates, red_after=red_after)
    notes = [f"{s.repo}: run {s.run_id}: {s.what}: skipped ({s.reason}){': ' + s.detail if s.detail else ''}"
             for s in data.skips if s.reason != "expired"]
    export = None
    if endpoint:
        export = _export(endpoint, headers, data, cache, settings.otlp_resend)
        report["otlp"] = {"endpoint": export.url, "runs": export.runs, "spans": export.spans,
                          "requests": export.requests, "rejected_spans": export.rejected_spans,
                          "messages": export.messages}
        notes += [f"OTLP collector: {m}" for m in export.messages]
    text = markdown.render(report)
    return Outcome(report, text, json.dumps(report, indent=2, ensure_ascii=False) + "\n", export, notes)


def _export(endpoint: str, headers: dict, data, cache: MetricsCache | None, resend: bool) -> otlp.ExportResult:
    import hashlib

    key = hashlib.sha256(endpoint.encode()).hexdigest()[:16]
    repos = {r.name: r for r in data.repositories}
    sent: dict[str, dict[str, int]] = {}
    for repo in repos:
        sent[repo] = {} if (resend or cache is None) else cache.repo(repo).exported(key)
    todo = [r for r in data.runs if r.complete and sent[r.repo].get(str(r.id)) != r.attempt]
    result = otlp.export(endpoint, headers, todo, repos, timeout=float(os.environ.get("CI_TOOLS_HTTP_TIMEOUT", "20")),
                         backoff=float(os.environ.get("CI_TOOLS_HTTP_BACKOFF", "1.0")),
                         max_wait=float(os.environ.get("CI_TOOLS_HTTP_MAX_WAIT", "120")))
    if cache is not None:
        for repo in repos:
            done = {str(r.id): r.attempt for r in result.exported if r.repo == repo}
            if done:
                cache.repo(repo).mark_exported(key, done)
    return result
