"""``actions/build-push`` end to end through the local runner (tests/support/runner.py).

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

import hashlib
import json
import re
import subprocess
from pathlib import Path

import pytest

from support import registry as oci
from support.runner import StandInFailure, run_action

SHA = "6dcb09b5b57875f334f61aebed695e2e4193db5e"


# ------------------------------------------------------------------ stand-ins

def setup_buildx(call):
    return {"name": "builder-standin", "driver": "docker-container", "platforms": "linux/amd64,linux/arm64"}


def login_action(reg: oci.Registry, calls: list):
    def stand_in(call):
        calls.append(dict(call.inputs))
        config = Path(call.env["DOCKER_CONFIG"]) / "config.json"
        proc = subprocess.run(["skopeo", "login", "--tls-verify=false", "--authfile", str(config),
                               "-u", call.inputs["username"], "--password-stdin", call.inputs["registry"]],
                              input=call.inputs["password"], capture_output=True, text=True, timeout=60)
        if proc.returncode:
            raise StandInFailure(f"Error response from daemon: login to {call.inputs['registry']} failed: unauthorized")
        print(f"Login Succeeded to {call.inputs['registry']}")
    return stand_in


def _sanitize(tag: str) -> str:
    return re.sub(r"[^a-zA-Z0-9._-]+", "-", tag)


def metadata_action(call):
    """docker/metadata-action's tag rules, for the rule types build-push passes."""
    image = call.inputs["images"].strip()
    event, ref, sha = call.env["GITHUB_EVENT_NAME"], call.env["GITHUB_REF"], call.env["GITHUB_SHA"]
    event_data = json.loads(Path(call.env["GITHUB_EVENT_PATH"]).read_text())
    flavor = dict(line.split("=", 1) for line in call.inputs.get("flavor", "").splitlines() if "=" in line)
    semver = re.match(r"^refs/tags/v?(\d+)\.(\d+)\.(\d+)(-[0-9A-Za-z.-]+)?$", ref)
    tags: list[str] = []
    semver_hit = False
    for line in call.inputs["tags"].splitlines():
        attrs = dict(part.split("=", 1) for part in line.split(",") if "=" in part)
        enable = attrs.get("enable", "true").replace("{{is_default_branch}}", str(ref == "refs/heads/main").lower())
        if enable != "true":
            continue
        kind = attrs["type"]
        if kind == "ref" and attrs.get("event") == "branch" and ref.startswith("refs/heads/"):
            tags.append(_sanitize(ref.removeprefix("refs/heads/")))
        elif kind == "ref" and attrs.get("event") == "pr" and event.startswith("pull_request"):
            tags.append(f"pr-{event_data['number']}")
        elif kind == "semver" and semver:
            major, minor, patch, pre = semver.groups()
            version = f"{major}.{minor}.{patch}{pre or ''}"
            pattern = attrs["pattern"]
            if pre and pattern != "{{version}}":
                tags.append(version)  # pre-releases only extend {{version}}
            else:
                tags.append(pattern.replace("{{version}}", version).replace("{{major}}", major)
                            .replace("{{minor}}", minor).replace("{{patch}}", patch))
            semver_hit = semver_hit or not pre
        elif kind == "sha":
            tags.append(f"sha-{sha[:7]}")
        elif kind == "raw":
            tags.append(attrs["value"])
    if semver_hit and flavor.get("latest", "auto") == "auto":
        tags.append("latest")
    tags = list(dict.fromkeys(flavor.get("prefix", "") + t + flavor.get("suffix", "") for t in tags))
    labels = {"org.opencontainers.image.source": "https://github.com/org/svc",
              "org.opencontainers.image.revision": sha, "org.opencontainers.image.version": tags[0] if tags else ""}
    full = [f"{image}:{t}" for t in tags]
    return {"tags": "\n".join(full), "labels": "\n".join(f"{k}={v}" for k, v in labels.items()),
            "version": tags[0] if tags else "", "json": json.dumps({"tags": full, "labels": labels})}


