"""container.yml end to end under act, called by workflow-templates/container.yml.

Real: act, git, the OCI registry (``docker-registry`` on 127.0.0.1 with htpasswd auth), the
registry login (``skopeo login``), the pushes and the digests (skopeo), build_push.py at the commit
under test, the pinned Trivy download and its SHA-256 check (``scanner`` in conftest.py), and the
signatures and attestations stored beside the image as cosign v3 stores them (referrer bundles
under the ``sha256-<hex>`` tag, the registry having no referrers API).
Stand-ins, shared with the action's own tests (tests/actions/build-push/): docker/setup-buildx,
login, metadata and build-push actions, sigstore/cosign-installer, github/codeql-action/upload-sarif
(code scanning: records what it was given), ``cosign`` on the runner's PATH (cosign_standin.py:
real registry storage, simulated cryptography), Trivy in the downloaded tarball (trivy_standin.py:
the real image's packages against the test's vulnerability table). The job's OIDC token comes from
a loopback endpoint with the claims GitHub gives that run of the caller, ``job_workflow_ref``
naming the reusable workflow at the commit the caller pinned, as GitHub's does for a called workflow.

The registry is the organisation's own: the caller is the starter template with its ``image``
moved from ``ghcr.io/<repository>`` to that registry, ``registry`` naming it, and the registry's
credentials passed as the ``registry-username``/``registry-password`` secrets (the job's token goes
to ghcr.io only): pushes cannot be redirected from ghcr.io on this machine. Nothing else of the
template changes.
"""

from __future__ import annotations

import base64
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from support import ocidist
from support import registry as oci
from support.act_standins import OIDCProvider, checkout
from support.service_repo import ServiceRepo

pytestmark = pytest.mark.slow
HERE = Path(__file__).resolve().parent
BUILD_PUSH_TESTS = HERE.parent / "actions" / "build-push"
sys.path.insert(0, str(BUILD_PUSH_TESTS))
import buildpush_standins as bp  # noqa: E402

TOKEN = "ghs_containerJobToken0123456789"
REGISTRY_USER, REGISTRY_PASSWORD = "svc-robot", "robot-registry-pass-42"
ISSUER = "https://token.actions.githubusercontent.com"
JOB = "image/Container image/Build, push and sign"
NO_FINDINGS = '{"CRITICAL":0,"HIGH":0,"MEDIUM":0,"LOW":0,"UNKNOWN":0}'
ATTESTATIONS = [{"type": "vuln", "predicate-type": "https://cosign.sigstore.dev/attestation/vuln/v1"},
                {"type": "sbom", "predicate-type": "https://cyclonedx.org/bom"},
                {"type": "provenance", "predicate-type": "https://slsa.dev/provenance/v0.2"}]


