"""Unit tests of ``actions/build-push/build_push.py``: each subcommand run as its step runs it, with
real GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files.

``sign`` and ``verify`` run against a REAL registry (docker-registry on 127.0.0.1, images pushed with
skopeo) through the cosign STAND-IN (cosign_standin.py; cosign itself needs Fulcio, Rekor or a KMS).
"""

from __future__ import annotations

import os
import shlex
import subprocess

import pytest

DIGEST = "sha256:" + "ab" * 32

PLAN_ENV = {
    "INPUT_IMAGE": "ghcr.io/org/app", "INPUT_PUSH": "auto", "INPUT_PROVENANCE": "true", "INPUT_SBOM": "false",
    "INPUT_CACHE": "true", "INPUT_SIGN": "true", "INPUT_COSIGN_VERSION": "v3.1.2", "INPUT_HAS_PASSWORD": "false",
    "GITHUB_EVENT_NAME": "push", "GITHUB_REF": "refs/heads/main", "DEFAULT_BRANCH": "main",
    "ACTIONS_ID_TOKEN_REQUEST_URL": "http://127.0.0.1:9/token", "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "t",
}


def plan(script, **overrides):
    env = {**PLAN_ENV, **{k: v for k, v in overrides.items() if v is not None}}
    for key in [k for k, v in overrides.items() if v is None]:
        env.pop(key, None)
    return script("plan", env=env)


# ------------------------------------------------------------------ plan

def test_plan_on_push_pushes_and_signs_keyless(script):
    run = plan(script)
    assert run.code == 0, run.stdout + run.stderr
    out = run.outputs
    assert out["push"] == "true" and out["sign"] == "true" and out["sign-mode"] == "keyless"
    assert out["registry"] == "ghcr.io" and out["login"] == "false" and out["image"] == "ghcr.io/org/app"
    # a build that publishes writes the layer cache but never reads it (cache poisoning)
    assert out["cache-from"] == ""
    assert out["cache-to"] == "type=gha,mode=max,scope=build-push-org-app"
    assert out["provenance"] == "true" and out["sbom"] == "false" and out["cosign-version"] == "v3.1.2"
    rules = out["tag-rules"].splitlines()
    assert rules == ["type=ref,event=branch", "type=ref,event=pr", "type=semver,pattern={{version}}",
                     "type=semver,pattern={{major}}.{{minor}}", "type=semver,pattern={{major}},enable=true",
                     "type=sha"]
    assert "failure-reason" not in out


@pytest.mark.parametrize("event", ["pull_request", "pull_request_target", "merge_group"])
def test_plan_never_pushes_or_signs_for_pull_requests(script, event):
    # no id token either: a pull request from a fork has none, and nothing is signed
    run = plan(script, GITHUB_EVENT_NAME=event, ACTIONS_ID_TOKEN_REQUEST_URL=None)
    assert run.code == 0, run.stdout
    assert run.outputs["push"] == "false" and run.outputs["sign"] == "false"
    assert run.outputs["cache-from"] == "type=gha,scope=build-push-org-app"  # a build that publishes nothing reads it


@pytest.mark.parametrize("given,expected", [
    ("ghcr.io/My-Org/My_Service", "ghcr.io/my-org/my_service"),
    ("ghcr.io/Org/App", "ghcr.io/org/app"),
    ("GHCR.io/octo-org/Hello.World", "ghcr.io/octo-org/hello.world"),
])
def test_plan_lower_cases_the_image_name(script, given, expected):
    """Issue 10 item 13: `ghcr.io/${{ github.repository }}` of an owner or repository with capitals was
    refused; registries store repository names in lower case (docker/metadata-action lower-cases too)."""
    run = plan(script, INPUT_IMAGE=given)
    assert run.code == 0, run.stdout
    assert run.outputs["image"] == expected and run.outputs["registry"] == "ghcr.io"
    assert f"::notice::image name lower-cased to {expected}" in run.stdout


