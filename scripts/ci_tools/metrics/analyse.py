"""The figures: from a :class:`~ci_tools.metrics.collect.Dataset` to the report (version 1), a plain dict that
the JSON output is and the Markdown output reads.

Definitions (also in ``docs/metrics.md``):

- a run counts once, by its latest attempt; it is *decided* when it succeeded or failed (``failure``,
  ``timed_out``, ``startup_failure``); cancelled and skipped runs are counted apart and left out of
  durations and success rates. *Duration* is its latest attempt's wall time (start to the end of its
  last job); *queue* is the time from its creation to its first job's start;
- a job or step counts once per attempt: a job that failed and then passed on a re-run is one
  failure and one success (``failure_rate`` is failures over decided executions), and a flaky job;
- percentiles interpolate linearly between the nearest ranks; *weeks* are 7-day buckets ending at
  the window's end, the newest first; a *trend* compares the median of the newest week with the
  median of the weeks before it (each with 3 samples or more): ``slower`` from +10 %, ``faster`` from
  -10 % (and by 2 s or more: GitHub's times are whole seconds), else ``steady``;
- the default branch is *red* for a workflow when its latest decided run there (pushes, schedules,
  anything but pull requests) failed; red *since* the end of the first failed run after the last
  success; an alert is raised when that is longer ago than the threshold;
- *time to first feedback* of a pull request commit: from the creation of its first run to the end of
  its first failing job, or when nothing failed, of its last job (first attempts only); *time to full
  result* is always the latter;
- runner minutes are each job's minutes rounded up, as GitHub bills them, by runner type (the first
  label; self-hosted runners by all their labels), times a rate per minute (:data:`DEFAULT_RATES`,
  overridden per runner type or family);
- a test is *flaky* when, on one commit, it both failed and passed (across attempts, re-runs or
  workflows), or when its runner retried a failure; *newly failing* when its latest results on the
  default branch failed after it had passed there in the window (two failures in a row, or one for
  a test never seen flaky); *slowest* by median duration.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from statistics import median
from typing import Any

from ci_tools.metrics.collect import Dataset
from ci_tools.metrics.model import FAILED, SKIP_REASONS, Run
from ci_tools.metrics.timeutil import iso

VERSION = 1
WEEK = 7 * 86400.0
MIN_SAMPLES = 3
TREND_THRESHOLD = 10.0  # percent
MIN_DELTA = 2.0  # seconds: a smaller change is steady whatever its percentage (times are whole seconds)
# GitHub's published per-minute rates (USD) of its standard hosted runners: Linux 2-core, Windows 2-core,
# macOS; larger Linux and Windows runners scale with their cores. Self-hosted minutes cost GitHub nothing.
DEFAULT_RATES = {"linux": 0.008, "windows": 0.016, "macos": 0.08, "self-hosted": 0.0}
_CORES = re.compile(r"(\d+)[-_ ]?cores?\b", re.I)


# ------------------------------------------------------------------------------- statistics
def percentile(values: list[float], q: float, *, ordered: bool = False) -> float:
    values = values if ordered else sorted(values)
    if not values:
        raise ValueError("no values")
    k = (len(values) - 1) * q
    lo, hi = math.floor(k), math.ceil(k)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def distribution(values: list[float]) -> dict | None:
    if not values:
        return None
    ordered = sorted(values)
    return {"p50": round(percentile(ordered, 0.5, ordered=True), 1),
            "p90": round(percentile(ordered, 0.9, ordered=True), 1), "max": round(ordered[-1], 1),
            "count": len(ordered)}


def _rate(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


class Weeks:
    """7-day buckets ending at ``until``; index 0 is the newest."""

    def __init__(self, since: float, until: float) -> None:
        self.since, self.until = since, until
        self.count = max(1, math.ceil((until - since) / WEEK))

    def index(self, moment: float) -> int | None:
        if not self.since <= moment <= self.until:
            return None
        return min(int((self.until - moment) // WEEK), self.count - 1)

    def start(self, k: int) -> float:
        """Where bucket ``k`` starts (the oldest one starts with the window, so it may be shorter)."""
        return max(self.since, self.until - (k + 1) * WEEK)


def trend(weekly: list[list[float]]) -> dict | None:
    """Newest week's median against the median of the weeks before (see the module's docstring)."""
    if not weekly or len(weekly[0]) < MIN_SAMPLES:
        return None
    before = [median(v) for v in weekly[1:] if len(v) >= MIN_SAMPLES]
    if not before:
        return None
    base, last = median(before), median(weekly[0])
    if base <= 0:
        return None
    change = (last - base) / base * 100.0
    direction = "slower" if change >= TREND_THRESHOLD else "faster" if change <= -TREND_THRESHOLD else "steady"
    if abs(last - base) < MIN_DELTA:
        direction = "steady"  # within the API's one-second resolution
    return {"change_percent": round(change, 1), "direction": direction, "last_week_p50": round(last, 1),
            "before_p50": round(base, 1), "delta_seconds": round(last - base, 1)}


# ------------------------------------------------------------------------------- helpers
def run_duration(run: Run) -> float | None:
    span = run.attempt_span(run.attempt)
    if span is not None:
        return span[1] - span[0]
    if run.started is not None and run.updated is not None and run.updated >= run.started:
        return run.updated - run.started
    return None


def run_end(run: Run) -> float:
    span = run.attempt_span(run.attempt)
    return span[1] if span else (run.updated or run.created)


def run_queue(run: Run) -> float | None:
    starts = [j.started for j in run.attempt_jobs(1) if j.started is not None]
    return max(0.0, min(starts) - run.created) if starts else None


def decided(conclusion: str | None) -> bool:
    return conclusion == "success" or conclusion in FAILED


def is_pull_request(run: Run) -> bool:
    return run.event.startswith("pull_request")


def runner_type(labels: list[str]) -> tuple[str, str]:
    """(runner type, family) of a job's labels: ``ubuntu-latest`` -> (ubuntu-latest, linux)."""
    lowered = [label.lower() for label in labels]
    if "self-hosted" in lowered:
        return "self-hosted: " + ", ".join(label for label in labels if label.lower() != "self-hosted"), "self-hosted"
    name = labels[0] if labels else "unknown"
    joined = " ".join(lowered)
    family = "windows" if "windows" in joined else "macos" if ("macos" in joined or "mac-" in joined) else "linux"
    return name, family


