"""Reading the runs, jobs and test reports of a window from the API and the cache.

Four phases, each on a bounded pool of ``jobs`` threads: the repositories (one request each, or the
organisation's list), the runs listed per repository (only the stretches the cache does not cover),
the jobs of each completed run not yet read (one request per run: every attempt at once), and the
JUnit artifacts (the repository's list read back to the last one seen, then each archive of a
selected run once). Workflow and branch filters apply before jobs and artifacts are read, so they
save requests; the cache keeps what it lists either way, so a later run without the filters does not
list again. A progress counter goes to stderr on a terminal (:class:`ci_tools.core.progress.Progress`).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Protocol

from ci_tools.gha.resolve.base import NotFound, ResolveError
from ci_tools.metrics import junit
from ci_tools.metrics.cache import OVERLAP, MetricsCache, RepoCache
from ci_tools.metrics.client import ActionsClient
from ci_tools.metrics.errors import MetricsError
from ci_tools.metrics.model import Job, MalformedAnswer, Repository, Run, Skip, TestReport
from ci_tools.metrics.timeutil import api_time


@dataclass
class Query:
    repos: list[str]
    org: str | None
    since: float
    until: float
    workflows: list[str] = field(default_factory=list)  # names, file names or paths; globs; any case
    branches: list[str] = field(default_factory=list)  # globs
    artifacts: str = "*junit*"  # which artifacts hold JUnit XML (glob, any case)
    tests: bool = True
    jobs: int = 8

    def selects(self, run: Run) -> bool:
        if self.workflows:
            names = (run.workflow.lower(), run.path.lower(), run.path.rsplit("/", 1)[-1].lower())
            if not any(fnmatchcase(n, w.lower()) for w in self.workflows for n in names):
                return False
        if self.branches and not any(fnmatchcase(run.branch, b) for b in self.branches):
            return False
        return self.since <= run.created <= self.until


@dataclass
class Dataset:
    query: Query
    repositories: list[Repository]
    runs: list[Run]  # selected runs of the window; completed ones with their jobs
    reports: list[TestReport]
    skips: list[Skip]
    requests: int = 0
    fetched_runs: int = 0  # runs whose jobs were read from the API in this pass
    cached_runs: int = 0  # runs whose jobs came from the cache


class ProgressBar(Protocol):
    """What collect asks of a progress display (:class:`ci_tools.core.progress.Progress`, or a test's)."""

    def step(self) -> None: ...

    def close(self) -> None: ...


ProgressFactory = Callable[[int, str], ProgressBar]


def _default_progress(total: int, label: str) -> ProgressBar:
    from ci_tools.core.progress import Progress

    return Progress(total, label)


def collect(query: Query, client: ActionsClient, cache: MetricsCache | None, *, now: float,
            progress: ProgressFactory = _default_progress) -> Dataset:
    repositories = _repositories(query, client)
    caches = {r.name: (cache.repo(r.name).load() if cache else RepoCache(None, r.name))
              for r in repositories}
    skips: list[Skip] = []
    upper = min(query.until, now)

    with ThreadPoolExecutor(max_workers=query.jobs) as pool:
        states = dict(zip((r.name for r in repositories),
                          pool.map(lambda r: _list_runs(client, caches[r.name], r.name, query.since, upper),
                                   repositories), strict=True))
        selected: dict[str, list[Run]] = {}
        for repo in repositories:
            rc = caches[repo.name]
            running = states[repo.name]["in_progress"]
            again = {run.id for run in running}  # a completed run re-run since: its new attempt is running
            selected[repo.name] = sorted((run for run in rc.runs.values() if query.selects(run) and run.id not in again),
                                         key=lambda r: r.created)
            selected[repo.name] += [run for run in running if query.selects(run)]
        todo = [(repo, run) for repo, runs in selected.items() for run in runs
                if run.complete and run.id not in caches[repo].jobs_read]
        cached_runs = sum(1 for runs in selected.values() for run in runs if run.complete) - len(todo)
        bar = progress(len(todo), "reading jobs of runs")
        bad: set[tuple[str, int]] = set()

        def read_jobs(item: tuple[str, Run]) -> None:
            repo, run = item
            try:
                run.jobs = [Job.from_api(j) for j in client.jobs(repo, run.id)]
            except MalformedAnswer as exc:
                bad.add((repo, run.id))
                skips.append(Skip(repo, run.id, "jobs", "bad-answer", str(exc)))
            else:
                caches[repo].put_run(run, jobs_read=True)
            bar.step()

        try:
            list(pool.map(read_jobs, todo))
        finally:
            bar.close()
        for name in selected:
            selected[name] = [run for run in selected[name] if (name, run.id) not in bad]

        reports: list[TestReport] = []
        artifact_states: dict[str, dict] = {}
        if query.tests:
            artifact_states = dict(zip((r.name for r in repositories), pool.map(
                lambda r: _list_artifacts(client, caches[r.name], r.name, query.since, now), repositories), strict=True))
            reports = _read_artifacts(query, client, caches, selected, skips, pool, progress)

    for repo in repositories:
        rc = caches[repo.name]
        if cache is not None:
            rc.save({**states[repo.name]["state"], **artifact_states.get(repo.name, {})})
    runs = [run for repo in repositories for run in selected[repo.name]]
    return Dataset(query, repositories, runs, reports, skips, client.requests, len(todo) - len(bad), cached_runs)


# ------------------------------------------------------------------------------- repositories
def _repositories(query: Query, client: ActionsClient) -> list[Repository]:
    found: dict[str, Repository] = {}
    if query.org:
        for repo in client.organisation(query.org):
            found.setdefault(repo.name.lower(), repo)
    wanted = [name for name in query.repos if name.lower() not in found]
    with ThreadPoolExecutor(max_workers=max(1, min(query.jobs, len(wanted) or 1))) as pool:
        for repo in pool.map(client.repository, wanted):
            found.setdefault(repo.name.lower(), repo)
    return sorted(found.values(), key=lambda r: r.name.lower())


# ------------------------------------------------------------------------------- runs
def _merge(intervals: list[list[float]]) -> list[list[float]]:
    out: list[list[float]] = []
    for lo, hi in sorted(intervals):
        if out and lo <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], hi)
        else:
            out.append([lo, hi])
    return out