@pytest.mark.parametrize("ref,sign_refs,default,signed", [
    ("refs/heads/main", "", "main", True),
    ("refs/tags/v1.2.3", "", "main", True),
    ("refs/heads/trunk", "", "trunk", True),
    ("refs/heads/feature/x", "", "main", False),                  # any other branch: pushed, not signed
    ("refs/heads/main", "", "", False),                           # default branch unknown (schedule event)
    ("refs/heads/main", "refs/heads/main", "", True),
    ("refs/heads/release/1.2", "refs/heads/release/*", "main", True),
    ("refs/heads/feature/x", "refs/heads/release/*\nrefs/tags/*", "main", False),
])
def test_plan_signs_the_default_branch_and_tags_only_unless_widened(script, ref, sign_refs, default, signed):
    """Issue 10 item 9: a signature certifies a ref; by default only the default branch and tags are signed."""
    run = plan(script, GITHUB_REF=ref, INPUT_SIGN_REFS=sign_refs, DEFAULT_BRANCH=default)
    assert run.code == 0, run.stdout
    assert run.outputs["push"] == "true"
    assert run.outputs["sign"] == ("true" if signed else "false")
    if not signed:
        assert run.outputs["unsigned-reason"] and "sign-refs" in run.outputs["unsigned-reason"]


def test_plan_needs_no_id_token_for_a_ref_that_is_not_signed(script):
    run = plan(script, GITHUB_REF="refs/heads/feature/x", ACTIONS_ID_TOKEN_REQUEST_URL=None)
    assert run.code == 0 and run.outputs["sign"] == "false"


@pytest.mark.parametrize("value", ["main", "heads/*", "refs/pull/*", "refs/heads/ma in"])
def test_plan_refuses_a_sign_refs_pattern_that_is_not_a_branch_or_tag(script, value):
    run = plan(script, INPUT_SIGN_REFS=value)
    assert run.code == 1 and run.outputs["failure-reason"] == "invalid-input"
    assert "sign-refs" in run.stdout


def test_plan_push_false_builds_only(script):
    run = plan(script, INPUT_PUSH="false")
    assert run.outputs["push"] == "false" and run.outputs["sign"] == "false"


def test_plan_extra_tag_rules_and_major_zero(script):
    run = plan(script, GITHUB_REF="refs/tags/v0.4.1",
               INPUT_TAGS="# latest on main\ntype=raw,value=latest,enable={{is_default_branch}}\n")
    rules = run.outputs["tag-rules"].splitlines()
    assert "type=semver,pattern={{major}},enable=false" in rules  # metadata-action's advice for 0.x
    assert rules[-1] == "type=raw,value=latest,enable={{is_default_branch}}"


def test_plan_login_registry_defaults(script):
    run = plan(script, INPUT_IMAGE="org/app", INPUT_USERNAME="bot", INPUT_HAS_PASSWORD="true")
    assert run.outputs["registry"] == "docker.io" and run.outputs["login"] == "true"
    run = plan(script, INPUT_IMAGE="127.0.0.1:5000/org/app", INPUT_SIGN="false", INPUT_CACHE="false")
    assert run.outputs["registry"] == "127.0.0.1:5000"
    assert run.outputs["cache-from"] == "" and run.outputs["sign"] == "false"


@pytest.mark.parametrize("mode,key", [("kms", "awskms:///alias/release"), ("kms", "gcpkms://projects/p/locations/global/keyRings/r/cryptoKeys/k"),
                                      ("kms", "azurekms://vault.vault.azure.net/key"), ("kms", "hashivault://release"),
                                      ("env", "env://COSIGN_PRIVATE_KEY"),
                                      ("pem", "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nabc\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----")])
def test_plan_key_modes_need_no_id_token(script, mode, key):
    run = plan(script, INPUT_COSIGN_KEY=key, ACTIONS_ID_TOKEN_REQUEST_URL=None)
    assert run.code == 0, run.stdout
    assert run.outputs["sign-mode"] == mode and run.outputs["sign"] == "true"