def rate_for(name: str, family: str, rates: dict[str, float]) -> float:
    if name in rates:
        return rates[name]
    base = rates.get(family, DEFAULT_RATES.get(family, 0.0))
    cores = _CORES.search(name)
    if cores and family in ("linux", "windows"):
        return base * int(cores[1]) / 2
    return base


# ------------------------------------------------------------------------------- the report
def analyse(data: Dataset, *, generated_at: float, rates: dict[str, float] | None = None,
            red_after: float | None = None) -> dict:
    rates = {**DEFAULT_RATES, **(rates or {})}
    query = data.query
    weeks = Weeks(query.since, query.until)
    default = {r.name: r.default_branch for r in data.repositories}
    complete = [r for r in data.runs if r.complete]
    report: dict[str, Any] = {
        "version": VERSION,
        "generated_at": iso(generated_at),
        "window": {"since": iso(query.since), "until": iso(query.until),
                   "days": round((query.until - query.since) / 86400, 1),
                   "weeks": [iso(weeks.start(k)) for k in range(weeks.count)]},
        "filters": {"workflows": list(query.workflows), "branches": list(query.branches)},
        "repositories": [{"name": r.name, "default_branch": r.default_branch,
                          "runs": sum(1 for x in data.runs if x.repo == r.name)} for r in data.repositories],
    }
    report["totals"] = _totals(data, complete)
    report["workflows"] = _workflows(complete, data.runs, weeks)
    report["jobs"], report["flaky_jobs"] = _jobs(complete, weeks)
    report["steps"] = _steps(complete, weeks)
    report["failures"] = _failures(complete, default)
    report["red"] = _red(complete, default, query.until, red_after)
    report["feedback"] = _feedback(data.runs)
    report["runners"] = _runners(complete, rates)
    report["totals"]["runner_minutes"] = sum(r["minutes"] for r in report["runners"])
    report["totals"]["estimated_cost_usd"] = round(sum(r["estimated_cost_usd"] for r in report["runners"]), 2)
    report["rates_usd_per_minute"] = rates
    report["tests"] = _tests(data, default)
    report["skipped"] = {"counts": dict(sorted(Counter(s.reason for s in data.skips).items())),
                         "reasons": {k: SKIP_REASONS[k] for k in sorted({s.reason for s in data.skips})},
                         "items": [s.to_json() for s in data.skips if s.reason != "expired"]}
    report["alerts"] = [r for r in report["red"] if r["alert"]]
    report["alert_threshold_hours"] = None if red_after is None else round(red_after / 3600, 2)
    report["api"] = {"requests": data.requests, "runs_read": data.fetched_runs, "runs_from_cache": data.cached_runs}
    return report


