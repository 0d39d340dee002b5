"""``actions/build-push`` end to end through the local runner (tests/support/runner/).

Real: the OCI registry (``docker-registry`` on 127.0.0.1 with htpasswd auth), the registry login
(``skopeo login`` writing ``$DOCKER_CONFIG/config.json``, as ``docker login`` does), the push of the
built image and its digest (``skopeo copy`` of an OCI image index, digest read back from the
registry), the signature stored beside the image, and every line of ``build_push.py``.

Stand-ins (these cannot run here: no Docker daemon, no BuildKit, no Sigstore):
- ``docker/setup-buildx-action``: returns a builder's outputs.
- ``docker/login-action``: does the real login above, fails like the action on bad credentials.
- ``docker/metadata-action``: computes ``tags``/``labels`` from the rules the action passes, by the
  rules in metadata-action's README (branch, ``pr-N``, semver with the 0.x and pre-release rules,
  ``sha-<7>``, ``raw``, ``latest=auto``).
- ``docker/build-push-action``: stands in for BuildKit's build only (needs the Dockerfile, as BuildKit
  does); what comes after the build is real: it pushes an image index to every tag in the real
  registry and returns the registry's digest in ``digest`` and ``metadata`` as the action does.
  No provenance/SBOM manifests are added to the index.
- ``sigstore/cosign-installer``: checks the pinned version; the cosign stand-in is already on PATH.
- ``cosign``: cosign_standin.py (see its docstring): real registry storage, simulated cryptography.
"""

from __future__ import annotations

import subprocess

import pytest
from buildpush_standins import SHA, World, build_push_action, cosign_installer, failing, setup_buildx

from support import registry as oci


@pytest.fixture
def world(tmp_path, registry, cosign_bin, oidc, release_host) -> World:
    return World(tmp_path, registry, cosign_bin, oidc, github=release_host)


def assert_failed(result, reason: str) -> None:
    assert result.failed
    assert result.outputs["failure-reason"] == reason, (result.outputs, result.errors, result.stdout)
    assert f"**Failed** (`{reason}`)" in result.summary
    assert result.step("summary").outcome == "success"  # the table is written whatever failed
    assert "Traceback" not in result.stderr


# ------------------------------------------------------------------ happy paths

def test_push_keyless_sign_and_verify(world, bp):
    """The whole path: build, push, scan by digest, sign only then, verify, attest scan/SBOM/provenance."""
    result = world.run()
    assert not result.failed, (result.errors, result.stdout)
    digest = world.registry_digest("main")
    assert digest == world.registry_digest(f"sha-{SHA[:7]}")
    ref = f"{world.image}@{digest}"
    identity = f"https://github.com/{bp.WORKFLOW_REF}"
    binding = ["--certificate-github-workflow-repository", "org/svc", "--certificate-github-workflow-ref",
               "refs/heads/main", "--certificate-github-workflow-sha", bp.SVC_SHA,
               "--certificate-github-workflow-trigger", "push"]
    keyless = ["--certificate-identity", identity, "--certificate-oidc-issuer", bp.ISSUER, *binding]
    sarif = result.outputs.pop("scan-sarif")
    assert result.outputs == {
        "digest": digest, "image-ref": ref, "tags": f"{world.image}:main\n{world.image}:sha-{SHA[:7]}",
        "pushed": "true", "signed": "true", "failure-reason": "",
        "verify-command": f"cosign verify {' '.join(keyless)} {ref}",
        "vulnerabilities": '{"CRITICAL":0,"HIGH":0,"MEDIUM":0,"LOW":0,"UNKNOWN":0}',
        "attestations": '[{"type":"vuln","predicate-type":"https://cosign.sigstore.dev/attestation/vuln/v1"},'
                        '{"type":"sbom","predicate-type":"https://cyclonedx.org/bom"},'
                        '{"type":"provenance","predicate-type":"https://slsa.dev/provenance/v0.2"}]'}
    # scanned BY DIGEST before anything was signed, then signed, verified and attested by digest
    trivy = world.trivy_calls()
    assert [c["argv"][c["argv"].index("--format") + 1] for c in trivy] == ["json", "sarif", "cyclonedx"]
    assert all(c["argv"][-3:] == ["--image-src", "remote", ref] for c in trivy)
    calls = world.cosign_calls()
    assert calls[:2] == [["sign", "--yes", ref], ["verify", *keyless, ref]]
    assert [c[:4] for c in calls[2:5]] == [["attest", "--yes", "--type", kind] for kind in
                                           ("vuln", "cyclonedx", "slsaprovenance02")]
    assert calls[5:] == [["verify-attestation", "--type", kind, *keyless, ref]
                         for kind in ("vuln", "cyclonedx", "slsaprovenance02")]
    stored = bp.referrers(world.reg, "org/app", digest)  # cosign v3: referrer bundles, no `.sig` tag
    assert sorted(r["manifest"]["annotations"]["dev.sigstore.bundle.predicateType"] for r in stored) == sorted([
        "https://sigstore.dev/cosign/sign/v1", "https://cosign.sigstore.dev/attestation/vuln/v1",
        "https://cyclonedx.org/bom", "https://slsa.dev/provenance/v0.2"])
    assert not world.tag_exists(digest.replace(":", "-") + ".sig")
    assert world.installs == [{"cosign-release": "v3.1.2"}]
    assert world.logins == [{"registry": world.reg.host, "username": oci.USER, "password": oci.PASSWORD}]
    assert [u["category"] for u in world.uploads] == [f"build-push/{world.image}"]
    assert world.uploads[0]["sarif_file"] == sarif
    build = world.builds[0]
    assert build["push"] == "true" and build["provenance"] == "true" and build["sbom"] == "false"
    assert build["outputs"] == ""  # pushed: no OCI archive
    assert build["cache-from"] == ""  # a pushing build never reads the cache others can write
    assert build["cache-to"] == "type=gha,mode=max,scope=build-push-org-app"
    assert f"```sh\n{result.outputs['verify-command']}\n```" in result.summary
    for kind in ("vuln", "cyclonedx", "slsaprovenance02"):
        assert f"cosign verify-attestation --type {kind} {' '.join(keyless)} {ref}" in result.summary
    assert f"| Digest | `{digest}` |" in result.summary and "| Signed | yes (keyless) |" in result.summary
    assert "| Attested | vuln, sbom, provenance |" in result.summary
    assert "| 0 | 0 | 0 | 0 | 0 |" in result.summary and "No finding at CRITICAL,HIGH" in result.summary
    assert "| Pushed | yes |" in result.summary
    assert oci.PASSWORD not in result.stdout + result.summary


