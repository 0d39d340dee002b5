"""pipeline-metrics.yml and its starter template: the conventions of this repository's reusable workflows,
and the split of privileges the report needs (the job that parses artifacts can write nothing)."""

from __future__ import annotations

import json
import re

import jsonschema

from ci_tools.gha.source import load, on_events, to_plain
from support.paths import REPO

WORKFLOW = REPO / ".github" / "workflows" / "pipeline-metrics.yml"
TEMPLATE = REPO / "workflow-templates" / "pipeline-metrics.yml"


def plain(path):
    doc = load(path)
    assert not doc.findings, doc.findings
    return doc, doc.data


def test_every_input_secret_and_output_is_described():
    doc, _ = plain(WORKFLOW)
    call = to_plain(on_events(doc)["workflow_call"])
    for section in ("inputs", "secrets", "outputs"):
        for name, spec in call[section].items():
            assert str(spec.get("description", "")).strip(), f"{section}.{name}"
            if section == "inputs":
                assert spec["type"] in ("string", "boolean", "number") and not spec.get("required")


def test_jobs_are_least_privilege_bounded_and_grouped():
    _, wf = plain(WORKFLOW)
    assert wf["permissions"] == {}
    jobs = wf["jobs"]
    assert jobs["metrics"]["permissions"] == {"actions": "read"}
    assert jobs["issue"]["permissions"] == {"issues": "write"}
    assert jobs["alert"]["permissions"] == {}
    for job_id, job in jobs.items():
        assert "timeout-minutes" in job, job_id
        group = job["concurrency"]["group"]
        assert re.match(r"[a-z][a-z-]+-\$\{\{", group) and "github.workflow" not in group, job_id
        for step in job["steps"]:
            uses = step.get("uses", "")
            if uses and not uses.startswith("$/"):
                assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", uses), uses
            assert "${{" not in step.get("run", ""), f"{job_id}: expression inside run:"


def test_the_report_is_published_before_the_alert_fails_the_run():
    _, wf = plain(WORKFLOW)
    jobs = wf["jobs"]
    metrics = next(s for s in jobs["metrics"]["steps"] if s.get("uses") == "$/actions/pipeline-metrics")
    assert metrics["with"]["fail-on-alert"] == "false"  # the metrics job succeeds, so the issue is written
    assert metrics["with"]["token"] == "${{ secrets.token || github.token }}"
    assert jobs["issue"]["needs"] == "metrics" and jobs["issue"]["if"] == "inputs.issue"
    assert jobs["issue"]["steps"][-1]["uses"] == "$/actions/issue-report"
    assert jobs["alert"]["needs"] == ["metrics", "issue"]
    assert jobs["alert"]["if"] == "always() && needs.metrics.outputs.alert == 'true'"
    assert "exit 1" in jobs["alert"]["steps"][-1]["run"]


def test_the_cache_is_restored_and_saved_only_when_decided():
    _, wf = plain(WORKFLOW)
    steps = wf["jobs"]["metrics"]["steps"]
    restore = next(s for s in steps if s.get("uses", "").startswith("actions/cache/restore@"))
    save = next(s for s in steps if s.get("uses", "").startswith("actions/cache/save@"))
    assert restore["if"] == "steps.cache.outputs.use == 'true'"
    assert save["if"].startswith("steps.cache.outputs.use == 'true'")
    assert restore["with"]["path"] == save["with"]["path"] == "${{ steps.cache.outputs.dir }}"


def test_the_starter_runs_weekly_with_the_permissions_the_workflow_needs():
    doc, wf = plain(TEMPLATE)
    events = wf["on"]
    assert "workflow_dispatch" in events and len(events["schedule"]) == 1
    minute, hour, day, month, weekday = events["schedule"][0]["cron"].split()
    assert (day, month) == ("*", "*") and weekday.isdigit()
    job = wf["jobs"]["metrics"]
    assert re.fullmatch(r"org/ci/\.github/workflows/pipeline-metrics\.yml@[0-9a-f]{40}",
                        job["uses"].split(" ")[0])
    assert job["permissions"] == {"actions": "read", "issues": "write"}
    assert wf["permissions"] == {}
    schema = json.loads((REPO / "scripts/ci_tools/gha/schemas/workflow-template-properties.schema.json").read_text())
    props = json.loads((REPO / "workflow-templates/pipeline-metrics.properties.json").read_text())
    jsonschema.validate(props, schema)
    assert props["iconName"].startswith("octicon ")