def _totals(data: Dataset, complete: list[Run]) -> dict:
    decided_runs = [r for r in complete if decided(r.conclusion)]
    durations = [d for r in decided_runs if (d := run_duration(r)) is not None]
    return {"runs": len(data.runs), "completed": len(complete), "in_progress": len(data.runs) - len(complete),
            "success_rate": _rate(sum(r.conclusion == "success" for r in decided_runs), len(decided_runs)),
            "duration": distribution(durations)}


def _workflows(complete: list[Run], every: list[Run], weeks: Weeks) -> list[dict]:
    groups: dict[tuple[str, str], list[Run]] = defaultdict(list)
    for run in complete:
        groups[(run.repo, run.workflow)].append(run)
    running = Counter((r.repo, r.workflow) for r in every if not r.complete)
    out = []
    for (repo, workflow), runs in groups.items():
        conclusions = Counter(r.conclusion for r in runs)
        failed = sum(v for k, v in conclusions.items() if k in FAILED)
        decided_runs = [r for r in runs if decided(r.conclusion)]
        durations = [d for r in decided_runs if (d := run_duration(r)) is not None]
        queues = [q for r in runs if (q := run_queue(r)) is not None]
        weekly: list[list[float]] = [[] for _ in range(weeks.count)]
        weekly_runs: list[list[Run]] = [[] for _ in range(weeks.count)]
        for r in decided_runs:
            k = weeks.index(r.created)
            if k is not None:
                weekly_runs[k].append(r)
                if (d := run_duration(r)) is not None:
                    weekly[k].append(d)
        reruns = [r for r in runs if r.attempt > 1]
        out.append({
            "repository": repo, "workflow": workflow, "path": runs[0].path, "runs": len(runs),
            "in_progress": running.get((repo, workflow), 0), "success": conclusions.get("success", 0),
            "failure": failed, "cancelled": conclusions.get("cancelled", 0),
            "success_rate": _rate(conclusions.get("success", 0), len(decided_runs)),
            "reruns": len(reruns), "passed_on_rerun": sum(1 for r in reruns if r.conclusion == "success"),
            "duration": distribution(durations), "queue": distribution(queues),
            "weeks": [{"start": iso(weeks.start(k)), "runs": len(weekly_runs[k]),
                       "success_rate": _rate(sum(r.conclusion == "success" for r in weekly_runs[k]),
                                             len(weekly_runs[k])),
                       "duration": distribution(weekly[k])} for k in range(weeks.count)],
            "trend": trend(weekly),
        })
    return sorted(out, key=lambda w: (-w["runs"], w["repository"], w["workflow"]))


def _jobs(complete: list[Run], weeks: Weeks) -> tuple[list[dict], list[dict]]:
    groups: dict[tuple[str, str, str], dict] = {}
    flaky: Counter = Counter()
    for run in complete:
        by_name: dict[str, list] = defaultdict(list)
        for job in run.jobs:
            key = (run.repo, run.workflow, job.name)
            g = groups.setdefault(key, {"durations": [], "queues": [], "success": 0, "failure": 0, "cancelled": 0,
                                        "skipped": 0, "labels": Counter(), "weekly": [[] for _ in range(weeks.count)]})
            by_name[job.name].append(job)
            if job.conclusion == "success":
                g["success"] += 1
            elif job.failed:
                g["failure"] += 1
            elif job.conclusion == "cancelled":
                g["cancelled"] += 1
            else:
                g["skipped"] += 1
            if decided(job.conclusion) and job.duration is not None:
                g["durations"].append(job.duration)
                k = weeks.index(run.created)
                if k is not None:
                    g["weekly"][k].append(job.duration)
            if job.queue is not None and job.conclusion != "skipped":
                g["queues"].append(job.queue)
            g["labels"][tuple(job.labels)] += 1
        for name, jobs in by_name.items():  # failed on one attempt, passed on a later one
            jobs.sort(key=lambda j: j.attempt)
            if any(a.failed and b.conclusion == "success" for a, b in zip(jobs, jobs[1:], strict=False)):
                flaky[(run.repo, run.workflow, name)] += 1
    out = []
    for (repo, workflow, name), g in groups.items():
        decided_count = g["success"] + g["failure"]
        labels = list(g["labels"].most_common(1)[0][0]) if g["labels"] else []
        out.append({"repository": repo, "workflow": workflow, "job": name,
                    "executions": decided_count + g["cancelled"] + g["skipped"], "success": g["success"],
                    "failures": g["failure"], "cancelled": g["cancelled"],
                    "failure_rate": _rate(g["failure"], decided_count), "duration": distribution(g["durations"]),
                    "queue": distribution(g["queues"]), "runner": runner_type(labels)[0] if labels else "",
                    "trend": trend(g["weekly"])})
    out.sort(key=lambda j: (-(j["failure_rate"] or 0), -j["executions"], j["repository"], j["workflow"], j["job"]))
    flaky_jobs = [{"repository": r, "workflow": w, "job": j, "passed_on_rerun": n}
                  for (r, w, j), n in sorted(flaky.items(), key=lambda kv: (-kv[1], kv[0]))]
    return out, flaky_jobs