def test_an_image_name_with_capitals_is_pushed_and_signed_lower_cased(world):
    """`ghcr.io/${{ github.repository }}` for an owner with capitals (issue 10 item 13)."""
    result = world.run({"image": f"{world.reg.host}/Org/App"})
    assert not result.failed, (result.errors, result.stdout)
    digest = world.registry_digest("main")
    assert result.outputs["image-ref"] == f"{world.image}@{digest}"
    assert result.outputs["signed"] == "true"
    assert f"image name lower-cased to {world.image}" in " ".join(result.notices)


def test_a_feature_branch_is_pushed_but_not_signed(world, bp):
    """Issue 10 item 9: only the default branch and tags are signed unless sign-refs widens it."""
    result = world.run(github={"ref": "refs/heads/feature/x"})
    assert not result.failed, (result.errors, result.stdout)
    assert result.outputs["pushed"] == "true" and result.outputs["signed"] == "false"
    assert world.cosign_calls() == [] and world.installs == []
    assert "not signed: refs/heads/feature/x is neither the default branch nor a tag" in result.summary
    world.oidc.claims = bp.github_claims(ref="refs/heads/feature/x")  # the token of that run
    widened = world.run({"sign-refs": "refs/heads/feature/*"}, github={"ref": "refs/heads/feature/x"})
    assert not widened.failed and widened.outputs["signed"] == "true"
    assert "--certificate-github-workflow-ref refs/heads/feature/x" in widened.outputs["verify-command"]


def test_release_tag_signed_with_a_pem_key(world):
    private, public = world_keys(world, "key-pass-1")
    result = world.run({"cosign-key": private, "cosign-password": "key-pass-1", "provenance": "false"},
                       github={"ref": "refs/tags/v1.2.3", "event_name": "push"}, id_token=False)
    assert not result.failed, (result.errors, result.stdout)
    tags = result.outputs["tags"].splitlines()
    assert tags == [f"{world.image}:{t}" for t in ("1.2.3", "1.2", "1", f"sha-{SHA[:7]}", "latest")]
    digest = world.registry_digest("1.2.3")
    ref = f"{world.image}@{digest}"
    assert result.outputs["digest"] == digest and result.outputs["signed"] == "true"
    assert result.outputs["verify-command"] == f"cosign verify --key cosign.pub {ref}"
    calls = world.cosign_calls()
    assert calls[0] == ["sign", "--yes", "--key", "env://COSIGN_PRIVATE_KEY", ref]
    assert calls[2][0] == "verify" and calls[2][-1] == ref  # after `public-key`, which derived cosign.pub
    # no provenance from the build: the scan and the SBOM are attested with the same key
    assert [c[:6] for c in calls if c[0] == "attest"] == [
        ["attest", "--yes", "--key", "env://COSIGN_PRIVATE_KEY", "--type", kind] for kind in ("vuln", "cyclonedx")]
    assert f"cosign verify-attestation --type vuln --key cosign.pub {ref}" in result.summary
    assert public.strip() in result.summary and "PRIVATE KEY" not in result.summary + result.stdout
    assert world.builds[0]["provenance"] == "false"


