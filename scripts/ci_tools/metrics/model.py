"""The data of the metrics domain: runs, their jobs and steps, test results, and what was skipped.

Built from the GitHub API's answers by the ``from_api`` constructors, which check every field they
use: an answer of the wrong shape raises :class:`MalformedAnswer` (a named skip or a clear error,
never a traceback). ``to_cache``/``from_cache`` give the compact form the cache keeps for good.
Times are UTC epoch seconds; ``None`` where GitHub has none yet (a job still queued).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from ci_tools.core.redact import redact
from ci_tools.metrics.timeutil import api_time

# names repeat (steps, jobs, workflows): each distinct one is redacted once
_redact = lru_cache(maxsize=65536)(redact)

# conclusions that make a run, job or step red (GitHub's check-run conclusions)
FAILED = frozenset({"failure", "timed_out", "startup_failure"})
SKIP_REASONS = {
    "expired": "the artifact expired before it was read",
    "not-a-zip": "the artifact is not a zip archive",
    "zip-bomb": "the archive expands beyond the limits (size, ratio or members)",
    "too-large": "the artifact is larger than the download limit",
    "encrypted": "the archive member is encrypted",
    "no-junit": "the archive holds no JUnit XML file",
    "bad-xml": "the JUnit file is not well-formed XML",
    "xml-doctype": "the JUnit file declares a DOCTYPE or entities (refused: XXE and entity expansion)",
    "not-junit": "the XML file is not a JUnit report",
    "download-failed": "the artifact could not be downloaded",
    "bad-answer": "the API answered this run's jobs in an unexpected shape",
}


class MalformedAnswer(ValueError):
    """An API answer without the fields, or with fields of the wrong type, that metrics relies on."""


def _int(data: dict, key: str, what: str) -> int:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise MalformedAnswer(f"{what} has no integer {key!r}")
    return value


def _str(data: dict, key: str, default: str = "") -> str:
    """A text field, redacted: a run that printed a token into its title must not carry it any further
    (cache, reports, traces)."""
    value = data.get(key)
    return _redact(value) if isinstance(value, str) else default


def _opt_str(data: dict, key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) else None


@dataclass(slots=True)
class Step:
    name: str
    number: int
    conclusion: str | None
    started: float | None
    completed: float | None

    @property
    def duration(self) -> float | None:
        if self.started is None or self.completed is None:
            return None
        return max(0.0, self.completed - self.started)

    @classmethod
    def from_api(cls, data: object) -> Step:
        if not isinstance(data, dict):
            raise MalformedAnswer("a step is not an object")
        number = data.get("number")
        return cls(_str(data, "name", "(unnamed step)"), number if isinstance(number, int) else 0,
                   _opt_str(data, "conclusion"), api_time(data.get("started_at")), api_time(data.get("completed_at")))


@dataclass(slots=True)
class Job:
    id: int
    name: str
    attempt: int
    status: str
    conclusion: str | None
    created: float | None
    started: float | None
    completed: float | None
    labels: list[str]
    runner: str
    url: str
    steps: list[Step]

    @property
    def duration(self) -> float | None:
        if self.started is None or self.completed is None:
            return None
        return max(0.0, self.completed - self.started)

    @property
    def queue(self) -> float | None:
        if self.created is None or self.started is None:
            return None
        return max(0.0, self.started - self.created)

    @property
    def failed(self) -> bool:
        return self.conclusion in FAILED

    @classmethod
    def from_api(cls, data: object) -> Job:
        if not isinstance(data, dict):
            raise MalformedAnswer("a job is not an object")
        steps = data.get("steps") or []
        labels = data.get("labels") or []
        if not isinstance(steps, list) or not isinstance(labels, list):
            raise MalformedAnswer("a job's steps or labels are not lists")
        attempt = data.get("run_attempt")
        return cls(_int(data, "id", "a job"), _str(data, "name", "(unnamed job)"),
                   attempt if isinstance(attempt, int) and attempt > 0 else 1, _str(data, "status"),
                   _opt_str(data, "conclusion"), api_time(data.get("created_at")), api_time(data.get("started_at")),
                   api_time(data.get("completed_at")), [_redact(label) for label in labels if isinstance(label, str)],
                   _str(data, "runner_name"), _str(data, "html_url"), [Step.from_api(s) for s in steps])

    def to_cache(self) -> list:
        return [self.id, self.name, self.attempt, self.status, self.conclusion, self.created, self.started,
                self.completed, self.labels, self.runner, self.url,
                [[s.name, s.number, s.conclusion, s.started, s.completed] for s in self.steps]]

    @classmethod
    def from_cache(cls, row: list) -> Job:
        *head, steps = row
        # mypy cannot see the length of a cached row (JSON); a wrong one raises TypeError, which
        # RepoCache.load counts as damage
        return cls(*head, [Step(*s) for s in steps])  # type: ignore[call-arg]


@dataclass(slots=True)
class Run:
    repo: str
    id: int
    workflow: str
    path: str
    title: str
    event: str
    branch: str
    sha: str
    status: str
    conclusion: str | None
    created: float
    updated: float | None
    started: float | None  # run_started_at of the latest attempt
    attempt: int
    number: int
    url: str
    pull_requests: list[int] = field(default_factory=list)
    jobs: list[Job] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return self.status == "completed"

    @property
    def failed(self) -> bool:
        return self.conclusion in FAILED

    def attempt_jobs(self, attempt: int) -> list[Job]:
        return [j for j in self.jobs if j.attempt == attempt]

    def attempt_span(self, attempt: int) -> tuple[float, float] | None:
        """(start, end) of one attempt: the run's start (first attempt: its creation) to its last job's end."""
        jobs = self.attempt_jobs(attempt)
        ends = [j.completed for j in jobs if j.completed is not None]
        starts = [j.created for j in jobs if j.created is not None]
        if attempt == self.attempt and self.started is not None:
            starts.append(self.started)
        if not starts:
            return None
        start = min(starts)
        end = max(ends) if ends else (self.updated if attempt == self.attempt else None)
        return (start, end) if end is not None and end >= start else None

    @classmethod
    def from_api(cls, repo: str, data: object) -> Run:
        if not isinstance(data, dict):
            raise MalformedAnswer("a workflow run is not an object")
        run_id = _int(data, "id", "a workflow run")
        created = api_time(data.get("created_at"))
        if created is None:
            raise MalformedAnswer(f"workflow run {run_id} has no created_at")
        attempt = data.get("run_attempt")
        number = data.get("run_number")
        prs = data.get("pull_requests") or []
        pulls = [p["number"] for p in prs if isinstance(p, dict) and isinstance(p.get("number"), int)] \
            if isinstance(prs, list) else []
        return cls(repo, run_id, _str(data, "name") or _str(data, "path", "(unnamed workflow)"), _str(data, "path"),
                   _str(data, "display_title"), _str(data, "event"), _str(data, "head_branch"), _str(data, "head_sha"),
                   _str(data, "status"), _opt_str(data, "conclusion"), created, api_time(data.get("updated_at")),
                   api_time(data.get("run_started_at")), attempt if isinstance(attempt, int) and attempt > 0 else 1,
                   number if isinstance(number, int) else 0, _str(data, "html_url"), pulls)

    def to_cache(self) -> dict:
        return {"run": [self.id, self.workflow, self.path, self.title, self.event, self.branch, self.sha, self.status,
                        self.conclusion, self.created, self.updated, self.started, self.attempt, self.number,
                        self.url, self.pull_requests],
                "jobs": [j.to_cache() for j in self.jobs]}

    @classmethod
    def from_cache(cls, repo: str, data: dict) -> Run:
        """The cached form back; a cache is input too (restored from elsewhere): wrong types raise ValueError."""
        # a cached row's length is unknown to mypy: a wrong one raises TypeError (damage, RepoCache.load)
        run = cls(repo, *data["run"], jobs=[Job.from_cache(row) for row in data["jobs"]])  # type: ignore[misc]
        numbers = [run.created, run.updated, run.started] + [t for j in run.jobs for t in (j.created, j.started, j.completed)]
        numbers += [t for j in run.jobs for s in j.steps for t in (s.started, s.completed)]
        texts = [run.workflow, run.path, run.title, run.event, run.branch, run.sha, run.status, run.url]
        texts += [t for j in run.jobs for t in (j.name, j.status, j.runner, j.url, *j.labels)]
        texts += [s.name for j in run.jobs for s in j.steps]
        if not (isinstance(run.id, int) and isinstance(run.attempt, int) and isinstance(run.number, int)
                and all(t is None or isinstance(t, (int, float)) for t in numbers) and isinstance(run.created, (int, float))
                and all(isinstance(t, str) for t in texts) and all(isinstance(n, int) for n in run.pull_requests)
                and all(isinstance(j.id, int) and isinstance(j.attempt, int) for j in run.jobs)):
            raise ValueError("cached run of the wrong shape")
        return run


@dataclass(slots=True)
class TestResult:
    """One test case of one JUnit report: ``outcome`` is passed, failed or skipped; ``retried`` counts the
    failed tries a runner re-ran within the report (Surefire's flakyFailure, pytest-rerunfailures' rerun)."""

    id: str
    outcome: str
    duration: float
    retried: int = 0


@dataclass(slots=True)
class TestReport:
    """The results of one JUnit artifact of one run."""

    artifact_id: int
    name: str
    run_id: int
    created: float
    results: list[TestResult]

    def to_cache(self) -> dict:
        return {"artifact": [self.artifact_id, self.name, self.run_id, self.created],
                "results": [[r.id, r.outcome, r.duration, r.retried] for r in self.results]}

    @classmethod
    def from_cache(cls, data: dict) -> TestReport:
        # a cached row's length is unknown to mypy: a wrong one raises TypeError (damage, RepoCache.load)
        report = cls(*data["artifact"], [TestResult(*row) for row in data["results"]])  # type: ignore[call-arg]
        if not (isinstance(report.run_id, int) and isinstance(report.created, (int, float))
                and all(isinstance(r.id, str) and r.outcome in ("passed", "failed", "skipped")
                        and isinstance(r.duration, (int, float)) and isinstance(r.retried, int) for r in report.results)):
            raise ValueError("cached test report of the wrong shape")
        return report


@dataclass(slots=True)
class Skip:
    """An input left out of the figures, and why (``reason`` is a key of :data:`SKIP_REASONS`)."""

    repo: str
    run_id: int | None
    what: str
    reason: str
    detail: str = ""

    def to_json(self) -> dict:
        return {"repository": self.repo, "run_id": self.run_id, "input": self.what, "reason": self.reason,
                "detail": self.detail}


@dataclass
class Repository:
    name: str
    default_branch: str
    html_url: str = ""