def test_plan_keyless_without_id_token_fails_before_building(script):
    run = plan(script, ACTIONS_ID_TOKEN_REQUEST_URL=None)
    assert run.code == 1
    assert run.outputs["failure-reason"] == "id-token-missing"
    assert "id-token: write" in run.stdout and "Traceback" not in run.stderr
    assert "id-token-missing" in run.summary


@pytest.mark.parametrize("overrides,needle", [
    ({"INPUT_IMAGE": ""}, "image is required"),
    ({"INPUT_IMAGE": "ghcr.io/org/app:v1"}, "without a tag or digest"),
    ({"INPUT_IMAGE": f"ghcr.io/org/app@{DIGEST}"}, "without a tag or digest"),
    ({"INPUT_IMAGE": "ghcr.io/org/.github"}, "not a valid image name"),
    ({"INPUT_IMAGE": "ghcr.io/Org/Bad--_Name"}, "not a valid image name"),
    ({"INPUT_REGISTRY": "docker.io"}, 'registry "docker.io" is not the registry'),
    ({"INPUT_IMAGE": "org/app", "INPUT_REGISTRY": "ghcr.io"}, 'image "org/app" names no registry (Docker Hub)'),
    ({"INPUT_REGISTRY": "registry.example.com", "INPUT_USERNAME": "octocat", "INPUT_HAS_PASSWORD": "true",
      "INPUT_PASSWORD_IS_JOB_TOKEN": "true", "INPUT_IMAGE": "registry.example.com/org/app"},
     "only ever sent to ghcr.io"),
    ({"INPUT_USERNAME": "bot"}, "password is required"),
    ({"INPUT_HAS_PASSWORD": "true"}, "username is required"),
    ({"INPUT_PUSH": "always"}, 'push must be "auto" or "false"'),
    ({"INPUT_PLATFORMS": "linux/amd64, amd64"}, 'platforms: "amd64" must be a platform like linux/amd64'),
    ({"INPUT_PROVENANCE": "maybe"}, 'provenance must be true or false, not "maybe"'),
    ({"INPUT_TAGS": "latest"}, 'tags: "latest" must be a docker/metadata-action rule'),
    ({"INPUT_FLAVOR": "latest=auto\nbogus=1"}, 'flavor: "bogus=1" must be a line that sets one of'),
    ({"INPUT_COSIGN_VERSION": "3.1.2"}, "must be a release tag"),
    ({"INPUT_COSIGN_VERSION": "v1.13.6"}, "older than v2.0.0"),
    ({"INPUT_CERTIFICATE_IDENTITY": "org/svc/.github/workflows/x.yml@refs/heads/main"}, "must be an https:// URL"),
])
def test_plan_rejects_bad_input_in_one_line(script, overrides, needle):
    run = plan(script, **overrides)
    assert run.code == 1
    assert run.outputs["failure-reason"] == "invalid-input"
    errors = [line for line in run.stdout.splitlines() if line.startswith("::error")]
    assert len(errors) == 1 and needle in errors[0], run.stdout
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize("value", ["/home/runner/work/_temp/cosign.pub", "cosign.pub", "${RUNNER_TEMP}/cosign.pub"])
def test_plan_refuses_a_path_as_the_public_key(script, value):
    """The input takes the PEM content; a path was once passed and written over the real key file."""
    run = plan(script, INPUT_COSIGN_KEY="env://COSIGN_PRIVATE_KEY", INPUT_COSIGN_PUBLIC_KEY=value)
    assert run.code == 1 and run.outputs["failure-reason"] == "invalid-input"
    assert "cosign-public-key must be the PEM public key" in run.stdout and "not a path" in run.stdout


def test_plan_env_key_needs_a_variable_name(script):
    run = plan(script, INPUT_COSIGN_KEY="env://COSIGN-KEY")
    assert run.code == 1 and run.outputs["failure-reason"] == "invalid-input"