def build_push_action(calls: list, bad_digest: str = ""):
    def stand_in(call):
        calls.append(dict(call.inputs))
        context = call.workspace / call.inputs["context"]
        dockerfile = Path(call.inputs["file"]) if call.inputs["file"] else context / "Dockerfile"
        if not (call.workspace / dockerfile).is_file():
            raise StandInFailure("ERROR: failed to build: failed to solve: failed to read dockerfile: "
                                 "open Dockerfile: no such file or directory")
        arches = [p.split("/")[1] for p in call.inputs["platforms"].split(",") if p] or ["amd64"]
        layout = call.temp / "buildx-layout"
        oci.build_multiarch_layout(layout, "built", arches=tuple(arches))
        ref = "builder-standin/builder-standin0/q1w2e3"
        if call.inputs["push"] != "true":
            return {"imageid": "", "digest": "", "metadata": json.dumps({"buildx.build.ref": ref})}
        tags = [t for t in call.inputs["tags"].splitlines() if t]
        authfile = Path(call.env["DOCKER_CONFIG"]) / "config.json"
        auth = ["--authfile", str(authfile)] if authfile.exists() else []
        for tag in tags:
            proc = subprocess.run(["skopeo", "copy", "--all", "--quiet", "--preserve-digests",
                                   "--dest-tls-verify=false", *auth, f"oci:{layout}:built", f"docker://{tag}"],
                                  capture_output=True, text=True, timeout=120)
            if proc.returncode:
                raise StandInFailure(f"ERROR: failed to push {tag}: {proc.stderr.strip()[-200:]}")
        raw = subprocess.run(["skopeo", "inspect", "--raw", "--tls-verify=false", *auth, f"docker://{tags[0]}"],
                             capture_output=True, check=True, timeout=60).stdout
        digest = bad_digest or "sha256:" + hashlib.sha256(raw).hexdigest()
        return {"imageid": "sha256:" + "0" * 64, "digest": digest,
                "metadata": json.dumps({"buildx.build.ref": ref, "containerimage.digest": digest,
                                        "image.name": ",".join(tags)})}
    return stand_in


def cosign_installer(calls: list, fail: bool = False):
    def stand_in(call):
        calls.append(dict(call.inputs))
        if fail:
            raise StandInFailure(f"ERROR: Unable to validate cosign version: '{call.inputs['cosign-release']}'")
    return stand_in


def failing(message: str):
    def stand_in(call):
        raise StandInFailure(message)
    return stand_in


# ------------------------------------------------------------------ harness

class World:
    """One action run's surroundings: registry, workspace with a Dockerfile, stand-ins and their calls."""

    def __init__(self, tmp_path: Path, reg: oci.Registry, cosign_bin: Path, oidc) -> None:
        self.tmp, self.reg, self.cosign_bin, self.oidc = tmp_path, reg, cosign_bin, oidc
        self.workspace = tmp_path / "ws"
        self.workspace.mkdir()
        (self.workspace / "Dockerfile").write_text("FROM scratch\nCOPY hello.txt /\n")
        self.docker_config = tmp_path / "docker-config"
        self.docker_config.mkdir()
        self.logins: list = []
        self.builds: list = []
        self.installs: list = []
        self.image = f"{reg.host}/org/app"
        self.stand_ins = {
            "docker/setup-buildx-action": setup_buildx,
            "docker/login-action": login_action(reg, self.logins),
            "docker/metadata-action": metadata_action,
            "docker/build-push-action": build_push_action(self.builds),
            "sigstore/cosign-installer": cosign_installer(self.installs),
        }

    def run(self, inputs: dict | None = None, github: dict | None = None, id_token: bool = True,
            extra_env: dict | None = None, **stand_ins):
        env = {"DOCKER_CONFIG": str(self.docker_config), "COSIGN_STANDIN_LOG": str(self.cosign_bin / "cosign.log"),
               **(extra_env or {})}
        if id_token:
            env.update(self.oidc.env)
        given = {"image": self.image, "username": oci.USER, "password": oci.PASSWORD, **(inputs or {})}
        return run_action(oci_action(), inputs=given, workspace=self.workspace, env=env, path=[self.cosign_bin],
                          github={"sha": SHA, **(github or {})}, stand_ins={**self.stand_ins, **stand_ins},
                          timeout=240)

    def cosign_calls(self) -> list[list[str]]:
        log = self.cosign_bin / "cosign.log"
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []

    def registry_digest(self, tag: str) -> str:
        return self.reg.raw_manifest_digest("org/app", tag)

    def tag_exists(self, tag: str) -> bool:
        proc = subprocess.run(["skopeo", "inspect", "--raw", "--tls-verify=false", "--creds",
                               f"{oci.USER}:{oci.PASSWORD}", f"docker://{self.reg.host}/org/app:{tag}"],
                              capture_output=True, timeout=60)
        return proc.returncode == 0


