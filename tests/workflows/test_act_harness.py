"""The act harness itself (support.act): the ``$/`` translation and the stand-in gate."""

from __future__ import annotations

import pytest
import yaml

from support.act import ServedCI, permission_errors, translate_self_references
from support.act_standins import CATALOGUE, STANDINS, action_yml
from support.service_repo import TEMPLATES, template

SHA = "a" * 40
CALLED = """on: workflow_call
permissions: {}
jobs:
  build:
    permissions:
      contents: read
      security-events: write
      id-token: write
    runs-on: ubuntu-latest
    steps: [{run: "true"}]
  note:
    runs-on: ubuntu-latest
    steps: [{run: "true"}]
"""


def test_self_references_become_what_github_resolves_them_to():
    text = "      - uses: $/actions/build-push\n    uses: '$/.github/workflows/release.yml'\n# uses: $/x\n"
    assert translate_self_references(text, SHA) == (
        f"      - uses: org/ci/actions/build-push@{SHA}\n"
        f"    uses: 'org/ci/.github/workflows/release.yml@{SHA}'\n# uses: $/x\n")


def test_the_served_copy_has_no_self_reference_left(act_session):
    served = act_session.act.served
    for path in [*(served.root / ".github" / "workflows").glob("*.yml"), *(served.root / "actions").glob("*/action.yml")]:
        assert "uses: $/" not in path.read_text(), path


def test_a_pinned_action_without_a_stand_in_fails_the_run(tmp_path):
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / "actions" / "scan").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "w.yml").write_text(
        f"jobs:\n  a:\n    steps:\n      - uses: org/ci/actions/scan@{SHA}\n"
        "      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1\n")
    (tmp_path / "actions" / "scan" / "action.yml").write_text(
        "runs:\n  using: composite\n  steps:\n"
        "    - uses: aquasecurity/trivy-action@0123456789abcdef0123456789abcdef01234567 # v9.9.9\n")
    served = ServedCI(tmp_path, SHA)
    with pytest.raises(AssertionError, match="aquasecurity/trivy-action@0123456789abcdef0123456789abcdef01234567"):
        served.check_stand_ins(["w.yml"], CATALOGUE)
    served.check_stand_ins(["w.yml"], {**CATALOGUE, "aquasecurity/trivy-action@0123456789abcdef0123456789abcdef01234567": 1})


def test_every_pin_of_this_repository_has_its_stand_in(act_session):
    served = act_session.act.served
    workflows = ("python-ci.yml", "container.yml", "terraform.yml", "release.yml", "canary-deploy.yml", "pr-hygiene.yml")
    served.check_stand_ins(workflows, CATALOGUE)


@pytest.mark.parametrize("standin", STANDINS, ids=lambda s: s.action)
def test_stand_in_metadata_is_a_composite_action_with_the_real_interface(standin, tmp_path):
    doc = yaml.safe_load(action_yml(standin, tmp_path / "client.py"))
    assert doc["runs"]["using"] == "composite"
    assert {k: v["default"] for k, v in doc["inputs"].items()} == standin.inputs
    assert sorted(doc.get("outputs") or {}) == sorted(standin.outputs)


def caller_of(tmp_path, permissions_of_workflow: str, permissions_of_job: str, called: str = CALLED) -> tuple:
    served = ServedCI(tmp_path / "ci", SHA)
    (served.root / ".github" / "workflows").mkdir(parents=True)
    (served.root / ".github" / "workflows" / "called.yml").write_text(called)
    caller = tmp_path / "svc" / "caller.yml"
    caller.parent.mkdir()
    caller.write_text(f"name: caller\non: push\n{permissions_of_workflow}jobs:\n  first:\n    runs-on: ubuntu-latest\n"
                      "    steps: [{run: 'true'}]\n  image:\n"
                      f"    uses: org/ci/.github/workflows/called.yml@{SHA}\n{permissions_of_job}")
    return caller, served


def test_a_caller_granting_less_than_a_called_job_requests_is_an_invalid_workflow(tmp_path):
    """GitHub refuses the run before any job starts (actions/runner PermissionsHelper.cs); act would run it."""
    caller, served = caller_of(tmp_path, "permissions: {}\n", "    permissions:\n      contents: read\n"
                               "      id-token: write\n")
    assert permission_errors(caller, served) == [
        "The workflow is not valid. .github/workflows/caller.yml (Line: 8, Col: 3): Error calling workflow "
        f"'org/ci/.github/workflows/called.yml@{SHA}'. The nested job 'build' is requesting "
        "'security-events: write', but is only allowed 'security-events: none'."]


def test_a_calling_job_without_permissions_gets_the_callers_workflow_permissions(tmp_path):
    caller, served = caller_of(tmp_path, "permissions:\n  contents: write\n  security-events: read\n", "")
    [error] = permission_errors(caller, served)
    assert error.endswith("The nested job 'build' is requesting 'security-events: write, id-token: write', "
                          "but is only allowed 'security-events: read, id-token: none'.")
    enough = "permissions:\n  contents: read\n  security-events: write\n  id-token: write\n"
    assert permission_errors(*caller_of(tmp_path / "enough", enough, "")) == []


def test_enough_permissions_or_none_declared_at_all_pass(tmp_path):
    granted = "    permissions:\n      contents: read\n      security-events: write\n      id-token: write\n"
    assert permission_errors(*caller_of(tmp_path / "a", "permissions: {}\n", granted)) == []
    assert permission_errors(*caller_of(tmp_path / "b", "", "    permissions: write-all\n")) == []
    assert permission_errors(*caller_of(tmp_path / "c", "", "")) == []  # the repository's default policy: unknown
    assert permission_errors(*caller_of(tmp_path / "d", "", "    permissions: read-all\n"))  # write > read


def test_a_called_workflows_own_top_level_permissions_are_checked_too(tmp_path):
    called = CALLED.replace("permissions: {}\n", "permissions:\n  pull-requests: write\n", 1)
    [top, _] = permission_errors(*caller_of(tmp_path, "permissions: {}\n", "    permissions:\n      contents: read\n",
                                            called))
    assert top.endswith("The workflow is requesting 'pull-requests: write', but is only allowed 'pull-requests: none'.")


@pytest.mark.parametrize("name", sorted(p.stem for p in TEMPLATES.glob("*.yml")))
def test_every_starter_grants_what_the_workflows_it_calls_request(act_session, name, tmp_path):
    """What a service adopting the starter gets on GitHub: a run that starts (the canary starter did not
    grant the container scan's ``security-events: write``)."""
    caller = tmp_path / f"{name}.yml"
    caller.write_text(template(name, act_session.act.served.sha), encoding="utf-8")
    assert permission_errors(caller, act_session.act.served) == []
