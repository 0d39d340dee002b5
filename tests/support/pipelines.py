"""A repository's GitHub Actions history, built for the API double (:class:`support.github_api.ActionsData`).

:class:`Pipelines` records workflow runs the way GitHub does: each run with its attempts (a re-run is
a new attempt of the same run, and the run object shows the latest), each attempt's jobs with their
runner labels, queue time and steps, and the JUnit XML a job uploads as a zip artifact (pytest's
``--junitxml`` layout, which ``python-ci.yml`` uploads as ``junit-python-X.Y``). Timestamps are
whole seconds, as the API gives them. Artifacts older than the retention period are listed as
``expired`` and their archives answer 410, as GitHub's do.

:func:`busy_repository` is the scenario of the tests and the benchmark: a busy service repository
with pushes to ``main``, pull requests (several commits each, some commits run both as a push and as a
pull request), a nightly schedule, Linux, Windows, macOS and self-hosted runners, and four stories
the report must tell: a flaky test that fails one run in eight and passes on the re-run, a docs step
that grows from one to three minutes over the window, a test that broke on ``main`` two days before
the end (``main`` red since then) and two runs still in progress.
"""

from __future__ import annotations

import hashlib
import io
import random
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from xml.sax.saxutils import escape, quoteattr

from support.github_api import ActionsData


@dataclass
class Step:
    name: str
    seconds: float
    conclusion: str = "success"


@dataclass
class Case:
    """One test case of a JUnit report."""

    classname: str
    name: str
    seconds: float = 0.01
    outcome: str = "passed"  # passed | failed | error | skipped
    message: str = "assert False"


@dataclass
class Job:
    name: str
    steps: list[Step]
    labels: list[str] = field(default_factory=lambda: ["ubuntu-latest"])
    queue: float = 5.0
    conclusion: str | None = None  # default: failure when a step failed, else success
    artifact: str | None = None  # the JUnit artifact this job uploads, named so
    cases: list[Case] = field(default_factory=list)
    junit_xml: bytes | None = None  # the archive's junit.xml as given (hostile tests), instead of ``cases``
    zip_bytes: bytes | None = None  # the whole archive as given (hostile tests)


@dataclass
class Attempt:
    jobs: list[Job]
    gap: float = 240.0  # seconds between the previous attempt's end and this one's start
    in_progress: bool = False  # the last job is still running


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def junit_xml(cases: list[Case], suite: str = "pytest") -> bytes:
    failures = sum(c.outcome == "failed" for c in cases)
    errors = sum(c.outcome == "error" for c in cases)
    skipped = sum(c.outcome == "skipped" for c in cases)
    total = sum(c.seconds for c in cases)
    body = []
    for case in cases:
        head = f"<testcase classname={quoteattr(case.classname)} name={quoteattr(case.name)} time=\"{case.seconds:.3f}\""
        if case.outcome == "passed":
            body.append(head + " />")
            continue
        tag = {"failed": "failure", "error": "error", "skipped": "skipped"}[case.outcome]
        body.append(f"{head}><{tag} message={quoteattr(case.message)}>{escape(case.message)}</{tag}></testcase>")
    return ("<?xml version=\"1.0\" encoding=\"utf-8\"?><testsuites name=\"pytest tests\">"
            f"<testsuite name={quoteattr(suite)} errors=\"{errors}\" failures=\"{failures}\" skipped=\"{skipped}\" "
            f"tests=\"{len(cases)}\" time=\"{total:.3f}\" hostname=\"runner\">" + "".join(body)
            + "</testsuite></testsuites>").encode()