class ContainerWorld:
    """The registry, cosign on PATH, the OIDC endpoint, the scanner and the docker stand-ins of one service."""

    def __init__(self, act_session, scanner, root: Path, name: str, templates: list[str]) -> None:
        self.session = act_session
        self.scanner = scanner
        self.registry = oci.Registry(root / "registry", users={REGISTRY_USER: REGISTRY_PASSWORD}).start()
        self.image = f"{self.registry.host}/org/{name}"
        self.cosign_bin = root / "cosign-bin"
        self.cosign_bin.mkdir()
        (self.cosign_bin / "cosign").write_text(
            f"#!/bin/sh\nexec {sys.executable} {BUILD_PUSH_TESTS / 'cosign_standin.py'} \"$@\"\n")
        (self.cosign_bin / "cosign").chmod(0o755)
        self.workflow_ref = f"org/ci/.github/workflows/container.yml@{act_session.act.served.sha}"
        self.oidc = OIDCProvider()
        self.repo = ServiceRepo(root, act_session.git.root, name, act_session.act.served.sha, templates)
        for template in templates:
            self.repo.replace_input(template, "image", self.image)
        self.repo.add_inputs(templates[0], {"registry": self.registry.host}, job="image")
        self.repo.add_secrets(templates[0], {"registry-username": "${{ secrets.REGISTRY_USERNAME }}",
                                             "registry-password": "${{ secrets.REGISTRY_PASSWORD }}"}, job="image")
        self.builds: list[dict] = []
        self.logins: list[dict] = []
        self.installs: list[dict] = []
        self.uploads: list[dict] = []
        self.image_files = bp.alpine_files(bp.CLEAN)
        self.docker_config = root / "docker-config"
        self.docker_config.mkdir()

    def handlers(self) -> dict:
        return {"actions/checkout": checkout, "docker/setup-buildx-action": bp.setup_buildx,
                "docker/login-action": bp.login_action(self.registry, self.logins),
                "docker/metadata-action": bp.metadata_action,
                "docker/build-push-action": bp.build_push_action(self.builds, files=self.image_files),
                "sigstore/cosign-installer": bp.cosign_installer(self.installs),
                "github/codeql-action/upload-sarif": bp.upload_sarif(self.uploads)}

    @property
    def env(self) -> dict[str, str]:
        return {**self.oidc.env, "DOCKER_CONFIG": str(self.docker_config),
                "COSIGN_STANDIN_LOG": str(self.cosign_bin / "cosign.log")}

    @property
    def secrets(self) -> dict[str, str]:
        return {"GITHUB_TOKEN": TOKEN, "REGISTRY_USERNAME": REGISTRY_USER, "REGISTRY_PASSWORD": REGISTRY_PASSWORD}

    def id_token_for(self, workflow: str, event: str, github: dict[str, str]) -> None:
        """The claims of this run's OIDC token, as GitHub mints them for a job of a called workflow: the
        caller's repository, ref, commit, trigger and workflow; ``job_workflow_ref`` the called one."""
        repository, ref, sha = github["GITHUB_REPOSITORY"], github["GITHUB_REF"], github["SHA_REF"]
        caller = self.repo.path / ".github" / "workflows" / workflow
        self.oidc.claims = {
            "iss": ISSUER, "sub": f"repo:{repository}:ref:{ref}", "repository": repository,
            "repository_owner": repository.split("/")[0], "repository_id": "4242", "repository_owner_id": "42",
            "repository_visibility": "private", "ref": ref, "sha": sha, "event_name": event,
            "workflow": yaml.safe_load(caller.read_text(encoding="utf-8"))["name"],
            "workflow_ref": f"{repository}/.github/workflows/{workflow}@{ref}", "workflow_sha": sha,
            "job_workflow_ref": self.workflow_ref, "job_workflow_sha": self.session.act.served.sha,
            "runner_environment": "github-hosted", "run_id": github["GITHUB_RUN_ID"], "run_attempt": "1"}

    def cosign_calls(self) -> list[list[str]]:
        log = self.cosign_bin / "cosign.log"
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []

    def client(self) -> ocidist.Client:
        return ocidist.Client(self.registry.host, credentials=(oci.USER, oci.PASSWORD))

    def tags(self) -> list[str]:
        return sorted(self.client().tags(self.image.split("/", 1)[1]))

    def referrers(self, digest: str) -> list[str]:
        """The predicate types of the cosign bundles the registry holds for ``digest`` (the referrers
        tag schema: docker-registry 2.8 has no referrers API)."""
        client, repo = self.client(), self.image.split("/", 1)[1]
        index = client.get_manifest(repo, ocidist.fallback_tag(digest), (ocidist.OCI_INDEX,))
        types = []
        for desc in json.loads(index.body)["manifests"] if index else []:
            manifest = json.loads(client.get_manifest(repo, desc["digest"]).body)
            assert manifest["subject"]["digest"] == digest
            bundle = json.loads(client.get_blob(repo, manifest["layers"][0]["digest"]))
            statement = json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))
            assert [s["digest"]["sha256"] for s in statement["subject"]] == [digest.removeprefix("sha256:")]
            types.append(statement["predicateType"])
        return sorted(types)

    def cosign(self, command: str) -> subprocess.CompletedProcess:
        """A command line as the job summary prints it, run with cosign (the stand-in) against the registry."""
        argv = shlex.split(command)
        assert argv[0] == "cosign"
        return subprocess.run([str(self.cosign_bin / "cosign"), *argv[1:]], capture_output=True, text=True,
                              timeout=60, env={**os.environ, "DOCKER_CONFIG": str(self.docker_config),
                                               "COSIGN_STANDIN_LOG": str(self.cosign_bin / "verify.log")})

    def run(self, workflow: str, event: str, payload: dict, github: dict, handlers: dict | None = None,
            env: dict | None = None, path: list[Path] | None = None, secrets: dict | None = None,
            variables: dict | None = None):
        self.id_token_for(workflow, event, github)
        try:
            return self.session.act.run(self.repo.path, event, workflow, payload, github=github,
                                        handlers={**self.handlers(), **(handlers or {})},
                                        env={**self.env, **(env or {})}, path=[self.cosign_bin, *(path or [])],
                                        secrets={**self.secrets, **(secrets or {})}, variables=variables)
        finally:
            self.repo.back_to_main()

    def stop(self) -> None:
        self.registry.stop()
        self.oidc.stop()