def test_plan_bad_cosign_key_never_echoes_the_key(script):
    run = plan(script, INPUT_COSIGN_KEY="k8s://ns/super-secret-value")
    assert run.code == 1 and run.outputs["failure-reason"] == "invalid-input"
    assert "super-secret-value" not in run.stdout + run.stderr + run.summary
    assert "KMS URI" in run.stdout


# ------------------------------------------------------------------ digest

def test_digest_valid_gives_image_ref(script):
    run = script("digest", env={"PLAN_IMAGE": "ghcr.io/org/app", "BUILD_DIGEST": DIGEST,
                                "BUILD_METADATA": f'{{"containerimage.digest": "{DIGEST}"}}'})
    assert run.code == 0
    assert run.outputs == {"digest": DIGEST, "image-ref": f"ghcr.io/org/app@{DIGEST}", "scan-digest": DIGEST,
                           "scan-target": f"ghcr.io/org/app@{DIGEST}"}


def test_digest_falls_back_to_metadata(script):
    run = script("digest", env={"PLAN_IMAGE": "ghcr.io/org/app", "BUILD_DIGEST": "",
                                "BUILD_METADATA": f'{{"containerimage.digest": "{DIGEST}"}}'})
    assert run.outputs["digest"] == DIGEST


@pytest.mark.parametrize("digest,metadata", [
    ("", ""), ("sha256:abc", ""), ("sha256:" + "AB" * 32, ""), ("sha512:" + "ab" * 64, ""),
    (DIGEST + "\n", "not json"), (DIGEST, '{"containerimage.digest": "sha256:' + "cd" * 32 + '"}'),
])
def test_digest_invalid(script, digest, metadata):
    run = script("digest", env={"PLAN_IMAGE": "ghcr.io/org/app", "BUILD_DIGEST": digest, "BUILD_METADATA": metadata})
    assert run.code == 1
    assert run.outputs == {"failure-reason": "invalid-digest"}
    assert "Traceback" not in run.stderr


# ------------------------------------------------------------------ sign and verify (real registry, cosign stand-in)

def test_sign_refuses_a_tag(script, cosign_bin, bp):
    run = script("sign", env={"IMAGE_REF": "ghcr.io/org/app:v1", "SIGN_MODE": "keyless",
                              "COSIGN_STANDIN_LOG": str(cosign_bin / "cosign.log")}, path=[cosign_bin])
    assert run.code == 1 and run.outputs["failure-reason"] == "invalid-digest"
    assert bp.cosign_calls(cosign_bin) == []  # cosign never saw the tag


def test_keyless_sign_then_verify_by_digest(script, registry, docker_config, cosign_bin, oidc, bp, tmp_path):
    digest = bp.push_image(registry, tmp_path)
    ref = f"{registry.host}/org/app@{digest}"
    env = {"IMAGE_REF": ref, "SIGN_MODE": "keyless", "DOCKER_CONFIG": str(docker_config),
           "COSIGN_STANDIN_LOG": str(cosign_bin / "cosign.log"), "GITHUB_SERVER_URL": "https://github.com",
           "GITHUB_WORKFLOW_REF": "org/svc/.github/workflows/ci.yml@refs/heads/main", **oidc.env}
    signed = script("sign", env=env, path=[cosign_bin])
    assert signed.code == 0, signed.stdout + signed.stderr
    verified = script("verify", env=env, path=[cosign_bin])
    assert verified.code == 0, verified.stdout + verified.stderr
    identity = f"https://github.com/{bp.WORKFLOW_REF}"  # the token's job_workflow_ref, not GITHUB_WORKFLOW_REF
    assert verified.outputs["signed"] == "true"
    # bound to the caller's repository, ref, commit and trigger as well (issue 10 item 9)
    binding = ["--certificate-github-workflow-repository", "org/svc", "--certificate-github-workflow-ref",
               "refs/heads/main", "--certificate-github-workflow-sha", bp.SVC_SHA,
               "--certificate-github-workflow-trigger", "push"]
    assert verified.outputs["verify-command"] == (
        f"cosign verify --certificate-identity {identity} --certificate-oidc-issuer {bp.ISSUER} "
        f"{' '.join(binding)} {ref}")
    assert bp.cosign_calls(cosign_bin) == [
        ["sign", "--yes", ref],
        ["verify", "--certificate-identity", identity, "--certificate-oidc-issuer", bp.ISSUER, *binding, ref]]
    assert "The following checks were performed on each of these signatures:" in verified.stdout
    assert any("audience=sigstore" in r for r in oidc.requests)
    # cosign v3: the signature is a Sigstore bundle in a referrer manifest of the image (the registry has
    # no referrers API, so go-containerregistry's fallback tag sha256-<hex> lists it), no `.sig` tag
    stored = bp.referrers(registry, "org/app", digest)
    assert len(stored) == 1
    manifest = stored[0]["manifest"]
    assert manifest["subject"]["digest"] == digest
    assert manifest["artifactType"] == "application/vnd.dev.sigstore.bundle.v0.3+json"
    assert manifest["annotations"]["dev.sigstore.bundle.predicateType"] == "https://sigstore.dev/cosign/sign/v1"
    assert stored[0]["statement"]["subject"][0]["digest"] == {"sha256": digest.split(":")[1]}
    assert stored[0]["bundle"]["mediaType"] == "application/vnd.dev.sigstore.bundle.v0.3+json"
    assert not any(t.endswith(".sig") for t in bp.tags(registry, "org/app"))
    assert oidc.token not in verified.stdout + signed.stdout


