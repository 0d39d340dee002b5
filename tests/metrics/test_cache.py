"""The cache: a completed run is read once; a warm run asks only for what is new; a bad cache costs requests only."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from support.github_api import GitHubDouble
from support.pipelines import Attempt, Job, Step, busy_repository

from .conftest import UNTIL

JOBS = r"/actions/runs/\d+/jobs"


@pytest.fixture
def small():
    """A scenario of its own (these tests change what the double serves)."""
    return busy_repository("org/app", until=UNTIL, runs=60, seed=5)


@pytest.fixture
def served(small):
    with GitHubDouble() as double:
        double.add_repo("org/app", actions=small.pipelines.data)
        yield double


def run(cli, served, tmp_path, *args: str, until: str = "2026-03-02T12:00:00Z"):
    env = {"GITHUB_API_URL": served.url, "XDG_CACHE_HOME": str(tmp_path / "cache"), "CI": "true",
           "CI_TOOLS_HTTP_BACKOFF": "0.01"}
    served.reset_log()
    done = cli("metrics", "org/app", "--until", until, "--format", "json", *args, env=env)
    assert done.returncode in (0, 1) and "Traceback" not in done.stderr, done.stderr
    report = json.loads(done.stdout)
    for volatile in ("generated_at", "api"):
        report.pop(volatile)
    return report


def segments(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "cache").rglob("segment-*.json"))


def test_a_warm_run_makes_three_requests_and_reports_the_same(cli, served, small, tmp_path):
    cold = run(cli, served, tmp_path)
    completed = sum(r["status"] == "completed" for r in small.pipelines.data.runs)
    assert served.count(JOBS) == completed
    warm = run(cli, served, tmp_path)
    assert served.log and served.count() == 3, served.log  # the repository, the new runs, the new artifacts
    assert served.count(r"/actions/runs\?") == 1 and served.count(r"/actions/artifacts\?") == 1
    assert warm == cold


def test_new_runs_cost_their_own_requests_only(cli, served, small, tmp_path):
    early = (UNTIL - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    run(cli, served, tmp_path, "--since", "30d", until=early)
    later = [r for r in small.pipelines.data.runs if r["created_at"] > early and r["status"] == "completed"]
    assert later
    report = run(cli, served, tmp_path, "--since", "32d")
    assert served.count(JOBS) == len(later)
    assert served.count(r"/actions/runs\?") == 1
    assert report["totals"]["runs"] == len(small.pipelines.data.runs)


def test_runs_in_progress_are_read_again_once_they_complete(cli, served, small, tmp_path):
    first = run(cli, served, tmp_path)
    data = small.pipelines.data
    running = sum(r["status"] != "completed" for r in data.runs)
    assert first["totals"]["in_progress"] == running > 0
    for obj in data.runs:
        if obj["status"] != "completed":
            obj.update(status="completed", conclusion="success")
            for job in data.jobs[obj["id"]]:
                if job["status"] != "completed":
                    step = job["steps"][-1]
                    step.update(status="completed", conclusion="success", completed_at=step["started_at"])
                    job.update(status="completed", conclusion="success", completed_at=step["started_at"])
    second = run(cli, served, tmp_path)
    assert served.count(JOBS) == running
    assert second["totals"]["in_progress"] == 0
    assert second["totals"]["completed"] == first["totals"]["completed"] + running


def test_a_filtered_pass_lists_for_later_unfiltered_ones(cli, served, small, tmp_path):
    nightly = run(cli, served, tmp_path, "--workflow", "Nightly")
    assert served.count(JOBS) == nightly["totals"]["completed"]
    everything = run(cli, served, tmp_path)
    assert served.count(r"/actions/runs\?") == 1  # listed once already: only the newest stretch again
    assert served.count(JOBS) == everything["totals"]["completed"] - nightly["totals"]["completed"]


@pytest.mark.parametrize("content", [b"\x00not json", b'{"runs": {"1": {"run": "x"}}, "artifacts": {}}',
                                     b'{"runs": {"1": {"run": [1, "CI", "", "", "push", "main", "", "completed", '
                                     b'"success", "yesterday", null, null, 1, 1, "", []], "jobs": []}}, "artifacts": {}}',
                                     b'{"runs": {}, "artifacts": {"5": {"run_id": "x", "name": 3}}}'])
def test_an_unreadable_or_hostile_cache_is_ignored_and_refetched(cli, served, tmp_path, content):
    cold = run(cli, served, tmp_path)
    for segment in segments(tmp_path):
        segment.write_bytes(content)
    again = run(cli, served, tmp_path)
    assert again == cold
    assert served.count(JOBS) > 0


def test_no_cache_writes_nothing(cli, served, tmp_path):
    run(cli, served, tmp_path, "--no-cache")
    assert not (tmp_path / "cache").exists()
    run(cli, served, tmp_path, "--no-cache")
    assert served.count(JOBS) > 0


def test_segments_are_merged_past_the_limit(cli, served, small, tmp_path):
    from ci_tools.metrics.cache import MAX_SEGMENTS

    pipelines = small.pipelines
    run(cli, served, tmp_path)
    for n in range(MAX_SEGMENTS + 1):  # one new run before each pass: one new segment each
        created = UNTIL - timedelta(minutes=12 - n * 0.5)
        pipelines.add_run(created=created, title=f"late {n}", attempts=[Attempt([Job("late", [Step("work", 5)])])])
        run(cli, served, tmp_path)
    assert len(segments(tmp_path)) <= 2
    final = run(cli, served, tmp_path)
    assert served.count(JOBS) == 0 and final["totals"]["runs"] == len(pipelines.data.runs)
