"""``.github/workflows/container.yml`` and its starter template, evaluated as GitHub evaluates them.

The ``with:`` of the build step is rendered by the local runner's expression engine
(tests/support/runner/, GitHub's semantics) with the contexts GitHub gives a called workflow
(``inputs``, ``secrets``, ``github``); the values then go to the build-push action itself.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from support.runner import Scope, render

REPO = Path(__file__).resolve().parents[3]
WORKFLOW = REPO / ".github" / "workflows" / "container.yml"
TEMPLATE = REPO / "workflow-templates" / "container.yml"
TOKEN = "ghs_jobtoken0123456789abcdefABCDEF0123"


def workflow() -> dict:
    return yaml.load(WORKFLOW.read_text(encoding="utf-8"), Loader=yaml.BaseLoader)


def build_step() -> dict:
    return next(s for s in workflow()["jobs"]["build"]["steps"] if s.get("id") == "build")


def inputs_with_defaults(**given) -> dict:
    spec = workflow()["on"]["workflow_call"]["inputs"]
    out = {}
    for name, item in spec.items():
        default = item.get("default", "")
        if item.get("type") == "boolean":
            default = default == "true"
        out[name] = default
    out.update(given)
    return out


def rendered_with(inputs: dict, secrets: dict, github: dict | None = None) -> dict[str, str]:
    gh = {"actor": "octocat", "token": TOKEN, "repository": "org/svc", "event_name": "push",
          "ref": "refs/heads/main", **(github or {})}
    scope = Scope({"inputs": inputs, "secrets": secrets, "github": gh, "env": {}, "vars": {}})
    return {k: render(scope, v) for k, v in build_step()["with"].items()}


@pytest.mark.parametrize("registry", ["registry.example.com", "docker.io", "ghcr.io.example.com", "gcr.io"])
def test_the_job_token_never_goes_to_another_registry(registry):
    """Issue 10 item 10: without the secrets, container.yml fell back to github.actor/github.token for
    whatever registry the caller named, sending the job token there."""
    given = rendered_with(inputs_with_defaults(image=f"{registry}/org/svc", registry=registry), secrets={})
    assert given["username"] == "" and given["password"] == ""
    assert TOKEN not in given.values()
    assert given["require-login"] == "true"  # and the action then says what is missing (below)


def test_ghcr_gets_the_actor_and_the_job_token():
    given = rendered_with(inputs_with_defaults(image="ghcr.io/org/svc"), secrets={})
    assert given["username"] == "octocat" and given["password"] == TOKEN


def test_secrets_win_for_any_registry():
    secrets = {"registry-username": "robot", "registry-password": "s3cret"}
    for registry in ("ghcr.io", "registry.example.com"):
        given = rendered_with(inputs_with_defaults(image=f"{registry}/org/svc", registry=registry), secrets)
        assert (given["username"], given["password"]) == ("robot", "s3cret")


def template_image(repository: str) -> str:
    doc = yaml.load(TEMPLATE.read_text(encoding="utf-8"), Loader=yaml.BaseLoader)
    value = doc["jobs"]["image"]["with"]["image"]
    return render(Scope({"github": {"repository": repository}}), value)


@pytest.mark.parametrize("repository,expected", [
    ("My-Org/Service_API", "ghcr.io/my-org/service_api"),
    ("octo-org/hello_world", "ghcr.io/octo-org/hello_world"),
    ("OctoCat/Hello-World", "ghcr.io/octocat/hello-world"),
])
def test_the_starter_template_works_for_capitals_and_underscores(script, repository, expected):
    """Issue 10 item 13: the template's `ghcr.io/${{ github.repository }}`, through container.yml, into
    the action's plan: accepted, and the pushed name is the lower-case one."""
    image = template_image(repository)
    assert image == f"ghcr.io/{repository}"
    given = rendered_with(inputs_with_defaults(image=image), secrets={}, github={"repository": repository})
    run = script("plan", env={"INPUT_IMAGE": given["image"], "INPUT_REGISTRY": given["registry"],
                              "INPUT_USERNAME": given["username"], "INPUT_HAS_PASSWORD": "true",
                              "INPUT_REQUIRE_LOGIN": given["require-login"], "GITHUB_EVENT_NAME": "push",
                              "GITHUB_REF": "refs/heads/main", "ACTIONS_ID_TOKEN_REQUEST_URL": "http://127.0.0.1:9/t"})
    assert run.code == 0, run.stdout
    assert run.outputs["image"] == expected


def test_the_workflow_scans_by_default_and_its_callers_grant_code_scanning():
    """Issue 16: container.yml scans before signing, on by default, and uploads the SARIF, which needs
    `security-events: write` from the caller; the starter template grants it."""
    given = rendered_with(inputs_with_defaults(image="ghcr.io/org/svc"), secrets={})
    assert (given["scan"], given["severity"], given["fail-on"], given["ignore-unfixed"]) == (
        "true", "CRITICAL,HIGH", "fail", "false")
    assert workflow()["jobs"]["build"]["permissions"]["security-events"] == "write"
    template = yaml.load(TEMPLATE.read_text(encoding="utf-8"), Loader=yaml.BaseLoader)
    assert template["jobs"]["image"]["permissions"]["security-events"] == "write"
    outputs = workflow()["on"]["workflow_call"]["outputs"]
    assert {"vulnerabilities", "attestations", "verify-command"} <= set(outputs)