def test_env_key_from_the_callers_step_env(world):
    """``cosign-key: env://COSIGN_PRIVATE_KEY`` with the key and COSIGN_PASSWORD in the calling step's
    ``env:`` (as .github/workflows/container.yml passes them)."""
    private, public = world_keys(world, "env-pass")
    result = world.run({"cosign-key": "env://COSIGN_PRIVATE_KEY"}, id_token=False,
                       extra_env={"COSIGN_PRIVATE_KEY": private, "COSIGN_PASSWORD": "env-pass"})
    assert not result.failed, (result.errors, result.stdout)
    ref = result.outputs["image-ref"]
    assert world.cosign_calls()[0] == ["sign", "--yes", "--key", "env://COSIGN_PRIVATE_KEY", ref]
    assert result.outputs["verify-command"] == f"cosign verify --key cosign.pub {ref}"
    assert public.strip() in result.summary


def test_kms_key(world):
    key = "awskms:///alias/release-signing"
    result = world.run({"cosign-key": key}, id_token=False)
    assert not result.failed, (result.errors, result.stdout)
    ref = result.outputs["image-ref"]
    assert world.cosign_calls()[:2] == [["sign", "--yes", "--key", key, ref], ["verify", "--key", key, ref]]
    assert world.cosign_calls()[-1] == ["verify-attestation", "--type", "slsaprovenance02", "--key", key, ref]
    assert result.outputs["verify-command"] == f"cosign verify --key {key} {ref}"


def test_pull_request_builds_without_push_or_signature(world):
    result = world.run(github={"event_name": "pull_request", "ref": "refs/pull/7/merge",
                               "event": {"number": 7, "pull_request": {
                                   "head": {"ref": "feature/x", "repo": {"full_name": "org/svc"}},
                                   "base": {"ref": "main"}}}},
                       id_token=False)
    assert not result.failed, (result.errors, result.stdout)
    sarif = result.outputs.pop("scan-sarif")
    assert result.outputs == {"digest": "", "image-ref": "", "tags": f"{world.image}:pr-7\n{world.image}:sha-{SHA[:7]}",
                              "pushed": "false", "signed": "false", "verify-command": "", "failure-reason": "",
                              "vulnerabilities": '{"CRITICAL":0,"HIGH":0,"MEDIUM":0,"LOW":0,"UNKNOWN":0}',
                              "attestations": "[]"}
    build = world.builds[0]
    assert build["push"] == "false" and build["outputs"].startswith("type=oci,dest=")
    archive = build["outputs"].split("dest=", 1)[1]
    # scanned from the OCI archive the build wrote, by the digest the build reported; never pushed
    scans = world.trivy_calls()
    assert len(scans) == 2 and all(c["argv"][c["argv"].index("--input") + 1] == archive for c in scans)
    assert not world.tag_exists("pr-7")
    assert world.cosign_calls() == [] and world.installs == []
    assert [u["sarif_file"] for u in world.uploads] == [sarif]  # the same repository's pull request: uploaded
    for step in ("cosign", "sign", "verify", "attest"):
        assert result.step(step).outcome == "skipped"
    assert "Built and scanned but not pushed (`pull_request` event), so not signed or verified." in result.summary


# ------------------------------------------------------------------ every failure reason

def test_invalid_input(world):
    result = world.run({"image": f"{world.image}:latest"})
    assert_failed(result, "invalid-input")
    assert world.builds == [] and world.logins == []


def test_credentials_missing_for_a_registry_without_secrets(world):
    """Issue 10 item 10: container.yml passes `require-login: true` and, for a registry other than
    ghcr.io without its secrets, no credentials: a clear failure before anything is built."""
    result = world.run({"username": "", "password": "", "require-login": "true"})
    assert_failed(result, "credentials-missing")
    assert world.builds == [] and world.logins == []
    assert any(f'registry "{world.reg.host}" needs credentials' in e for e in result.errors)


def test_credentials_not_needed_to_build_a_pull_request(world, bp):
    # Trivy's database is public; the test registry that holds it here needs a login all the same
    assert bp.login(world.reg, world.docker_config, oci.USER, oci.PASSWORD).returncode == 0
    result = world.run({"username": "", "password": "", "require-login": "true"}, id_token=False,
                       github={"event_name": "pull_request", "ref": "refs/pull/7/merge",
                               "event": {"number": 7, "pull_request": {"head": {"ref": "x"}, "base": {"ref": "main"}}}})
    assert not result.failed, result.errors
    assert result.outputs["pushed"] == "false"