def oci_action() -> Path:
    return Path(__file__).resolve().parents[3] / "actions" / "build-push"


@pytest.fixture
def world(tmp_path, registry, cosign_bin, oidc) -> World:
    return World(tmp_path, registry, cosign_bin, oidc)


def assert_failed(result, reason: str) -> None:
    assert result.failed
    assert result.outputs["failure-reason"] == reason, (result.outputs, result.errors, result.stdout)
    assert f"**Failed** (`{reason}`)" in result.summary
    assert result.step("summary").outcome == "success"  # the table is written whatever failed
    assert "Traceback" not in result.stderr


# ------------------------------------------------------------------ happy paths

def test_push_keyless_sign_and_verify(world, bp):
    result = world.run()
    assert not result.failed, (result.errors, result.stdout)
    digest = world.registry_digest("main")
    assert digest == world.registry_digest(f"sha-{SHA[:7]}")
    ref = f"{world.image}@{digest}"
    identity = f"https://github.com/{bp.WORKFLOW_REF}"
    assert result.outputs == {
        "digest": digest, "image-ref": ref, "tags": f"{world.image}:main\n{world.image}:sha-{SHA[:7]}",
        "pushed": "true", "signed": "true", "failure-reason": "",
        "verify-command": f"cosign verify --certificate-identity {identity} "
                          f"--certificate-oidc-issuer {bp.ISSUER} {ref}"}
    # signed and verified BY DIGEST, keyless
    assert world.cosign_calls() == [
        ["sign", "--yes", ref],
        ["verify", "--certificate-identity", identity, "--certificate-oidc-issuer", bp.ISSUER, ref]]
    assert world.tag_exists(digest.replace(":", "-") + ".sig")
    assert world.installs == [{"cosign-release": "v3.1.2"}]
    assert world.logins == [{"registry": world.reg.host, "username": oci.USER, "password": oci.PASSWORD}]
    build = world.builds[0]
    assert build["push"] == "true" and build["provenance"] == "true" and build["sbom"] == "false"
    assert build["cache-from"] == ""  # a pushing build never reads the cache others can write
    assert build["cache-to"] == "type=gha,mode=max,scope=build-push-org-app"
    assert f"```sh\n{result.outputs['verify-command']}\n```" in result.summary
    assert f"| Digest | `{digest}` |" in result.summary and "| Signed | yes (keyless) |" in result.summary
    assert "| Pushed | yes |" in result.summary
    assert oci.PASSWORD not in result.stdout + result.summary


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
    assert calls[-1][0] == "verify" and calls[-1][-1] == ref
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
    assert world.cosign_calls() == [["sign", "--yes", "--key", key, ref], ["verify", "--key", key, ref]]
    assert result.outputs["verify-command"] == f"cosign verify --key {key} {ref}"


def test_pull_request_builds_without_push_or_signature(world):
    result = world.run(github={"event_name": "pull_request", "ref": "refs/pull/7/merge",
                               "event": {"number": 7, "pull_request": {"head": {"ref": "feature/x"},
                                                                       "base": {"ref": "main"}}}},
                       id_token=False)
    assert not result.failed, (result.errors, result.stdout)
    assert result.outputs == {"digest": "", "image-ref": "", "tags": f"{world.image}:pr-7\n{world.image}:sha-{SHA[:7]}",
                              "pushed": "false", "signed": "false", "verify-command": "", "failure-reason": ""}
    assert world.builds[0]["push"] == "false"
    assert not world.tag_exists("pr-7")
    assert world.cosign_calls() == [] and world.installs == []
    for step in ("digest", "cosign", "sign", "verify"):
        assert result.step(step).outcome == "skipped"
    assert "Built but not pushed (`pull_request` event), so not signed or verified." in result.summary


# ------------------------------------------------------------------ every failure reason

def test_invalid_input(world):
    result = world.run({"image": f"{world.image}:latest"})
    assert_failed(result, "invalid-input")
    assert world.builds == [] and world.logins == []


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