def _steps(complete: list[Run], weeks: Weeks) -> list[dict]:
    groups: dict[tuple, dict] = {}
    for run in complete:
        k = weeks.index(run.created)
        for job in run.jobs:
            for step in job.steps:
                if not decided(step.conclusion) or step.duration is None:
                    continue
                g = groups.setdefault((run.repo, run.workflow, job.name, step.name),
                                      {"durations": [], "failures": 0, "weekly": [[] for _ in range(weeks.count)]})
                g["durations"].append(step.duration)
                g["failures"] += step.conclusion in FAILED
                if k is not None:
                    g["weekly"][k].append(step.duration)
    out = [{"repository": r, "workflow": w, "job": j, "step": s, "executions": len(g["durations"]),
            "failures": g["failures"], "duration": distribution(g["durations"]), "trend": trend(g["weekly"])}
           for (r, w, j, s), g in groups.items()]
    out.sort(key=lambda s: (-(s["duration"] or {}).get("p50", 0), s["repository"], s["workflow"], s["job"], s["step"]))
    return out


def _failures(complete: list[Run], default: dict[str, str]) -> list[dict]:
    out: list[dict[str, Any]] = []
    for run in complete:
        if not run.failed:
            continue
        on_default = run.branch == default.get(run.repo) and not is_pull_request(run)
        jobs = []
        for job in run.attempt_jobs(run.attempt):
            if job.failed:
                step = next((s.name for s in job.steps if s.conclusion in FAILED), None)
                jobs.append({"job": job.name, "step": step, "url": job.url})
        out.append({"repository": run.repo, "workflow": run.workflow, "run_id": run.id, "run_number": run.number,
                    "attempt": run.attempt, "branch": run.branch, "default_branch": on_default, "event": run.event,
                    "sha": run.sha, "title": run.title, "conclusion": run.conclusion, "created_at": iso(run.created),
                    "url": run.url, "failed_jobs": jobs})
    # a broken default branch blocks everyone: its failures first, then the rest; newest first in each
    first = sorted((f for f in out if f["default_branch"]), key=lambda f: f["created_at"], reverse=True)
    rest = sorted((f for f in out if not f["default_branch"]), key=lambda f: f["created_at"], reverse=True)
    return first + rest


def _red(complete: list[Run], default: dict[str, str], until: float, red_after: float | None) -> list[dict]:
    groups: dict[tuple[str, str], list[Run]] = defaultdict(list)
    for run in complete:
        if run.branch == default.get(run.repo) and not is_pull_request(run) and decided(run.conclusion):
            groups[(run.repo, run.workflow)].append(run)
    out = []
    for (repo, workflow), runs in groups.items():
        runs.sort(key=lambda r: (r.created, r.id))
        if not runs[-1].failed:
            continue
        streak = []
        for run in reversed(runs):
            if not run.failed:
                break
            streak.append(run)
        first = streak[-1]
        since = run_end(first)
        hours = max(0.0, until - since) / 3600
        out.append({"repository": repo, "workflow": workflow, "branch": default[repo], "since": iso(since),
                    "hours": round(hours, 1), "failing_runs": len(streak), "first_failing_run": first.url,
                    "latest_failing_run": runs[-1].url, "sha": first.sha,
                    "alert": red_after is not None and hours * 3600 > red_after})
    return sorted(out, key=lambda r: (-r["hours"], r["repository"], r["workflow"]))


def _feedback(runs: list[Run]) -> dict:
    groups: dict[tuple[str, str], list[Run]] = defaultdict(list)
    for run in runs:
        if is_pull_request(run) and run.sha:
            groups[(run.repo, run.sha)].append(run)
    first, full, failed_first = [], [], 0
    for group in groups.values():
        if not all(r.complete for r in group):
            continue
        start = min(r.created for r in group)
        ends = [(j.completed, j.failed) for r in group for j in r.attempt_jobs(1) if j.completed is not None]
        if not ends:
            continue
        end = max(t for t, _ in ends)
        failures = [t for t, failed in ends if failed]
        full.append(end - start)
        if failures:
            failed_first += 1
            first.append(min(failures) - start)
        else:
            first.append(end - start)
    return {"commits": len(first), "first_feedback": distribution(first), "full_result": distribution(full),
            "failed_share": _rate(failed_first, len(first))}