def test_the_job_token_is_refused_for_another_registry(world):
    """Defence in depth in the action itself: the job's GITHUB_TOKEN as the password of a registry that is
    not ghcr.io is refused before the login step could send it anywhere."""
    token = "ghs_jobtoken0123456789abcdefABCDEF0123"
    result = world.run({"username": "octocat", "password": token}, github={"token": token})
    assert_failed(result, "invalid-input")
    assert world.logins == [] and world.builds == []
    assert any("only ever sent to ghcr.io" in e for e in result.errors)
    assert token not in result.stdout + result.summary


def test_id_token_missing(world):
    result = world.run(id_token=False)
    assert_failed(result, "id-token-missing")
    assert world.builds == []  # nothing is pushed unsigned


def test_builder_driver_options_reach_setup_buildx(world):
    seen = []

    def recording(call):
        seen.append(dict(call.inputs))
        return setup_buildx(call)

    result = world.run({"buildx-driver-opts": "network=host"}, **{"docker/setup-buildx-action": recording})
    assert not result.failed, (result.errors, result.stdout)
    assert seen == [{"driver-opts": "network=host"}]


def test_setup_failed(world):
    result = world.run(**{"docker/setup-buildx-action": failing("ERROR: failed to create builder")})
    assert_failed(result, "setup-failed")


def test_login_failed_with_a_wrong_password(world):
    result = world.run({"password": "not-the-password"})
    assert_failed(result, "login-failed")
    assert world.builds == []
    assert "not-the-password" not in result.stdout + result.summary


def test_metadata_failed(world):
    result = world.run(**{"docker/metadata-action": failing("Error: invalid tag rule")})
    assert_failed(result, "metadata-failed")


def test_build_failed_without_a_dockerfile(world):
    (world.workspace / "Dockerfile").unlink()
    result = world.run()
    assert_failed(result, "build-failed")
    assert any("failed to read dockerfile" in e for e in result.errors)
    assert result.outputs["pushed"] == "false" and "| Pushed | no |" in result.summary
    assert world.cosign_calls() == []


def test_invalid_digest_is_never_signed(world):
    result = world.run(**{"docker/build-push-action": build_push_action(world.builds, bad_digest="sha256:12ab")})
    assert_failed(result, "invalid-digest")
    assert result.outputs["image-ref"] == "" and result.outputs["digest"] == ""
    assert result.outputs["pushed"] == "true"  # the build did push the tags; the digest is what is wrong
    assert "| Pushed | yes |" in result.summary and "| Digest | none |" in result.summary
    assert world.cosign_calls() == [] and world.installs == []


def test_cosign_install_failed(world):
    result = world.run(**{"sigstore/cosign-installer": cosign_installer(world.installs, fail=True)})
    assert_failed(result, "cosign-install-failed")
    assert world.cosign_calls() == []
    assert result.outputs["signed"] == "false"


def test_sign_failed_with_a_wrong_key_password(world):
    private, _ = world_keys(world, "right")
    result = world.run({"cosign-key": private, "cosign-password": "wrong"}, id_token=False)
    assert_failed(result, "sign-failed")
    assert result.step("verify").outcome == "skipped"
    assert any("decryption failed" in e for e in result.errors)
    assert result.outputs["pushed"] == "true" and result.outputs["signed"] == "false"


def test_verify_failed_for_another_identity(world):
    other = "https://github.com/org/other/.github/workflows/release.yml@refs/heads/main"
    result = world.run({"certificate-identity": other})
    assert_failed(result, "verify-failed")
    assert world.cosign_calls()[-1][:3] == ["verify", "--certificate-identity", other]
    assert result.outputs["signed"] == "false" and result.outputs["verify-command"] == ""


def test_verify_failed_for_another_public_key(world):
    private, _ = world_keys(world, "pw")
    (world.cosign_bin / "keys" / "cosign.key").rename(world.cosign_bin / "keys" / "signing.key")
    _, other_public = world_keys(world, "pw")
    result = world.run({"cosign-key": private, "cosign-password": "pw", "cosign-public-key": other_public},
                       id_token=False)
    assert_failed(result, "verify-failed")


def world_keys(world: World, password: str) -> tuple[str, str]:
    work = world.cosign_bin / "keys"
    work.mkdir(exist_ok=True)
    subprocess.run([str(world.cosign_bin / "cosign"), "generate-key-pair"], cwd=work, check=True,
                   capture_output=True, env={"COSIGN_PASSWORD": password, "PATH": "/usr/bin:/bin"})
    return (work / "cosign.key").read_text(), (work / "cosign.pub").read_text()
