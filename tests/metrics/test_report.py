"""``ci-tools metrics`` end to end against the API double: the figures of a busy repository's month.

Every expectation is computed here from the raw API objects the double serves (or from what the
scenario put in them: the flaky test, the slowing docs step, the test that broke main), never copied
from a previous output.
"""

from __future__ import annotations

import json
import math
import re
from datetime import datetime
from statistics import median

import pytest

from support.github_api import GitHubDouble
from support.pipelines import BROKEN, DOCS_STEP, FLAKY, SLOW_TEST, busy_repository

from .conftest import UNTIL, UNTIL_TEXT


def ts(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def metrics(cli, env, *args: str):
    done = cli("metrics", "org/app", "--until", UNTIL_TEXT, *args, env=env)
    assert "Traceback" not in done.stderr, done.stderr
    return done


def as_json(cli, env, *args: str) -> tuple[object, dict]:
    done = metrics(cli, env, "--format", "json", *args)
    assert done.returncode in (0, 1), done.stderr
    return done, json.loads(done.stdout)


@pytest.fixture(scope="module")
def month(scenario, tmp_path_factory):
    """One run of the command over the scenario, its JSON and Markdown reports (most tests only read them)."""
    import os
    import subprocess
    import sys

    def run_cli(*args: str, env: dict):
        full = {k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "GITHUB_TOKEN", "GH_TOKEN")}
        return subprocess.run([sys.executable, "-m", "ci_tools", *args], env={**full, **env}, capture_output=True,
                              text=True, timeout=300)

    with GitHubDouble() as double:
        double.add_repo("org/app", actions=scenario.pipelines.data)
        env = {"GITHUB_API_URL": double.url, "XDG_CACHE_HOME": str(tmp_path_factory.mktemp("cache")), "CI": "true"}
        out = tmp_path_factory.mktemp("out")
        done = metrics(run_cli, env, "--alert-red-after", "24h", "--json-output", str(out / "report.json"))
        return done, json.loads((out / "report.json").read_text()), env


def test_run_counts_and_success_rates_match_the_runs_served(month, scenario):
    _, report, _ = month
    raw = scenario.pipelines.data.runs
    assert report["version"] == 1
    assert report["totals"]["runs"] == len(raw)
    assert report["totals"]["in_progress"] == sum(r["status"] != "completed" for r in raw) == 2
    for workflow in ("CI", "Nightly"):
        runs = [r for r in raw if r["name"] == workflow and r["status"] == "completed"]
        row = next(w for w in report["workflows"] if w["workflow"] == workflow)
        success = sum(r["conclusion"] == "success" for r in runs)
        failed = sum(r["conclusion"] == "failure" for r in runs)
        assert (row["runs"], row["success"], row["failure"]) == (len(runs), success, failed)
        assert row["success_rate"] == round(100 * success / (success + failed), 1)
        assert row["reruns"] == sum(r["run_attempt"] > 1 for r in runs)


def test_durations_and_queue_are_the_medians_of_the_jobs_times(month, scenario):
    _, report, _ = month
    data = scenario.pipelines.data
    durations, queues = [], []
    for run in data.runs:
        if run["name"] != "CI" or run["conclusion"] not in ("success", "failure"):
            continue
        latest = [j for j in data.jobs[run["id"]] if j["run_attempt"] == run["run_attempt"]]
        durations.append(max(ts(j["completed_at"]) for j in latest) - ts(run["run_started_at"]))
        first = [j for j in data.jobs[run["id"]] if j["run_attempt"] == 1]
        queues.append(min(ts(j["started_at"]) for j in first) - ts(run["created_at"]))
    row = next(w for w in report["workflows"] if w["workflow"] == "CI")
    assert row["duration"]["p50"] == round(median(durations), 1)
    assert row["duration"]["max"] == round(max(durations), 1)
    assert row["queue"]["p50"] == round(median(queues), 1)
    lint = next(j for j in report["jobs"] if j["job"] == "lint")
    executions = [j for run in data.runs if run["name"] == "CI" and run["status"] == "completed"
                  for j in data.jobs[run["id"]] if j["name"] == "lint"]
    assert lint["executions"] == len(executions)
    assert lint["duration"]["p50"] == round(median(ts(j["completed_at"]) - ts(j["started_at"]) for j in executions), 1)