def _runners(complete: list[Run], rates: dict[str, float]) -> list[dict]:
    groups: dict[str, dict] = {}
    for run in complete:
        for job in run.jobs:
            if job.duration is None:
                continue
            name, family = runner_type(job.labels)
            g = groups.setdefault(name, {"family": family, "jobs": 0, "minutes": 0, "seconds": 0.0})
            g["jobs"] += 1
            g["minutes"] += math.ceil(job.duration / 60) if job.duration > 0 else 0
            g["seconds"] += job.duration
    out = []
    for name, g in groups.items():
        rate = rate_for(name, g["family"], rates)
        out.append({"runner": name, "family": g["family"], "jobs": g["jobs"], "minutes": g["minutes"],
                    "hours": round(g["seconds"] / 3600, 1), "rate_usd_per_minute": rate,
                    "estimated_cost_usd": round(g["minutes"] * rate, 2)})
    return sorted(out, key=lambda r: (-r["estimated_cost_usd"], -r["minutes"], r["runner"]))


def _tests(data: Dataset, default: dict[str, str]) -> dict:
    runs = {(r.repo, r.id): r for r in data.runs}
    by_run: dict[int, list[str]] = defaultdict(list)
    for r in data.runs:
        by_run[r.id].append(r.repo)
    executions: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for report in data.reports:
        repos = by_run.get(report.run_id) or []
        if len(repos) != 1:
            continue  # a run id is unique on GitHub; an ambiguous one is left out rather than guessed
        run = runs[(repos[0], report.run_id)]
        attempt = 1
        for n in range(1, run.attempt + 1):
            span = run.attempt_span(n)
            if span is not None and span[0] <= report.created:
                attempt = n
        for result in report.results:
            executions[(run.repo, result.id)].append({
                "outcome": result.outcome, "duration": result.duration, "retried": result.retried, "run": run,
                "attempt": attempt, "created": report.created})
    flaky: list[dict[str, Any]] = []
    slow: list[dict[str, Any]] = []
    newly: list[dict[str, Any]] = []
    for (repo, test), items in executions.items():
        by_sha: dict[str, set[str]] = defaultdict(set)
        for e in items:
            by_sha[e["run"].sha].add(e["outcome"])
        flips = sum(1 for outcomes in by_sha.values() if {"passed", "failed"} <= outcomes)
        retried = sum(e["retried"] for e in items)
        failures = [e for e in items if e["outcome"] == "failed"]
        if flips or retried:
            example = max(failures, key=lambda e: e["created"])["run"].url if failures else ""
            flaky.append({"repository": repo, "test": test, "commits_with_both": flips, "retried": retried,
                          "failures": len(failures), "executions": len(items), "example_run": example,
                          "last_failure": iso(max(e["created"] for e in failures)) if failures else None})
        timed = [e["duration"] for e in items if e["outcome"] in ("passed", "failed")]
        if timed:
            slow.append({"repository": repo, "test": test, "duration": distribution(timed)})
        on_default = sorted((e for e in items if e["run"].branch == default.get(repo) and not is_pull_request(e["run"])
                             and e["outcome"] in ("passed", "failed")), key=lambda e: (e["created"], e["run"].id))
        if on_default and on_default[-1]["outcome"] == "failed":
            streak = []
            for e in reversed(on_default):
                if e["outcome"] != "failed":
                    break
                streak.append(e)
            passed_before = len(streak) < len(on_default)
            if passed_before and (len(streak) >= 2 or not (flips or retried)):
                first = streak[-1]
                newly.append({"repository": repo, "test": test, "since": iso(first["created"]),
                              "failures_in_a_row": len(streak), "first_failing_run": first["run"].url,
                              "sha": first["run"].sha})
    flaky.sort(key=lambda f: (-f["commits_with_both"], -f["failures"], f["repository"], f["test"]))
    slow.sort(key=lambda s: (-s["duration"]["p50"], s["repository"], s["test"]))
    newly.sort(key=lambda n: (n["since"], n["repository"], n["test"]), reverse=True)
    return {"reports": len(data.reports), "executions": sum(len(v) for v in executions.values()),
            "tests": len(executions), "flaky": flaky, "slowest": slow[:25], "newly_failing": newly}
