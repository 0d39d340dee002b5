"""actions/issue-report end to end through the local runner, against the API double's issue endpoints."""

from __future__ import annotations

from pathlib import Path

import pytest

from support.github_api import GitHubDouble
from support.runner import run_action

ACTION = Path(__file__).resolve().parents[3] / "actions" / "issue-report"
TOKEN = "ghs_" + "Issu3T0ken" * 3


@pytest.fixture
def api():
    with GitHubDouble(token=TOKEN) as double:
        double.add_repo("org/app")
        yield double


def publish(api, tmp_path, token: str = TOKEN, **inputs):
    return run_action(ACTION, inputs={"title": "Pipeline metrics", **inputs}, workspace=tmp_path,
                      github={"repository": "org/app", "api_url": api.url, "token": token}, timeout=60)


def test_opened_once_then_edited_in_place(api, tmp_path):
    first = publish(api, tmp_path, body="# Week 1\n", labels="metrics")
    assert not first.failed, first.errors
    assert first.outputs["result"] == "created" and first.outputs["issue-number"] == "1"
    second = publish(api, tmp_path, body="# Week 2\n")
    assert second.outputs["result"] == "updated" and second.outputs["issue-number"] == "1"
    issues = api.repos["org/app"].issues
    assert len(issues) == 1 and issues[0]["body"].endswith("# Week 2\n")
    assert issues[0]["body"].startswith("<!-- ci:issue-report key=Pipeline%20metrics -->\n")
    assert TOKEN not in first.stdout + second.stdout


def test_an_issue_someone_else_opened_with_the_marker_is_left_alone(api, tmp_path):
    api.repos["org/app"].issues.append({
        "number": 1, "title": "Pipeline metrics", "state": "open", "labels": [],
        "body": "<!-- ci:issue-report key=Pipeline%20metrics -->\ncaptured", "user": {"login": "mallory"},
        "html_url": "https://github.com/org/app/issues/1"})
    result = publish(api, tmp_path, body="# Report\n")
    assert result.outputs["result"] == "created" and result.outputs["issue-number"] == "2"
    assert api.repos["org/app"].issues[0]["body"].endswith("captured")


def test_a_key_cannot_close_the_marker_comment(api, tmp_path):
    result = publish(api, tmp_path, body="x\n", key="a --> <script>")
    assert not result.failed
    assert api.repos["org/app"].issues[0]["body"].startswith("<!-- ci:issue-report key=a%20--%3E%20%3Cscript%3E -->")


def test_a_body_over_the_limit_is_cut_and_accepted(api, tmp_path):
    body = "# Long\n```mermaid\n" + "line of the report\n" * 5000 + "```\n"
    result = publish(api, tmp_path, body=body)
    assert not result.failed, result.errors
    stored = api.repos["org/app"].issues[0]["body"]
    assert len(stored) <= 65536 and stored.count("```") % 2 == 0 and "Cut here" in stored


def test_without_write_access_it_fails_with_the_reason(api, tmp_path):
    result = publish(api, tmp_path, token="ghs_" + "n0tTh3T0ken" * 3, body="x\n")
    assert result.failed and result.outputs["failure-reason"] == "api-error"
    assert any("HTTP 403" in e and "issues: write" in e for e in result.errors)


def test_empty_body_is_invalid_input(api, tmp_path):
    result = publish(api, tmp_path, body="  ")
    assert result.failed and result.outputs["failure-reason"] == "invalid-input"