def test_the_slowing_docs_step_is_reported_slower_and_steady_steps_are_not(month):
    done, report, _ = month
    docs = next(s for s in report["steps"] if s["step"] == DOCS_STEP)
    assert docs["trend"]["direction"] == "slower" and docs["trend"]["change_percent"] > 30
    ruff = next(s for s in report["steps"] if s["step"] == "ruff check")
    assert ruff["trend"]["direction"] == "steady"
    section = done.stdout.split("### Getting slower", 1)[1].split("###", 1)[0]
    assert DOCS_STEP in section and "ruff check" not in section


def test_flaky_newly_failing_and_slowest_tests(month, scenario):
    _, report, _ = month
    tests = report["tests"]
    assert [f["test"] for f in tests["flaky"]] == ["::".join(FLAKY)]
    assert tests["flaky"][0]["commits_with_both"] >= 3
    assert [n["test"] for n in tests["newly_failing"]] == ["::".join(BROKEN)]
    assert ts(tests["newly_failing"][0]["since"]) >= scenario.broken_at.timestamp()
    assert tests["slowest"][0]["test"] == "::".join(SLOW_TEST)
    # JUnit artifacts are kept 14 days: those of completed runs are read, the older ones are named as expired
    done = {r["id"] for r in scenario.pipelines.data.runs if r["status"] == "completed"}
    artifacts = [a for a in scenario.pipelines.data.artifacts if a["workflow_run"]["id"] in done]
    assert tests["reports"] == sum(not a["expired"] for a in artifacts)
    assert report["skipped"]["counts"]["expired"] == sum(a["expired"] for a in artifacts)


def test_default_branch_failures_come_first_and_the_red_streak_is_dated(cli, env, scenario):
    done, report = as_json(cli, env, "--alert-red-after", "24h")
    failures = report["failures"]
    flags = [f["default_branch"] for f in failures]
    assert flags == sorted(flags, reverse=True) and flags[0] is True
    ci = next(r for r in report["red"] if r["workflow"] == "CI")
    data = scenario.pipelines.data
    main = sorted((r for r in data.runs if r["name"] == "CI" and r["head_branch"] == "main" and r["event"] == "push"
                   and r["conclusion"] in ("success", "failure")), key=lambda r: r["created_at"])
    streak = []
    for run in reversed(main):
        if run["conclusion"] != "failure":
            break
        streak.append(run)
    assert ci["failing_runs"] == len(streak) and ci["first_failing_run"] == streak[-1]["html_url"]
    assert ts(ci["since"]) >= scenario.broken_at.timestamp()
    assert ci["alert"] is True and done.returncode == 1
    assert 'alert: org/app: "CI" has failed on main for' in done.stderr
    calm, _ = as_json(cli, env, "--alert-red-after", "30d")
    assert calm.returncode == 0 and "alert" not in calm.stderr


def test_runner_minutes_are_rounded_up_per_job_and_priced_by_family(cli, env, scenario):
    _, report = as_json(cli, env, "--rate", "windows=0.02")
    data = scenario.pipelines.data
    minutes: dict[str, int] = {}
    for run in data.runs:
        if run["status"] != "completed":
            continue
        for job in data.jobs[run["id"]]:
            labels = job["labels"]
            name = ("self-hosted: " + ", ".join(x for x in labels if x != "self-hosted")) if "self-hosted" in labels \
                else labels[0]
            minutes[name] = minutes.get(name, 0) + math.ceil((ts(job["completed_at"]) - ts(job["started_at"])) / 60)
    rows = {r["runner"]: r for r in report["runners"]}
    assert {k: v["minutes"] for k, v in rows.items()} == minutes
    assert rows["windows-latest"]["rate_usd_per_minute"] == 0.02
    assert rows["ubuntu-latest"]["estimated_cost_usd"] == round(minutes["ubuntu-latest"] * 0.008, 2)
    assert rows["self-hosted: linux, x64"]["estimated_cost_usd"] == 0
    assert report["totals"]["runner_minutes"] == sum(minutes.values())