@pytest.fixture(scope="module")
def world(act_session, scanner):
    w = ContainerWorld(act_session, scanner, act_session.new_dir("container"), "svc-image", ["container"])
    yield w
    w.stop()


def run(world: ContainerWorld, event: str, payload: dict, github: dict):
    return world.run("container.yml", event, payload, github)


def test_pull_request_builds_and_scans_without_pushing(world):
    world.repo.commit_on("feature/slim", "feat: slimmer image", {"Dockerfile": "FROM scratch\nCOPY src /srv\n"})
    payload, github = world.repo.pull_request("feature/slim", "feat: slimmer image")
    scans_before = len(world.scanner.calls())
    result = run(world, "pull_request", payload, github)
    assert result.succeeded, result.text()[-8000:]
    merge = github["SHA_REF"][:7]
    assert result.needs["image"] == {"result": "success", "outputs": {
        "digest": "", "image-ref": "", "tags": f"{world.image}:pr-1\n{world.image}:sha-{merge}",
        "vulnerabilities": NO_FINDINGS, "attestations": "[]", "verify-command": ""}}
    [build] = world.builds
    assert build["push"] == "false" and build["outputs"].startswith("type=oci,dest=")
    archive = build["outputs"].split("dest=", 1)[1]
    scans = world.scanner.calls()[scans_before:]  # scanned from the archive the build wrote
    assert len(scans) == 2 and all(argv[-2:] == ["--input", archive] for argv in scans)
    assert [u["category"] for u in world.uploads] == [f"build-push/{world.image}"]  # code scanning has it
    assert world.tags() == [] and world.cosign_calls() == [] and world.installs == []  # not pushed, not signed
    assert "Built and scanned but not pushed (`pull_request` event)" in result.summary(JOB)


