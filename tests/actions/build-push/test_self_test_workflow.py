"""The build-push jobs of this repository's own ``.github/workflows/test-actions.yml``, run here.

Each job's steps are run through the local runner as they are written (tests/support/runner/),
turned into a composite action only so that the runner can run them: ``shell: bash`` is added where
a job step relies on the job's default shell, the ``registry:2`` service container is the test's
docker-registry (``localhost:5000`` becomes its ``127.0.0.1:<port>``; it requires a login, which
the service container does not, so the docker config holds one beforehand). ``$/actions/build-push``
is this repository's action, copied so that its pinned Trivy download comes from the GitHub double
(buildpush_standins.action_copy), with ``trivy-db-repository`` set to the database the test registry
holds (on GitHub the job uses Trivy's own); ``actions/checkout`` and the docker/* and installer
actions are the stand-ins of buildpush_standins.py; ``cosign`` is cosign_standin.py and ``trivy``
trivy_standin.py.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import yaml
from buildpush_standins import SHA, World

from support import registry as oci

REPO = Path(__file__).resolve().parents[3]
WORKFLOW = REPO / ".github" / "workflows" / "test-actions.yml"


def load_jobs() -> dict:
    return yaml.load(WORKFLOW.read_text(encoding="utf-8"), Loader=yaml.BaseLoader)["jobs"]


def job_as_action(tmp_path: Path, job: dict, host: str, action: Path, db: str) -> Path:
    steps = []
    for step in job["steps"]:
        step = dict(step)
        if step.get("uses") == "$/actions/build-push":  # the copy whose Trivy download is the double's
            step["uses"] = "./" + os.path.relpath(action, REPO)
            step["with"] = {**step.get("with", {}), "trivy-db-repository": db}
        if "run" in step:
            step.setdefault("shell", "bash")
            step["run"] = step["run"].replace("localhost:5000", host)
        if "with" in step:
            step["with"] = {k: v.replace("localhost:5000", host) for k, v in step["with"].items()}
        steps.append(step)
    folder = tmp_path / "job"
    folder.mkdir()
    (folder / "action.yml").write_text(yaml.safe_dump({"name": "job", "description": "a job's steps",
                                                       "runs": {"using": "composite", "steps": steps}}))
    return folder


def checkout(call):
    assert call.inputs.get("persist-credentials") == "false"


@pytest.fixture
def world(tmp_path, registry, cosign_bin, oidc, bp, release_host) -> World:
    w = World(tmp_path, registry, cosign_bin, oidc, github=release_host)
    # the registry service takes anonymous pushes; ours needs this login
    assert bp.login(registry, w.docker_config, oci.USER, oci.PASSWORD).returncode == 0
    return w


def run_job(world: World, tmp_path: Path, name: str, event: str = "push", id_token: bool = False,
            workflow_ref: str = "org/ci/.github/workflows/test-actions.yml@refs/heads/main", ref: str = "refs/heads/main",
            payload: dict | None = None):
    job = load_jobs()[name]
    action = job_as_action(tmp_path, job, world.reg.host, world.action, world.db)
    from support.runner import run_action
    env = {"DOCKER_CONFIG": str(world.docker_config), "COSIGN_STANDIN_LOG": str(world.cosign_bin / "cosign.log")}
    if id_token:
        env.update(world.oidc.env)
    return run_action(action, workspace=world.workspace, env=env, path=[world.cosign_bin],
                      github={"sha": SHA, "repository": "org/ci", "event_name": event, "ref": ref,
                              "run_id": "777", "workflow_ref": workflow_ref,
                              "event": {"repository": {"full_name": "org/ci", "default_branch": "main"},
                                        **(payload or {})}},
                      stand_ins={**world.stand_ins, "actions/checkout": checkout}, timeout=240)


def test_key_based_job_passes_and_its_independent_verify_uses_the_real_public_key(world, tmp_path):
    """Issue 10 item 12: the job passed a path as `cosign-public-key` (the input takes PEM content) and
    the action wrote that string over `$RUNNER_TEMP/cosign.pub`, the very file the job's own check
    then verified with: the job failed on every push to main."""
    result = run_job(world, tmp_path, "build-push")
    assert not result.failed, (result.errors, result.stdout[-3000:])
    assert result.outputs == {}
    calls = world.cosign_calls()
    assert calls[0] == ["generate-key-pair"]
    # the job's own last step verified with the key pair it generated, after the action ran: the signature,
    # then the scan and SBOM attestations
    key = str(result.temp / "cosign.pub")
    assert [c[:5] for c in calls[-3:]] == [["verify", "--key", key, "--allow-insecure-registry", calls[-3][4]],
                                           ["verify-attestation", "--type", "vuln", "--key", key],
                                           ["verify-attestation", "--type", "cyclonedx", "--key", key]]
    assert (result.temp / "cosign.pub").read_text().startswith("-----BEGIN PUBLIC KEY-----")


def test_key_based_job_on_a_pull_request_builds_and_scans_only(world, tmp_path):
    result = run_job(world, tmp_path, "build-push", event="pull_request", ref="refs/pull/5/merge", payload={
        "number": 5, "pull_request": {"head": {"ref": "x", "repo": {"full_name": "org/ci"}}, "base": {"ref": "main"}}})
    assert not result.failed, (result.errors, result.stdout[-3000:])
    assert [c[0] for c in world.cosign_calls()] == ["generate-key-pair"]  # nothing signed or verified
    assert len(world.trivy_calls()) == 2


def test_the_public_key_input_is_given_pem_content_not_a_path():
    step = next(s for s in load_jobs()["build-push"]["steps"] if s.get("id") == "build")
    value = step["with"]["cosign-public-key"]
    assert not re.search(r"runner\.temp|\.pub\b|/", value), value


def test_keyless_job_signs_on_pushes_to_main_only_and_binds_repository_and_branch(world, tmp_path, bp):
    """Item 12: a real-runner keyless signing test on pushes to main. Here the runner's OIDC token is the
    loopback endpoint; its claims are this workflow's (not reusable: job_workflow_ref is its own ref)."""
    job = load_jobs()["build-push-keyless"]
    assert "github.event_name == 'push'" in job["if"] and "github.ref == 'refs/heads/main'" in job["if"]
    assert job["permissions"] == {"contents": "read", "id-token": "write", "security-events": "write"}
    own = "org/ci/.github/workflows/test-actions.yml@refs/heads/main"
    world.oidc.claims = bp.github_claims(repository="org/ci", job_workflow_ref=own)
    result = run_job(world, tmp_path, "build-push-keyless", id_token=True, workflow_ref=own)
    assert not result.failed, (result.errors, result.stdout[-3000:])
    assert world.cosign_calls()[-1][:3] == ["verify-attestation", "--type", "vuln"]
    verifies = [c for c in world.cosign_calls() if c[0] == "verify"]
    identity = f"https://github.com/{own}"
    # the job's own check, then the two that must fail: another repository, another branch
    assert [c[c.index("--certificate-identity") + 1] for c in verifies[-3:]] == [identity] * 3
    assert "org/ci" in verifies[-3] and "org/ci-fork" in verifies[-2] and "refs/heads/not-main" in verifies[-1]