def test_time_to_first_feedback_of_pull_request_commits(month, scenario):
    _, report, _ = month
    data = scenario.pipelines.data
    by_sha: dict[str, list[dict]] = {}
    for run in data.runs:
        if run["event"] == "pull_request":
            by_sha.setdefault(run["head_sha"], []).append(run)
    first = []
    for runs in by_sha.values():
        if any(r["status"] != "completed" for r in runs):
            continue
        start = min(ts(r["created_at"]) for r in runs)
        jobs = [j for r in runs for j in data.jobs[r["id"]] if j["run_attempt"] == 1]
        failed = [ts(j["completed_at"]) for j in jobs if j["conclusion"] == "failure"]
        first.append((min(failed) if failed else max(ts(j["completed_at"]) for j in jobs)) - start)
    assert report["feedback"]["commits"] == len(first)
    assert report["feedback"]["first_feedback"]["p50"] == round(median(first), 1)


def test_the_markdown_report_renders_charts_and_the_alert(month):
    done, _, _ = month
    text = done.stdout
    assert done.returncode == 1
    assert text.startswith("# Pipeline metrics\n")
    assert "> [!CAUTION]\n> **main has been red for" in text
    for heading in ("## Summary", "## Failures", "### On the default branch (", "## Workflows", "## Jobs",
                    "## Steps", "## Time to first feedback (pull requests)", "## Runner minutes and estimated cost",
                    "## Tests", "### Flaky", "### Newly failing on the default branch", "### Slowest tests"):
        assert f"\n{heading}" in text, heading
    charts = re.findall(r"```mermaid\n(.*?)```", text, re.S)
    assert any(c.startswith("xychart-beta\n") and "x-axis [" in c and "line [" in c for c in charts)
    assert any(c.startswith("pie title Failures by job\n") for c in charts)
    assert any(c.startswith("pie title Runner minutes\n") for c in charts)
    for chart in charts:  # every line is one of the forms written, values are numbers
        for line in chart.splitlines()[1:]:
            assert re.fullmatch(r'    (title "[^"]*"|x-axis \[("[^"]*"(, )?)+\]|y-axis "minutes" 0 --> \d+|'
                                r'(bar|line) \[[\d., ]+\]|"[^"]*" : \d+)', line), line


def test_workflow_and_branch_filters(cli, env, scenario):
    _, nightly = as_json(cli, env, "--workflow", "nightly.yml")
    assert {w["workflow"] for w in nightly["workflows"]} == {"Nightly"}
    assert nightly["totals"]["runs"] == sum(r["name"] == "Nightly" for r in scenario.pipelines.data.runs)
    _, features = as_json(cli, env, "--branch", "feature/*", "--no-tests")
    assert features["totals"]["runs"] == sum(r["head_branch"].startswith("feature/")
                                             for r in scenario.pipelines.data.runs)
    assert features["tests"]["reports"] == 0 and not features["red"]


def test_a_shorter_window_counts_only_its_runs(cli, env, scenario):
    _, report = as_json(cli, env, "--since", "7d")
    start = UNTIL.timestamp() - 7 * 86400
    assert report["totals"]["runs"] == sum(ts(r["created_at"]) >= start for r in scenario.pipelines.data.runs)
    assert len(report["window"]["weeks"]) == 1


def test_an_organisation_is_every_repository_but_the_archived(cli, env, api):
    other = busy_repository("org/lib", until=UNTIL, runs=20, seed=3)
    gone = busy_repository("org/old", until=UNTIL, runs=5, seed=4)
    api.add_repo("org/lib", actions=other.pipelines.data)
    api.add_repo("org/old", actions=gone.pipelines.data, archived=True)
    api.orgs["org"] = ["org/app", "org/lib", "org/old"]
    done = cli("metrics", "--org", "org", "--until", UNTIL_TEXT, "--format", "json", "--no-tests", env=env)
    assert done.returncode in (0, 1), done.stderr
    report = json.loads(done.stdout)
    assert [r["name"] for r in report["repositories"]] == ["org/app", "org/lib"]
    assert report["totals"]["runs"] == len(api.repos["org/app"].actions.runs) + len(other.pipelines.data.runs)
    assert {w["repository"] for w in report["workflows"]} == {"org/app", "org/lib"}
    markdown = cli("metrics", "--org", "org", "--until", UNTIL_TEXT, "--no-tests", env=env).stdout
    assert "| Repository | Workflow |" in markdown
