"""container.yml end to end under act, called by workflow-templates/container.yml.

Real: act, git, the OCI registry (``docker-registry`` on 127.0.0.1 with htpasswd auth: the template
logs in as ``github.actor`` with ``github.token``, so that user exists there), the pushes and the
digests (skopeo), the signature stored beside the image, build_push.py at the commit under test.
Stand-ins, shared with the action's own tests (tests/actions/build-push/): docker/setup-buildx,
login, metadata and build-push actions, sigstore/cosign-installer, and ``cosign`` on the runner's
PATH (cosign_standin.py: real registry storage, simulated cryptography); the job's OIDC token
comes from a loopback endpoint whose ``job_workflow_ref`` names the reusable workflow at the
commit the caller pinned, as GitHub's does for a called workflow.

The registry is the organisation's own: the caller is the starter template with its ``image``
moved from ``ghcr.io/<repository>`` to that registry and ``registry`` naming it (``REGISTRY_INPUTS``):
pushes cannot be redirected from ghcr.io on this machine. Nothing else of the template changes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from support import registry as oci
from support.act_standins import OIDCProvider, checkout
from support.service_repo import ServiceRepo
from support.terraform import load_script

pytestmark = pytest.mark.slow
HERE = Path(__file__).resolve().parent
BUILD_PUSH_TESTS = HERE.parent / "actions" / "build-push"
STANDINS = load_script(BUILD_PUSH_TESTS / "test_build_push_action.py", "act_build_push_standins")
TOKEN = "ghs_containerJobToken0123456789"
JOB = "image/Container image/Build, push and sign"


class ContainerWorld:
    """The registry, cosign on PATH, the OIDC endpoint and the docker stand-ins of one service."""

    def __init__(self, act_session, root: Path, name: str, templates: list[str]) -> None:
        self.session = act_session
        if not oci.available():
            pytest.fail("docker-registry and skopeo are required (apt-get install docker-registry skopeo; .ci/run does)")
        self.registry = oci.Registry(root / "registry", users={"octocat": TOKEN}).start()
        self.image = f"{self.registry.host}/org/{name}"
        self.cosign_bin = root / "cosign-bin"
        self.cosign_bin.mkdir()
        (self.cosign_bin / "cosign").write_text(
            f"#!/bin/sh\nexec {sys.executable} {BUILD_PUSH_TESTS / 'cosign_standin.py'} \"$@\"\n")
        (self.cosign_bin / "cosign").chmod(0o755)
        self.workflow_ref = f"org/ci/.github/workflows/container.yml@{act_session.act.served.sha}"
        self.oidc = OIDCProvider(claims={"iss": "https://token.actions.githubusercontent.com",
                                         "repository": f"org/{name}", "job_workflow_ref": self.workflow_ref,
                                         "workflow_ref": f"org/{name}/.github/workflows/{templates[0]}.yml@refs/heads/main"})
        self.repo = ServiceRepo(root, act_session.git.root, name, act_session.act.served.sha, templates)
        for template in templates:
            self.repo.replace_input(template, "image", self.image)
        self.repo.add_inputs(templates[0], {"registry": self.registry.host}, job="image")
        self.builds: list[dict] = []
        self.logins: list[dict] = []
        self.installs: list[dict] = []
        self.docker_config = root / "docker-config"
        self.docker_config.mkdir()

    def handlers(self) -> dict:
        return {"actions/checkout": checkout, "docker/setup-buildx-action": STANDINS.setup_buildx,
                "docker/login-action": STANDINS.login_action(self.registry, self.logins),
                "docker/metadata-action": STANDINS.metadata_action,
                "docker/build-push-action": STANDINS.build_push_action(self.builds),
                "sigstore/cosign-installer": STANDINS.cosign_installer(self.installs)}

    @property
    def env(self) -> dict[str, str]:
        return {**self.oidc.env, "DOCKER_CONFIG": str(self.docker_config),
                "COSIGN_STANDIN_LOG": str(self.cosign_bin / "cosign.log")}

    def cosign_calls(self) -> list[list[str]]:
        log = self.cosign_bin / "cosign.log"
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []

    def tags(self) -> list[str]:
        done = subprocess.run(["skopeo", "list-tags", "--tls-verify=false", "--creds", f"{oci.USER}:{oci.PASSWORD}",
                               f"docker://{self.image}"], capture_output=True, text=True, timeout=60)
        return sorted(json.loads(done.stdout)["Tags"]) if done.returncode == 0 else []

    def stop(self) -> None:
        self.registry.stop()
        self.oidc.stop()


@pytest.fixture(scope="module")
def world(act_session):
    w = ContainerWorld(act_session, act_session.new_dir("container"), "svc-image", ["container"])
    yield w
    w.stop()


def run(world: ContainerWorld, event: str, payload: dict, github: dict):
    try:
        return world.session.act.run(world.repo.path, event, "container.yml", payload, github=github,
                                     handlers=world.handlers(), env=world.env, path=[world.cosign_bin],
                                     secrets={"GITHUB_TOKEN": TOKEN})
    finally:
        world.repo.back_to_main()


def test_pull_request_builds_without_pushing(world):
    world.repo.commit_on("feature/slim", "feat: slimmer image", {"Dockerfile": "FROM scratch\nCOPY src /srv\n"})
    payload, github = world.repo.pull_request("feature/slim", "feat: slimmer image")
    result = run(world, "pull_request", payload, github)
    assert result.succeeded, result.text()[-8000:]
    merge = github["SHA_REF"][:7]
    assert result.needs["image"] == {"result": "success", "outputs": {
        "digest": "", "image-ref": "", "tags": f"{world.image}:pr-1\n{world.image}:sha-{merge}"}}
    assert [b["push"] for b in world.builds] == ["false"]
    assert world.tags() == [] and world.cosign_calls() == []  # nothing pushed, nothing signed


def test_push_signs_and_verifies_by_digest(world):
    world.builds.clear()
    payload, github = world.repo.push_event()
    result = run(world, "push", payload, github)
    assert result.succeeded, result.text()[-8000:]
    outputs = result.outputs("image")
    digest = outputs["digest"]
    assert digest.startswith("sha256:") and len(digest) == 71
    assert outputs["image-ref"] == f"{world.image}@{digest}"
    short = payload["after"][:7]
    assert outputs["tags"].splitlines() == [f"{world.image}:main", f"{world.image}:sha-{short}"]
    assert world.registry.raw_manifest_digest("org/svc-image", "main") == digest  # the registry agrees
    assert world.tags() == sorted(["main", f"sha-{short}", f"sha256-{digest[7:]}.sig"])
    assert world.logins[-1] == {"registry": world.registry.host, "username": "octocat", "password": TOKEN,
                             "ecr": "", "scope": "", "logout": "true", "registry-auth": ""}
    commands = [call[0] for call in world.cosign_calls()]
    assert commands == ["sign", "verify"]
    verify = world.cosign_calls()[1]
    assert verify[-1] == outputs["image-ref"]  # verified by digest, never by tag
    assert f"https://github.com/{world.workflow_ref}" in verify  # bound to the reusable workflow at its commit
    summary = result.summary(JOB)
    assert digest in summary and "cosign verify" in summary