def test_verify_identity_falls_back_to_the_workflow_ref(script, registry, docker_config, cosign_bin, oidc, bp,
                                                       tmp_path):
    """No OIDC token for the verify step (unusual): the calling workflow's ref, with a warning."""
    digest = bp.push_image(registry, tmp_path)
    ref = f"{registry.host}/org/app@{digest}"
    env = {"IMAGE_REF": ref, "SIGN_MODE": "keyless", "DOCKER_CONFIG": str(docker_config), **oidc.env}
    assert script("sign", env=env, path=[cosign_bin]).code == 0
    verify_env = {"IMAGE_REF": ref, "SIGN_MODE": "keyless", "DOCKER_CONFIG": str(docker_config),
                  "GITHUB_SERVER_URL": "https://github.com", "GITHUB_WORKFLOW_REF": bp.WORKFLOW_REF}
    verify_env.update(GITHUB_REPOSITORY="org/svc", GITHUB_REF="refs/heads/main", GITHUB_SHA=bp.SVC_SHA,
                      GITHUB_EVENT_NAME="push")
    run = script("verify", env=verify_env, path=[cosign_bin])
    assert run.code == 0, run.stdout
    assert "::warning::could not read job_workflow_ref" in run.stdout
    assert f"--certificate-identity https://github.com/{bp.WORKFLOW_REF} " in run.outputs["verify-command"]
    assert "--certificate-github-workflow-repository org/svc " in run.outputs["verify-command"]


REUSABLE = "org/ci/.github/workflows/container.yml@refs/tags/v0.2.0"


@pytest.mark.parametrize("signer", [
    {"repository": "other-org/evil"},            # another repository (another organisation) calling container.yml
    {"ref": "refs/heads/feature/x"},              # another branch of the service
    {"repository": "org/svc-fork", "ref": "refs/heads/main"},
])
def test_a_signature_by_another_caller_of_the_same_workflow_fails_the_printed_verification(
        script, registry, docker_config, cosign_bin, oidc, bp, tmp_path, signer):
    """Issue 10 item 9: keyless verification bound only the reusable workflow (job_workflow_ref), the same
    for every caller of container.yml@<ref>: an image signed by any caller passed the printed command."""
    # the attacker's job: the same reusable workflow, called from another repository or branch
    oidc.claims = bp.github_claims(job_workflow_ref=REUSABLE, **signer)
    digest = bp.push_image(registry, tmp_path)
    ref = f"{registry.host}/org/app@{digest}"
    env = {"IMAGE_REF": ref, "SIGN_MODE": "keyless", "DOCKER_CONFIG": str(docker_config), **oidc.env}
    assert script("sign", env=env, path=[cosign_bin]).code == 0
    # the service's own job (org/svc, main) verifies that digest with the command it prints
    oidc.claims = bp.github_claims(job_workflow_ref=REUSABLE)
    run = script("verify", env=env, path=[cosign_bin])
    assert run.code == 1 and run.outputs["failure-reason"] == "verify-failed"
    assert "no matching attestations" in run.stdout
    # and the command printed for this digest, run as a consumer would run it, fails too
    printed = bp.verify_command_for(cosign_bin, script, registry, docker_config, oidc, tmp_path, ref)
    proc = subprocess.run(shlex.split(printed), capture_output=True, text=True, env={
        **os.environ, "PATH": f"{cosign_bin}:{os.environ['PATH']}", "DOCKER_CONFIG": str(docker_config)})
    assert proc.returncode == 1 and "no matching attestations" in proc.stderr, proc.stderr


