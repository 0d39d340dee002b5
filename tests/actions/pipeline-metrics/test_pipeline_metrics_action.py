"""actions/pipeline-metrics end to end through the local runner (tests/support/runner/), against the API double.

The action reports on a window back from *now*, so the history here ends a few minutes ago.
CI_TOOLS_PYTHON names this interpreter, which has ci-tools' dependencies: the install step installs
nothing (tests reach no package index) but still proves the interpreter can run the metrics.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from support.github_api import GitHubDouble
from support.pipelines import busy_repository
from support.runner import run_action

ACTION = Path(__file__).resolve().parents[3] / "actions" / "pipeline-metrics"
TOKEN = "ghs_" + "Act10nT0ken" * 3


@pytest.fixture(scope="module")
def history():
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    return busy_repository("org/app", until=now, runs=80, seed=9)


@pytest.fixture
def api(history):
    with GitHubDouble() as double:
        double.add_repo("org/app", actions=history.pipelines.data)
        yield double


def run(api, tmp_path, env: dict | None = None, **inputs):
    return run_action(ACTION, inputs=inputs, workspace=tmp_path / "ws",
                      env={"CI_TOOLS_PYTHON": sys.executable, "CI_TOOLS_HTTP_BACKOFF": "0.01", **(env or {})},
                      github={"repository": "org/app", "api_url": api.url, "token": TOKEN}, timeout=240)


def test_the_report_goes_to_the_summary_and_the_outputs(api, tmp_path, history):
    result = run(api, tmp_path)
    assert not result.failed, (result.errors, result.stdout)
    assert result.summary.startswith("# Pipeline metrics\n")
    report = json.loads(Path(result.outputs["json-file"]).read_text())
    assert report["totals"]["runs"] == len(history.pipelines.data.runs)
    assert Path(result.outputs["report-file"]).read_text() == result.outputs["report"] + ("" if
                                                                                       result.outputs["report"].endswith("\n") else "\n")
    assert result.outputs["red"] == str(len(report["red"])) and result.outputs["alert"] == "false"
    assert result.outputs["failure-reason"] == ""
    assert all(a == f"Bearer {TOKEN}" for a in api.auth_seen)  # github.token by default, as a header
    assert TOKEN not in result.stdout + result.stderr + result.summary + json.dumps(result.outputs)


def test_the_alert_fails_the_step_or_only_reports(api, tmp_path):
    result = run(api, tmp_path, **{"alert-red-after": "24h"})
    assert result.failed and result.outputs["failure-reason"] == "default-branch-red"
    assert result.outputs["alert"] == "true" and "has failed on main for" in result.outputs["alert-message"]
    assert any("has failed on main for" in e for e in result.errors)
    assert "> [!CAUTION]" in result.summary
    quiet = run(api, tmp_path, **{"alert-red-after": "24h", "fail-on-alert": "false"})
    assert not quiet.failed and quiet.outputs["alert"] == "true"
    assert any("has failed on main for" in w for w in quiet.warnings)


def test_filters_rates_and_the_cache(api, tmp_path, history):
    inputs = {"workflows": "Nightly", "rates": "macos=0.1\nubuntu-latest=0.004", "cache-dir": str(tmp_path / "c")}
    first = run(api, tmp_path, **inputs)
    assert not first.failed, first.errors
    report = json.loads(Path(first.outputs["json-file"]).read_text())
    assert {w["workflow"] for w in report["workflows"]} == {"Nightly"}
    assert {r["runner"]: r["rate_usd_per_minute"] for r in report["runners"]} == {"macos-latest": 0.1,
                                                                                  "ubuntu-latest": 0.004}
    api.reset_log()
    again = run(api, tmp_path, **inputs)
    assert not again.failed and api.count() == 3  # warm: the repository, new runs, new artifacts


def test_a_bad_input_is_named(api, tmp_path):
    result = run(api, tmp_path, since="soon")
    assert result.failed and result.outputs["failure-reason"] == "invalid-input"
    assert any('--since "soon" is not a date' in e for e in result.errors)
    assert api.count() == 0


def test_an_unreadable_repository_is_metrics_failed(api, tmp_path):
    result = run(api, tmp_path, repositories="org/missing")
    assert result.failed and result.outputs["failure-reason"] == "metrics-failed"
    assert any('repository "org/missing" was not found, or the token cannot read it' in e for e in result.errors)


def test_a_python_without_the_dependencies_is_install_failed(api, tmp_path):
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\nexit 1\n")
    fake.chmod(0o755)
    result = run(api, tmp_path, env={"CI_TOOLS_PYTHON": str(fake)})
    assert result.failed and result.outputs["failure-reason"] == "install-failed"
    assert any("lacks what ci-tools metrics needs" in e for e in result.errors)


def test_the_issue_output_is_cut_on_a_line_and_closes_its_fence():
    sys.path.insert(0, str(ACTION))
    try:
        from metrics import cut_for_issue
    finally:
        sys.path.remove(str(ACTION))
    text = "# r\n```mermaid\n" + "x\n" * 50_000 + "```\n"
    cut = cut_for_issue(text)
    assert len(cut) < 65536 and cut.count("```") % 2 == 0 and "was cut here" in cut
    assert cut_for_issue("short\n") == "short\n"