def test_push_scans_signs_attests_and_verifies_by_digest(world):
    world.builds.clear()
    world.uploads.clear()
    payload, github = world.repo.push_event()
    result = run(world, "push", payload, github)
    assert result.succeeded, result.text()[-8000:]
    outputs = result.outputs("image")
    digest = outputs["digest"]
    assert digest.startswith("sha256:") and len(digest) == 71
    image_ref = f"{world.image}@{digest}"
    assert outputs["image-ref"] == image_ref
    short = payload["after"][:7]
    assert outputs["tags"].splitlines() == [f"{world.image}:main", f"{world.image}:sha-{short}"]
    assert outputs["vulnerabilities"] == NO_FINDINGS
    assert json.loads(outputs["attestations"]) == ATTESTATIONS
    assert world.registry.raw_manifest_digest("org/svc-image", "main") == digest  # the registry agrees
    # scanned by digest in the registry, as JSON (every severity) and SARIF (the gate), then uploaded
    assert [argv[-3:] for argv in world.scanner.calls(image_ref)][:2] == [["--image-src", "remote", image_ref]] * 2
    assert [u["category"] for u in world.uploads] == [f"build-push/{world.image}"]
    # cosign v3: the signature and the three attestations are referrer bundles of the digest, no `.sig` tag
    assert world.referrers(digest) == sorted(["https://sigstore.dev/cosign/sign/v1", *(
        a["predicate-type"] for a in ATTESTATIONS)])
    assert world.tags() == sorted(["main", f"sha-{short}", f"sha256-{digest[7:]}"])
    assert world.installs[-1] == {"cosign-release": "v3.1.2", "install-dir": "$HOME/.cosign", "use-sudo": "false"}
    # the registry's own credentials, never the job token (issue 10 item 10)
    assert world.logins[-1] == {"registry": world.registry.host, "username": REGISTRY_USER,
                                "password": REGISTRY_PASSWORD, "ecr": "", "scope": "", "logout": "true",
                                "registry-auth": ""}
    assert all(login["password"] != TOKEN for login in world.logins)
    # the verify command binds the reusable workflow at its commit and this caller's repository, ref,
    # commit and trigger; it verifies by digest in the registry as printed, and a foreign binding fails
    verify = outputs["verify-command"]
    binding = (f"--certificate-identity https://github.com/{world.workflow_ref} --certificate-oidc-issuer {ISSUER}"
               f" --certificate-github-workflow-repository org/svc-image --certificate-github-workflow-ref "
               f"refs/heads/main --certificate-github-workflow-sha {payload['after']} "
               "--certificate-github-workflow-trigger push")
    assert verify == f"cosign verify {binding} {image_ref}"
    assert [c[0] for c in world.cosign_calls()] == ["sign", "verify", "attest", "attest", "attest",
                                                    "verify-attestation", "verify-attestation", "verify-attestation"]
    assert all(call[-1] == image_ref for call in world.cosign_calls())  # by digest, never by tag
    checked = world.cosign(verify)
    assert checked.returncode == 0, checked.stderr
    foreign = world.cosign(verify.replace("repository org/svc-image", "repository org/other"))
    assert foreign.returncode == 1 and "no matching attestations" in foreign.stderr
    summary = result.summary(JOB)
    assert digest in summary and verify in summary
    assert f"cosign verify-attestation --type vuln {binding} {image_ref}" in summary


def test_an_image_with_a_critical_finding_fails_the_run_and_is_never_signed(world):
    """Issue 16: the scan runs by digest before signing; a CRITICAL finding stops the job before cosign."""
    world.builds.clear()
    world.uploads.clear()
    signed_before = world.cosign_calls()
    world.image_files = bp.alpine_files(bp.VULNERABLE)
    try:
        world.repo.work.commit("feat: bundle openssl", {"src/svc/tls.py": "OPENSSL = True\n"})
        payload, github = world.repo.push_event()
        result = run(world, "push", payload, github)
    finally:
        world.image_files = bp.alpine_files(bp.CLEAN)
    assert not result.succeeded
    assert result.jobs[JOB] == "failure"
    digest = world.registry.raw_manifest_digest("org/svc-image", f"sha-{payload['after'][:7]}")  # pushed, then scanned
    assert world.scanner.calls(f"{world.image}@{digest}")
    [error] = [e for e in result.errors(JOB) if "finding(s)" in e]
    assert error.startswith(f"2 finding(s) at CRITICAL,HIGH in {digest}: the image is not signed or attested")
    assert set(result.step_outputs(JOB, "vulnerabilities")) == {
        '{"CRITICAL":1,"HIGH":1,"MEDIUM":1,"LOW":0,"UNKNOWN":0}'}
    assert set(result.step_outputs(JOB, "failure-reason")) == {"vulnerabilities-found"}
    assert world.cosign_calls() == signed_before and not any(digest in call[-1] for call in world.cosign_calls())
    assert world.referrers(digest) == [] and f"sha256-{digest[7:]}" not in world.tags()  # no signature, no attestation
    [upload] = world.uploads  # the findings still reach code scanning
    rules = {r["id"] for r in upload["sarif"]["runs"][0]["tool"]["driver"]["rules"]}
    assert {"CVE-2024-0001", "CVE-2024-0002"} <= rules
    assert "`vulnerabilities-found`" in result.summary(JOB)