def missing(covered: list[list[float]], pending_from: float | None, since: float, upper: float) -> list[tuple]:
    """The parts of ``[since, upper]`` not covered: each covered stretch ends :data:`OVERLAP` seconds early,
    and nothing from the oldest run still in progress (``pending_from``) on counts as covered."""
    parts, at = [], since
    for lo, hi in _merge([list(c) for c in covered]):
        hi = hi - OVERLAP
        if pending_from is not None:
            hi = min(hi, pending_from - 1)
        if hi <= lo or hi < at:
            continue
        if lo > at:
            parts.append((at, min(lo, upper)))
        at = max(at, hi)
        if at >= upper:
            break
    if at < upper:
        parts.append((at, upper))
    return [(lo, hi) for lo, hi in parts if hi >= lo]


def _intervals(rc: RepoCache, key: str) -> list[list[float]]:
    value = rc.state.get(key)
    if not isinstance(value, list):
        return []
    return [[float(a), float(b)] for a, b in (v for v in value if isinstance(v, list) and len(v) == 2)
            if isinstance(a, (int, float)) and isinstance(b, (int, float))]


def _list_runs(client: ActionsClient, rc: RepoCache, repo: str, since: float, upper: float) -> dict:
    covered = _intervals(rc, "listed")
    pending = rc.state.get("pending_from")
    pending = float(pending) if isinstance(pending, (int, float)) else None
    if pending is not None and pending < since:
        # a run in progress before this window: forget what was listed from it on rather than list it all again
        covered = [[lo, min(hi, pending - 1)] for lo, hi in covered if lo < pending]
        pending = None
    parts = missing(covered, pending, since, upper)
    in_progress: list[Run] = []
    pending_from: float | None = None
    for lo, hi in parts:
        for raw in client.runs(repo, lo, hi):
            try:
                run = Run.from_api(repo, raw)
            except MalformedAnswer as exc:
                raise MetricsError(f'GitHub API answered an unexpected body for the workflow runs of "{repo}": '
                                   f"{exc}") from None
            if not run.complete:
                in_progress.append(run)
                pending_from = run.created if pending_from is None else min(pending_from, run.created)
                continue
            cached = rc.runs.get(run.id)
            if cached is None or cached.attempt != run.attempt or cached.status != run.status:
                rc.put_run(run, jobs_read=False)
                rc.jobs_read.discard(run.id)
    if pending is not None and not any(lo <= pending <= hi for lo, hi in parts):
        pending_from = pending if pending_from is None else min(pending, pending_from)  # not listed again: still open
    state: dict[str, object] = {"listed": _merge(covered + [[lo, hi] for lo, hi in parts])}
    if pending_from is not None:
        state["pending_from"] = pending_from
    return {"state": state, "in_progress": in_progress}