def zip_of(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


class Pipelines:
    """Builds the Actions history of one repository; :attr:`data` is what the double serves."""

    def __init__(self, repo: str, *, until: datetime, default_branch: str = "main", retention_days: int = 14,
                 first_id: int = 9_000_000) -> None:
        self.repo = repo
        self.until = until
        self.default_branch = default_branch
        self.retention = timedelta(days=retention_days)
        self.data = ActionsData()
        self._ids = first_id
        self._run_number = 0

    def _id(self) -> int:
        self._ids += 1
        return self._ids

    def add_run(self, *, workflow: str = "CI", path: str = ".github/workflows/ci.yml", event: str = "push",
                branch: str | None = None, sha: str | None = None, created: datetime, title: str = "Update",
                attempts: list[Attempt], pull_request: int | None = None, actor: str = "dev") -> dict:
        """Record one run with its attempts; returns the run as the API shows it (its latest attempt)."""
        branch = branch or self.default_branch
        sha = sha or hashlib.sha1(f"{self.repo} {created} {title}".encode()).hexdigest()
        run_id = self._id()
        self._run_number += 1
        workflow_id = int(hashlib.sha1(path.encode()).hexdigest()[:6], 16)
        html = f"https://github.com/{self.repo}/actions/runs/{run_id}"
        start = created + timedelta(seconds=1)
        objects, jobs = [], []
        for number, attempt in enumerate(attempts, 1):
            if number > 1:
                start = start + timedelta(seconds=attempt.gap)
            ends, failed, cancelled = [start], False, False
            for spec in attempt.jobs:
                job, end = self._job(spec, run_id, number, start, sha, branch, workflow,
                                     running=attempt.in_progress and spec is attempt.jobs[-1])
                jobs.append(job)
                ends.append(end or start)
                failed |= job["conclusion"] in ("failure", "timed_out")
                cancelled |= job["conclusion"] == "cancelled"
                if spec.artifact and end is not None:
                    self._artifact(spec, run_id, end, sha, branch)
            end = max(ends)
            status = "in_progress" if attempt.in_progress else "completed"
            conclusion = None if attempt.in_progress else (
                "failure" if failed else "cancelled" if cancelled else "success")
            objects.append({
                "id": run_id, "name": workflow, "node_id": f"WFR_{run_id}", "head_branch": branch, "head_sha": sha,
                "path": path, "display_title": title, "run_number": self._run_number, "event": event,
                "status": status, "conclusion": conclusion, "workflow_id": workflow_id,
                "check_suite_id": run_id * 3, "url": f"https://api.github.com/repos/{self.repo}/actions/runs/{run_id}",
                "html_url": html,
                "pull_requests": ([{"number": pull_request, "head": {"ref": branch, "sha": sha},
                                    "base": {"ref": self.default_branch, "sha": "0" * 40}}] if pull_request else []),
                "created_at": iso(created), "updated_at": iso(end), "actor": {"login": actor},
                "triggering_actor": {"login": actor}, "run_attempt": number, "run_started_at": iso(start),
                "jobs_url": f"{html}/jobs", "previous_attempt_url": None if number == 1 else f"{html}/attempts/{number - 1}",
                "head_commit": {"id": sha, "message": title, "timestamp": iso(created)},
                "repository": {"full_name": self.repo}, "head_repository": {"full_name": self.repo},
            })
            start = end
        self.data.runs.append(objects[-1])
        self.data.attempts[run_id] = objects
        self.data.jobs[run_id] = jobs
        return objects[-1]

    def _job(self, spec: Job, run_id: int, attempt: int, created: datetime, sha: str, branch: str, workflow: str,
             *, running: bool) -> tuple[dict, datetime | None]:
        job_id = self._id()
        started = created + timedelta(seconds=round(spec.queue))
        at = started
        steps, failed = [], False
        for number, step in enumerate(spec.steps, 1):
            done = at + timedelta(seconds=max(0, round(step.seconds)))
            last = number == len(spec.steps)
            if running and last:
                steps.append({"name": step.name, "status": "in_progress", "conclusion": None, "number": number,
                              "started_at": iso(at), "completed_at": None})
                break
            steps.append({"name": step.name, "status": "completed", "conclusion": step.conclusion, "number": number,
                          "started_at": iso(at), "completed_at": iso(done)})
            failed |= step.conclusion == "failure"
            at = done
        conclusion = None if running else (spec.conclusion or ("failure" if failed else "success"))
        html = f"https://github.com/{self.repo}/actions/runs/{run_id}/job/{job_id}"
        job = {"id": job_id, "run_id": run_id, "run_url": f"https://api.github.com/repos/{self.repo}/actions/runs/{run_id}",
               "run_attempt": attempt, "node_id": f"CR_{job_id}", "head_sha": sha, "url": html, "html_url": html,
               "status": "in_progress" if running else "completed", "conclusion": conclusion,
               "created_at": iso(created), "started_at": iso(started), "completed_at": None if running else iso(at),
               "name": spec.name, "steps": steps, "check_run_url": html, "labels": list(spec.labels),
               "runner_id": 7 if "self-hosted" in spec.labels else 1, "runner_name": "runner-" + spec.labels[0],
               "runner_group_id": 1, "runner_group_name": "Default" if "self-hosted" in spec.labels else "GitHub Actions",
               "workflow_name": workflow, "head_branch": branch}
        return job, None if running else at

    def _artifact(self, spec: Job, run_id: int, end: datetime, sha: str, branch: str) -> None:
        artifact_id = self._id()
        if spec.zip_bytes is not None:
            blob = spec.zip_bytes
        else:
            blob = zip_of({"junit.xml": spec.junit_xml if spec.junit_xml is not None else junit_xml(spec.cases)})
        created = end - timedelta(seconds=3)
        expires = created + self.retention
        self.data.artifacts.append({
            "id": artifact_id, "node_id": f"MDg6QXJ0aWZhY3Q{artifact_id}", "name": spec.artifact,
            "size_in_bytes": len(blob), "url": f"https://api.github.com/repos/{self.repo}/actions/artifacts/{artifact_id}",
            "archive_download_url": f"https://api.github.com/repos/{self.repo}/actions/artifacts/{artifact_id}/zip",
            "expired": expires <= self.until, "created_at": iso(created), "updated_at": iso(created),
            "expires_at": iso(expires), "digest": "sha256:" + hashlib.sha256(blob).hexdigest(),
            "workflow_run": {"id": run_id, "repository_id": 1, "head_repository_id": 1, "head_branch": branch,
                             "head_sha": sha}})
        self.data.blobs[artifact_id] = blob


# ---------------------------------------------------------------------------------------------- scenario
FLAKY = ("tests.test_api", "test_retry_backoff")
BROKEN = ("tests.test_export", "test_csv_header")
SLOW_TEST = ("tests.test_db", "test_migrations_from_scratch")
DOCS_STEP = "Build docs"


@dataclass
class Scenario:
    """What :func:`busy_repository` built, for the tests' expectations."""

    pipelines: Pipelines
    broken_at: datetime  # the first run on main after this fails test_csv_header
    flaky_failures: int = 0  # executions of the flaky test that failed
    reruns: int = 0


def _setup(rng: random.Random, python: str | None = None) -> list[Step]:
    steps = [Step("Set up job", rng.uniform(1, 3)), Step("Run actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1",
                                                              rng.uniform(2, 4))]
    if python:
        steps.append(Step("Run actions/setup-python@5fda3b95a4ea91299a34e894583c3862153e4b97", rng.uniform(6, 12)))
        steps.append(Step("Install dependencies", rng.uniform(22, 34)))
    return steps


def _teardown(rng: random.Random) -> list[Step]:
    return [Step("Post Run actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1", rng.uniform(0, 2)),
            Step("Complete job", rng.uniform(0, 1))]


def _cases(rng: random.Random, moment: datetime, scenario: Scenario, on_main_line: bool) -> list[Case]:
    cases = [Case(f"tests.test_mod{i // 5}", f"test_case_{i}", rng.uniform(0.01, 0.4)) for i in range(20)]
    cases.append(Case(*SLOW_TEST, rng.uniform(18, 24)))
    cases.append(Case("tests.test_cli", "test_help_is_printed", 0.02, "skipped", "needs a terminal"))
    flaky = rng.random() < 0.125
    scenario.flaky_failures += flaky
    cases.append(Case(*FLAKY, rng.uniform(1, 3), "failed" if flaky else "passed",
                      "TimeoutError: backoff did not finish in 2.0s"))
    broken = on_main_line and moment >= scenario.broken_at
    cases.append(Case(*BROKEN, rng.uniform(0.1, 0.3), "failed" if broken else "passed",
                      "AssertionError: header row missing"))
    return cases


def _test_job(rng: random.Random, version: str, moment: datetime, scenario: Scenario, on_main_line: bool,
              labels: list[str] | None = None, name: str | None = None) -> Job:
    cases = _cases(rng, moment, scenario, on_main_line)
    failed = any(c.outcome == "failed" for c in cases)
    pytest_seconds = 95 + sum(c.seconds for c in cases) + rng.uniform(-8, 8)
    steps = [*_setup(rng, version), Step("pytest", pytest_seconds, "failure" if failed else "success"),
             Step("Upload JUnit results", rng.uniform(1, 3)), *_teardown(rng)]
    return Job(name or f"test ({version})", steps, labels or ["ubuntu-latest"], queue=rng.uniform(3, 15),
               artifact=f"junit-python-{version}" if name is None else f"junit-{name.split()[-1].strip('()')}",
               cases=cases)


def _ci_jobs(rng: random.Random, moment: datetime, scenario: Scenario, *, push_main: bool, on_main_line: bool,
             until: datetime, days: int) -> list[Job]:
    progress = 1 - (until - moment) / timedelta(days=days)  # 0 at the window's start, 1 at its end
    jobs = [Job("lint", [*_setup(rng, "3.12"), Step("ruff check", rng.uniform(4, 7)), Step("Type check", rng.uniform(18, 25)),
                         *_teardown(rng)], queue=rng.uniform(2, 10)),
            _test_job(rng, "3.12", moment, scenario, on_main_line),
            _test_job(rng, "3.13", moment, scenario, on_main_line),
            Job("docs", [*_setup(rng, "3.12"), Step(DOCS_STEP, 60 + 120 * max(0.0, progress) + rng.uniform(-5, 5)),
                         *_teardown(rng)], queue=rng.uniform(2, 10))]
    if push_main:
        jobs.append(Job("test (windows)", [*_setup(rng, "3.12"), Step("pytest", rng.uniform(180, 230)), *_teardown(rng)],
                        ["windows-latest"], queue=rng.uniform(10, 40)))
        jobs.append(Job("integration", [*_setup(rng), Step("Integration tests", rng.uniform(200, 280)), *_teardown(rng)],
                        ["self-hosted", "linux", "x64"], queue=rng.uniform(30, 300)))
    return jobs


def busy_repository(repo: str = "org/app", *, until: datetime, runs: int = 1500, days: int = 30, seed: int = 17,
                    retention_days: int = 14) -> Scenario:
    """``runs`` workflow runs over ``days`` days ending at ``until`` (see the module's docstring)."""
    rng = random.Random(seed)
    pipelines = Pipelines(repo, until=until, retention_days=retention_days)
    scenario = Scenario(pipelines, broken_at=until - timedelta(hours=50))
    start = until - timedelta(days=days)
    nightly = [start + timedelta(days=d, hours=2) for d in range(days) if start + timedelta(days=d, hours=2) < until]
    ci_count = max(0, runs - len(nightly))
    moments = sorted(start + timedelta(seconds=rng.uniform(0, (until - start).total_seconds() - 900))
                     for _ in range(ci_count))
    branches = [f"feature/change-{n}" for n in range(1, 400)]
    events = []
    for moment in moments:
        events.append(("ci", moment))
    events += [("nightly", moment) for moment in nightly]
    events.sort(key=lambda e: e[1])
    pr = {"branch": branches[0], "number": 100, "commits": 0, "sha": None}
    next_branch = 1
    skip: set[int] = set()  # a commit run twice takes the place of the next run, so the count stays ``runs``
    for index, (kind, moment) in enumerate(events):
        if index in skip:
            continue
        if kind == "nightly":
            jobs = [_test_job(rng, "3.12", moment, scenario, True),
                    _test_job(rng, "3.12", moment, scenario, True, ["macos-latest"], "test (macos)")]
            pipelines.add_run(workflow="Nightly", path=".github/workflows/nightly.yml", event="schedule",
                              created=moment, title="Nightly", attempts=[Attempt(jobs)], actor="github-actions[bot]")
            continue
        push_main = rng.random() < 0.32
        if push_main:
            branch, event, number, title = "main", "push", None, f"Merge pull request #{pr['number']}"
            sha = hashlib.sha1(f"main {moment}".encode()).hexdigest()
        else:
            if pr["commits"] >= rng.randint(2, 6):
                pr = {"branch": branches[next_branch % len(branches)], "number": 100 + next_branch, "commits": 0}
                next_branch += 1
            pr["commits"] += 1
            branch, event, number = pr["branch"], "pull_request", pr["number"]
            title = f"Change {pr['number']}: step {pr['commits']}"
            sha = hashlib.sha1(f"{branch} {pr['commits']}".encode()).hexdigest()
        in_progress = index >= len(events) - 2
        attempts = [Attempt(_ci_jobs(rng, moment, scenario, push_main=push_main, on_main_line=True,
                                     until=until, days=days), in_progress=in_progress)]
        first_failed = any(any(s.conclusion == "failure" for s in j.steps) for j in attempts[0].jobs)
        if first_failed and not in_progress and rng.random() < 0.7:
            scenario.reruns += 1
            attempts.append(Attempt(_ci_jobs(rng, moment, scenario, push_main=push_main, on_main_line=True,
                                             until=until, days=days), gap=rng.uniform(120, 900)))
        pipelines.add_run(event=event, branch=branch, sha=sha, created=moment, title=title, attempts=attempts,
                          pull_request=number)
        spare = next((i for i in range(index + 1, len(events) - 2) if events[i][0] == "ci" and i not in skip), None)
        if not push_main and rng.random() < 0.1 and spare is not None:  # the same commit pushed to its branch
            skip.add(spare)
            pipelines.add_run(event="push", branch=branch, sha=sha, created=moment + timedelta(seconds=2),
                              title=title, attempts=[Attempt(_ci_jobs(rng, moment, scenario, push_main=False,
                                                                      on_main_line=True, until=until, days=days))])
    return scenario