def test_verify_with_the_wrong_identity_fails(script, registry, docker_config, cosign_bin, oidc, bp, tmp_path):
    digest = bp.push_image(registry, tmp_path)
    env = {"IMAGE_REF": f"{registry.host}/org/app@{digest}", "SIGN_MODE": "keyless",
           "DOCKER_CONFIG": str(docker_config), **oidc.env}
    assert script("sign", env=env, path=[cosign_bin]).code == 0
    run = script("verify", env={**env, "INPUT_CERTIFICATE_IDENTITY": "https://github.com/org/other/.github/"
                                "workflows/x.yml@refs/heads/main"}, path=[cosign_bin])
    assert run.code == 1 and run.outputs["failure-reason"] == "verify-failed"
    # cosign v3 verifies the bundle path and returns its error unwrapped: exit 1, not the legacy 12
    assert "exit 1)" in run.stdout and "no matching attestations" in run.stdout


def test_verify_unsigned_image_fails(script, registry, docker_config, cosign_bin, bp, tmp_path):
    digest = bp.push_image(registry, tmp_path)
    run = script("verify", env={"IMAGE_REF": f"{registry.host}/org/app@{digest}", "SIGN_MODE": "kms",
                                "COSIGN_KEY": "awskms:///alias/release", "DOCKER_CONFIG": str(docker_config)},
                 path=[cosign_bin])
    assert run.code == 1 and run.outputs["failure-reason"] == "verify-failed"
    assert "exit 10" in run.stdout and "no signatures found" in run.stdout


def test_pem_key_sign_and_verify_with_derived_public_key(script, registry, docker_config, cosign_bin, bp, tmp_path):
    private, public = bp.generate_key_pair(cosign_bin, "pw-1")
    digest = bp.push_image(registry, tmp_path)
    ref = f"{registry.host}/org/app@{digest}"
    env = {"IMAGE_REF": ref, "SIGN_MODE": "pem", "COSIGN_KEY": private, "INPUT_COSIGN_PASSWORD": "pw-1",
           "DOCKER_CONFIG": str(docker_config), "COSIGN_STANDIN_LOG": str(cosign_bin / "cosign.log")}
    assert script("sign", env=env, path=[cosign_bin]).code == 0
    run = script("verify", env=env, path=[cosign_bin])
    assert run.code == 0, run.stdout
    assert run.outputs["verify-command"] == f"cosign verify --key cosign.pub {ref}"
    assert run.outputs["public-key"] == public.strip()
    calls = bp.cosign_calls(cosign_bin)
    assert calls[0] == ["sign", "--yes", "--key", "env://COSIGN_PRIVATE_KEY", ref]  # the key is never in argv
    assert calls[1][:3] == ["public-key", "--key", "env://COSIGN_PRIVATE_KEY"]
    assert "BEGIN" not in run.stdout


