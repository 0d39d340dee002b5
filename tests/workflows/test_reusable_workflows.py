"""The conventions of this repository's workflows and starter templates that no generic check covers."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from ci_tools.gha.source import load, on_events, to_plain
from support.paths import REPO

WORKFLOWS = REPO / ".github" / "workflows"
TEMPLATES = REPO / "workflow-templates"
STARTERS = ("python-ci", "container", "terraform", "release", "canary-deploy")
# the workflows of the workflows issue (other workflows have their own tests)
OURS = tuple(WORKFLOWS / f"{n}.yml" for n in (*STARTERS, "sync-templates", "ci", "release-self"))


def data(path: Path) -> dict:
    doc = load(path)
    assert not doc.findings, doc.findings
    return doc, doc.data


def reusable() -> list[Path]:
    out = []
    for path in sorted(WORKFLOWS.glob("*.yml")):
        doc = load(path)
        if "workflow_call" in on_events(doc):
            out.append(path)
    return out


def test_the_reusable_workflows_exist():
    names = {p.stem for p in reusable()}
    assert set(STARTERS) | {"sync-templates"} <= names


@pytest.mark.parametrize("path", [p for p in reusable() if p in OURS], ids=lambda p: p.name)
def test_every_input_secret_and_output_is_described(path):
    doc, _ = data(path)
    call = to_plain(on_events(doc)["workflow_call"]) or {}
    for section in ("inputs", "secrets", "outputs"):
        for name, spec in (call.get(section) or {}).items():
            assert isinstance(spec, dict) and str(spec.get("description", "")).strip(), f"{section}.{name}"
            if section == "inputs":
                assert spec.get("type") in ("string", "boolean", "number"), name
                assert not (spec.get("required") and "default" in spec), f"{name}: required with a default"


@pytest.mark.parametrize("path", OURS, ids=lambda p: p.name)
def test_jobs_are_least_privilege_bounded_and_grouped(path):
    doc, wf = data(path)
    assert wf.get("permissions") == {}, "top-level permissions: {} so that each job says what it needs"
    is_reusable = "workflow_call" in on_events(doc)
    for job_id, job in wf["jobs"].items():
        assert "permissions" in job, f"{job_id}: no permissions"
        if "uses" in job:
            continue  # a call: the callee's jobs carry timeout and concurrency
        assert "timeout-minutes" in job, f"{job_id}: no timeout-minutes"
        for step in job.get("steps", []):
            uses = step.get("uses", "")
            if uses and not uses.startswith(("$/", "./")):
                assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", uses), uses
            if uses.startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False
            assert "${{" not in step.get("run", ""), f"{job_id}: expression inside run:"
        if is_reusable:
            group = (job.get("concurrency") or {}).get("group", "")
            assert group, f"{job_id}: no concurrency group"
            assert "github.workflow" not in group, f"{job_id}: github.workflow is the caller's name here"
            assert re.match(r"[a-z][a-z-]+-\$\{\{", group), f"{job_id}: group must start with a literal prefix"


def test_terraform_apply_is_protected_and_never_cancelled():
    _, wf = data(WORKFLOWS / "terraform.yml")
    apply = wf["jobs"]["apply"]
    assert apply["environment"] == "${{ inputs.environment }}"
    assert apply["concurrency"]["cancel-in-progress"] is False
    assert "inputs.working-directory" in apply["concurrency"]["group"]
    assert apply["permissions"] == {"contents": "read", "id-token": "write"}
    roles = [s for s in apply["steps"] if s.get("uses", "").startswith("aws-actions/configure-aws-credentials@")]
    assert roles and roles[0]["with"]["role-to-assume"] == "${{ inputs.apply-role-arn }}"
    assert not any("aws-access-key-id" in (s.get("with") or {}) for s in apply["steps"])


def test_release_self_calls_the_reusable_release_and_moves_the_major_tag():
    _, wf = data(WORKFLOWS / "release-self.yml")
    release = wf["jobs"]["release"]
    assert release["uses"] == "$/.github/workflows/release.yml"
    assert release["with"]["move-major-tag"] is True
    assert wf["jobs"]["sync-templates"]["uses"] == "$/.github/workflows/sync-templates.yml"


@pytest.mark.parametrize("name", STARTERS)
def test_each_starter_calls_its_reusable_workflow_with_the_default_branch(name):
    text = (TEMPLATES / f"{name}.yml").read_text(encoding="utf-8")
    assert f"org/ci/.github/workflows/{name}.yml@" in text
    if "push:" in text:
        assert "$default-branch" in text
    props = json.loads((TEMPLATES / f"{name}.properties.json").read_text(encoding="utf-8"))
    assert {"name", "description", "iconName", "categories", "filePatterns"} <= set(props)
    assert props["iconName"].startswith("octicon ") or (TEMPLATES / f"{props['iconName']}.svg").is_file()
    for pattern in props["filePatterns"]:
        re.compile(pattern)


def test_properties_validate_against_our_schema():
    import jsonschema

    schema = json.loads((REPO / "scripts/ci_tools/gha/schemas/workflow-template-properties.schema.json").read_text())
    for path in sorted(TEMPLATES.glob("*.properties.json")):
        jsonschema.validate(json.loads(path.read_text()), schema)