# ------------------------------------------------------------------------------- artifacts
def _list_artifacts(client: ActionsClient, rc: RepoCache, repo: str, since: float, now: float) -> dict:
    covered = _merge(_intervals(rc, "artifacts"))
    newer_than = since
    for lo, hi in covered:
        if lo <= since <= hi:
            newer_than = max(since, hi - OVERLAP)
    for item in client.artifacts(repo, newer_than):
        artifact_id, run = item.get("id"), item.get("workflow_run")
        created = api_time(item.get("created_at"))
        if not isinstance(artifact_id, int) or not isinstance(run, dict) or not isinstance(run.get("id"), int) \
                or created is None:
            raise MetricsError(f'GitHub API answered an unexpected body for the artifacts of "{repo}"')
        if artifact_id in rc.artifacts:
            continue
        rc.put_artifact(artifact_id, {"name": str(item.get("name") or ""), "run_id": run["id"], "created": created,
                                      "expired": bool(item.get("expired"))})
    return {"artifacts": _merge(covered + [[newer_than, now]])}


def _read_artifacts(query: Query, client: ActionsClient, caches: dict[str, RepoCache], selected: dict[str, list[Run]],
                    skips: list[Skip], pool: ThreadPoolExecutor, progress: ProgressFactory) -> list[TestReport]:
    wanted: list[tuple[str, int, dict]] = []
    reports: list[TestReport] = []
    for repo, runs in selected.items():
        rc = caches[repo]
        ids = {run.id for run in runs if run.complete}
        for artifact_id, entry in sorted(rc.artifacts.items()):
            if entry["run_id"] not in ids or not fnmatchcase(entry["name"].lower(), query.artifacts.lower()):
                continue
            if "report" in entry:
                reports.append(TestReport.from_cache(entry["report"]))
            elif "skip" in entry:
                reason, detail = entry["skip"]
                skips.append(Skip(repo, entry["run_id"], entry["name"], reason, detail))
            else:
                wanted.append((repo, artifact_id, entry))
    bar = progress(len(wanted), "reading test reports")

    def read(item: tuple[str, int, dict]) -> None:
        repo, artifact_id, entry = item
        try:
            outcome = _read_one(client, repo, artifact_id, entry)
        finally:
            bar.step()
        if isinstance(outcome, TestReport):
            reports.append(outcome)
            caches[repo].put_artifact(artifact_id, {**entry, "report": outcome.to_cache()})
        else:
            skips.append(outcome)
            if outcome.reason != "download-failed":  # an archive never changes: neither does its verdict
                caches[repo].put_artifact(artifact_id, {**entry, "skip": [outcome.reason, outcome.detail]})

    try:
        list(pool.map(read, wanted))
    finally:
        bar.close()
    return sorted(reports, key=lambda r: (r.run_id, r.artifact_id))


def _read_one(client: ActionsClient, repo: str, artifact_id: int, entry: dict) -> TestReport | Skip:
    name, run_id = entry["name"], entry["run_id"]
    if entry.get("expired"):
        return Skip(repo, run_id, name, "expired", "")
    try:
        data = client.download(repo, artifact_id)
    except NotFound:
        return Skip(repo, run_id, name, "download-failed", "not found")
    except ResolveError as exc:
        text = str(exc)
        if "HTTP 410" in text:
            return Skip(repo, run_id, name, "expired", "")
        if "larger than" in text:
            return Skip(repo, run_id, name, "too-large", f"larger than {client.max_artifact_bytes} bytes")
        return Skip(repo, run_id, name, "download-failed", text)
    try:
        results = junit.read_archive(data)
    except junit.ArtifactSkip as skip:
        return Skip(repo, run_id, name, skip.reason, skip.detail)
    return TestReport(artifact_id, name, run_id, float(entry["created"]), results)