@pytest.mark.parametrize("given", [False, True])
def test_verify_never_writes_over_a_file_of_the_caller(script, registry, docker_config, cosign_bin, bp, tmp_path,
                                                       given):
    """The public key (given or derived) goes to a fresh temporary file, never to a fixed name such as
    `$RUNNER_TEMP/cosign.pub`, where a caller keeps its own key (test-actions.yml did)."""
    private, public = bp.generate_key_pair(cosign_bin, "pw-2")
    digest = bp.push_image(registry, tmp_path)
    ref = f"{registry.host}/org/app@{digest}"
    runner_temp = tmp_path / "files"
    runner_temp.mkdir(parents=True, exist_ok=True)
    (runner_temp / "cosign.pub").write_text("the caller's own file\n")
    env = {"IMAGE_REF": ref, "SIGN_MODE": "pem", "COSIGN_KEY": private, "INPUT_COSIGN_PASSWORD": "pw-2",
           "DOCKER_CONFIG": str(docker_config), **({"INPUT_COSIGN_PUBLIC_KEY": public} if given else {})}
    assert script("sign", env=env, path=[cosign_bin]).code == 0
    run = script("verify", env=env, path=[cosign_bin])
    assert run.code == 0, run.stdout
    assert (runner_temp / "cosign.pub").read_text() == "the caller's own file\n"
    assert sorted(p.name for p in runner_temp.iterdir() if p.name.endswith(".pub")) == ["cosign.pub"]
    assert run.outputs["public-key"] == public.strip()


def test_pem_key_wrong_password_is_sign_failed(script, registry, docker_config, cosign_bin, bp, tmp_path):
    private, _ = bp.generate_key_pair(cosign_bin, "right")
    digest = bp.push_image(registry, tmp_path)
    run = script("sign", env={"IMAGE_REF": f"{registry.host}/org/app@{digest}", "SIGN_MODE": "pem",
                              "COSIGN_KEY": private, "INPUT_COSIGN_PASSWORD": "wrong",
                              "DOCKER_CONFIG": str(docker_config)}, path=[cosign_bin])
    assert run.code == 1 and run.outputs["failure-reason"] == "sign-failed"
    errors = [line for line in run.stdout.splitlines() if line.startswith("::error")]
    assert len(errors) == 1 and "decryption failed" in errors[0]


def test_pem_verify_against_another_public_key_fails(script, registry, docker_config, cosign_bin, bp, tmp_path):
    private, _ = bp.generate_key_pair(cosign_bin, "pw")
    (cosign_bin / "keys" / "cosign.key").rename(cosign_bin / "keys" / "first.key")
    _, other_public = bp.generate_key_pair(cosign_bin, "pw")
    digest = bp.push_image(registry, tmp_path)
    env = {"IMAGE_REF": f"{registry.host}/org/app@{digest}", "SIGN_MODE": "pem", "COSIGN_KEY": private,
           "COSIGN_PASSWORD": "pw", "DOCKER_CONFIG": str(docker_config)}
    assert script("sign", env=env, path=[cosign_bin]).code == 0
    run = script("verify", env={**env, "INPUT_COSIGN_PUBLIC_KEY": other_public}, path=[cosign_bin])
    assert run.code == 1 and run.outputs["failure-reason"] == "verify-failed"


def test_sign_without_cosign_on_path(script, tmp_path):
    run = script("sign", env={"IMAGE_REF": f"ghcr.io/org/app@{DIGEST}", "SIGN_MODE": "keyless",
                              "PATH": "/nonexistent"})
    assert run.code == 1 and run.outputs["failure-reason"] == "sign-failed"
    assert "cosign is not on PATH" in run.stdout


# ------------------------------------------------------------------ summary and reasons

def test_summary_for_a_pull_request_says_not_pushed_or_signed(script):
    run = script("summary", env={"PLAN_IMAGE": "ghcr.io/org/app", "PLAN_PUSH": "false", "PLAN_SIGN": "false",
                                 "GITHUB_EVENT_NAME": "pull_request", "TAGS": "ghcr.io/org/app:pr-7"})
    assert run.code == 0
    assert "Built but not pushed (`pull_request` event), so not signed or verified." in run.summary
    assert "| Pushed | no |" in run.summary and "`ghcr.io/org/app:pr-7`" in run.summary


def test_summary_shows_the_verify_command(script):
    command = f"cosign verify --key cosign.pub ghcr.io/org/app@{DIGEST}"
    run = script("summary", env={"PLAN_IMAGE": "ghcr.io/org/app", "PLAN_PUSH": "true", "PLAN_SIGN": "true",
                                 "BUILD_OUTCOME": "success", "DIGEST": DIGEST, "SIGNED": "true", "SIGN_MODE": "pem", "VERIFY_COMMAND": command,
                                 "PUBLIC_KEY": "-----BEGIN PUBLIC KEY-----\nx\n-----END PUBLIC KEY-----"})
    assert f"```sh\n{command}\n```" in run.summary
    assert "| Pushed | yes |" in run.summary and "| Signed | yes (pem) |" in run.summary and "-----BEGIN PUBLIC KEY-----" in run.summary


@pytest.mark.parametrize("reason", ["setup-failed", "login-failed", "metadata-failed", "build-failed",
                                    "cosign-install-failed"])
def test_reason_records_a_uses_step_failure(script, reason):
    run = script("reason", reason)
    assert run.code == 1 and run.outputs == {"failure-reason": reason}
    assert run.stdout.startswith(f"::error title={reason}::")


def test_unknown_subcommand_is_a_usage_error(script):
    run = script("bogus")
    assert run.code == 2 and "usage: build_push.py" in run.stderr


# ------------------------------------------------------------------ only what passed is signed; a signature is a signature

@pytest.mark.parametrize("scan_env,reason", [
    ({"PLAN_SCAN": "true", "SCAN_PASSED": "false"}, "vulnerabilities-found"),
    ({"PLAN_SCAN": "true"}, "scan-failed"),                             # the scan never ran to the end
    ({"PLAN_SCAN": "true", "SCAN_PASSED": "true", "SCAN_DIGEST": "sha256:" + "cd" * 32}, "scan-failed"),
    ({"PLAN_SCAN": ""}, "scan-failed"),                                 # no plan at all: fail closed
])
def test_sign_refuses_a_digest_whose_scan_did_not_pass(script, cosign_bin, bp, scan_env, reason):
    run = script("sign", env={"IMAGE_REF": f"ghcr.io/org/app@{DIGEST}", "SIGN_MODE": "keyless",
                              "COSIGN_STANDIN_LOG": str(cosign_bin / "cosign.log"), **scan_env}, path=[cosign_bin])
    assert run.code == 1 and run.outputs["failure-reason"] == reason
    assert "refusing to sign" in run.stdout
    assert bp.cosign_calls(cosign_bin) == []


def test_verify_does_not_take_an_attestation_for_a_signature(script, registry, docker_config, cosign_bin, oidc, bp,
                                                           tmp_path):
    """cosign v3's `verify` verifies every bundle of the digest, attestations included (verify.go,
    VerifyImageAttestations): an image attested but never signed passes it. The action asks for a
    signature statement among what verified."""
    digest = bp.push_image(registry, tmp_path)
    ref = f"{registry.host}/org/app@{digest}"
    env = {"IMAGE_REF": ref, "SIGN_MODE": "keyless", "DOCKER_CONFIG": str(docker_config), **oidc.env,
           "GITHUB_REPOSITORY": "org/svc"}
    predicate = tmp_path / "vuln.json"
    predicate.write_text('{"invocation": {}, "scanner": {"result": {}}, "metadata": {}}')
    proc = subprocess.run([str(cosign_bin / "cosign"), "attest", "--yes", "--type", "vuln", "--predicate",
                           str(predicate), ref], capture_output=True, text=True,
                          env={**os.environ, "DOCKER_CONFIG": str(docker_config), **oidc.env})
    assert proc.returncode == 0, proc.stderr
    run = script("verify", env=env, path=[cosign_bin])
    assert run.code == 1 and run.outputs["failure-reason"] == "verify-failed"
    assert "found attestations of" in run.stdout and "but no signature" in run.stdout
