"""Fixtures for the build-push action: a real OCI registry, the cosign stand-in on PATH, a loopback
OIDC token endpoint playing the runner's ``ACTIONS_ID_TOKEN_REQUEST_URL``, and helpers that run
``build_push.py`` the way its steps do."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path
from types import SimpleNamespace

import pytest

from support import actionscript, ocidist
from support import registry as oci
from support.act_standins import OIDCProvider
from support.actionscript import ScriptRun
from support.github_api import GitHubDouble
from support.runner import parse_file_command

sys.path.insert(0, str(Path(__file__).resolve().parent))  # `import buildpush_standins` in this folder's tests

REPO = Path(__file__).resolve().parents[3]
ACTION = REPO / "actions" / "build-push"
SCRIPT = ACTION / "build_push.py"
STANDIN = Path(__file__).resolve().parent / "cosign_standin.py"
ISSUER = "https://token.actions.githubusercontent.com"
WORKFLOW_REF = "org/svc/.github/workflows/release.yml@refs/heads/main"
SVC_SHA = "6dcb09b5b57875f334f61aebed695e2e4193db5e"


def github_claims(repository: str = "org/svc", ref: str = "refs/heads/main", sha: str = SVC_SHA,
                  event: str = "push", job_workflow_ref: str = WORKFLOW_REF) -> dict:
    """The claims of a GitHub Actions OIDC token, every one Fulcio requires (fulcio v1.8.8,
    pkg/identity/github/principal.go). In a reusable workflow ``job_workflow_ref`` names the called
    workflow while ``repository``, ``ref``, ``sha`` and ``workflow_ref`` are the caller's."""
    owner = repository.split("/")[0]
    return {"iss": ISSUER, "sub": f"repo:{repository}:ref:{ref}", "repository": repository,
            "repository_owner": owner, "repository_id": "4242", "repository_owner_id": "42",
            "repository_visibility": "private", "ref": ref, "sha": sha, "event_name": event,
            "workflow": "CI", "workflow_ref": f"{repository}/.github/workflows/ci.yml@{ref}", "workflow_sha": sha,
            "job_workflow_ref": job_workflow_ref, "job_workflow_sha": "c0ffee" * 6 + "c0ff",
            "runner_environment": "github-hosted", "run_id": "1234", "run_attempt": "1"}


def _cheap_bcrypt(password: str) -> str:
    """bcrypt at cost 4: the registry checks the password on every request, and at the default cost 12
    pushing one image takes many seconds. Still a real htpasswd bcrypt entry."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt

        return crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16)).replace("$2b$", "$2a$", 1)


@pytest.fixture
def registry(tmp_path_factory, monkeypatch):
    """A real ``docker-registry`` on 127.0.0.1 with htpasswd auth (user ``ci``)."""
    if not oci.available():
        pytest.fail("docker-registry and skopeo are required (apt-get install docker-registry skopeo; .ci/run does)")
    monkeypatch.setattr(oci, "_bcrypt", _cheap_bcrypt)
    reg = oci.Registry(tmp_path_factory.mktemp("registry")).start()
    yield reg
    reg.stop()


@pytest.fixture
def release_host():
    """The GitHub double on 127.0.0.1 (tests/support/github_api.py), serving the Trivy release asset."""
    double = GitHubDouble()
    double.start()
    yield double
    double.stop()


@pytest.fixture
def docker_config(tmp_path, registry) -> Path:
    """``DOCKER_CONFIG`` holding a login to the registry, as docker/login-action leaves it."""
    directory = tmp_path / "docker-config"
    directory.mkdir()
    login(registry, directory, oci.USER, oci.PASSWORD)
    return directory


def login(reg: oci.Registry, directory: Path, user: str, password: str) -> subprocess.CompletedProcess:
    """A real ``skopeo login`` against the registry, writing ``config.json`` like ``docker login``."""
    return subprocess.run(["skopeo", "login", "--tls-verify=false", "--authfile", str(directory / "config.json"),
                           "-u", user, "--password-stdin", reg.host], input=password, capture_output=True, text=True,
                          timeout=60)


def push_image(reg: oci.Registry, work: Path, name: str = "org/app", tag: str = "v1") -> str:
    layout = work / f"layout-{tag}"
    oci.build_multiarch_layout(layout, tag)
    reg.push_layout(layout, name, tag)
    return reg.raw_manifest_digest(name, tag)


@pytest.fixture
def cosign_bin(tmp_path) -> Path:
    """A directory with the cosign stand-in as ``cosign``; its argv log is ``cosign.log`` beside it."""
    bin_dir = tmp_path / "cosign-bin"
    bin_dir.mkdir()
    exe = bin_dir / "cosign"
    exe.write_text(f"#!/bin/sh\nexec {sys.executable} {STANDIN} \"$@\"\n")
    exe.chmod(0o755)
    return bin_dir


def cosign_calls(bin_dir: Path) -> list[list[str]]:
    log = bin_dir / "cosign.log"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def generate_key_pair(bin_dir: Path, password: str) -> tuple[str, str]:
    """``(private PEM, public PEM)`` made by ``cosign generate-key-pair``, as a user makes them."""
    work = bin_dir / "keys"
    work.mkdir(exist_ok=True)
    subprocess.run([str(bin_dir / "cosign"), "generate-key-pair"], cwd=work, check=True, capture_output=True,
                   env={**os.environ, "COSIGN_PASSWORD": password})
    return (work / "cosign.key").read_text(), (work / "cosign.pub").read_text()


@pytest.fixture
def oidc():
    """The runner's ID token endpoint (:class:`support.act_standins.OIDCProvider`) with a GitHub job's claims."""
    provider = OIDCProvider(claims=github_claims(), token="runtime-request-token-123")
    yield provider
    provider.stop()


def run_script(tmp_path: Path, *args: str, env: dict[str, str] | None = None, path: list[Path] | None = None,
               script: Path = SCRIPT) -> ScriptRun:
    """``python3 build_push.py ARGS`` with real GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files."""
    files = tmp_path / "files"
    base = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "ACTIONS_", "INPUT_", "COSIGN_"))}
    base["PATH"] = os.pathsep.join([*(str(p) for p in path or []), base.get("PATH", "")])
    # PLAN_SCAN=false: these runs sign without a scan step unless a test says otherwise (the action's
    # plan always sets it; without it, sign refuses)
    full = {**base, "RUNNER_TEMP": str(files), "INPUT_COSIGN_VERSION": "v3.1.2", "PLAN_SCAN": "false", **(env or {})}
    return actionscript.run_script([sys.executable, str(script), *args], full, cwd=tmp_path, files=files)


@pytest.fixture
def script(tmp_path):
    def run(*args: str, env: dict[str, str] | None = None, path: list[Path] | None = None,
            at: Path = SCRIPT) -> ScriptRun:
        return run_script(tmp_path, *args, env=env, path=path, script=at)
    return run


def referrers(reg: oci.Registry, repo: str, digest: str) -> list[dict]:
    """What the registry holds about ``digest``: each referrer manifest of the fallback tag
    ``sha256-<hex>`` (docker-registry 2.8 has no referrers API) with its bundle's in-toto statement."""
    client = ocidist.Client(reg.host, credentials=(oci.USER, oci.PASSWORD))
    assert client.referrers_api(repo, digest).status == 404  # no referrers API: the tag schema is used
    index = client.get_manifest(repo, ocidist.fallback_tag(digest), (ocidist.OCI_INDEX,))
    out = []
    for desc in json.loads(index.body)["manifests"] if index else []:
        manifest = json.loads(client.get_manifest(repo, desc["digest"]).body)
        bundle = json.loads(client.get_blob(repo, manifest["layers"][0]["digest"]))
        statement = json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))
        out.append({"descriptor": desc, "manifest": manifest, "bundle": bundle, "statement": statement})
    return out


def verify_command_for(cosign_bin: Path, script, reg: oci.Registry, docker_config: Path, oidc, work: Path,
                       ref: str) -> str:
    """The verify command the action prints for ``ref`` in the job the OIDC fixture stands for: the
    job signs another image of its own and prints the command, in which only the digest differs."""
    layout = work / "layout-own"
    oci.build_multiarch_layout(layout, "own", arches=("amd64",))  # another image: another digest
    reg.push_layout(layout, "org/app", "own")
    own = f"{reg.host}/org/app@{reg.raw_manifest_digest('org/app', 'own')}"
    assert own != ref
    env = {"IMAGE_REF": own, "SIGN_MODE": "keyless", "DOCKER_CONFIG": str(docker_config), **oidc.env}
    assert script("sign", env=env, path=[cosign_bin]).code == 0
    run = script("verify", env=env, path=[cosign_bin])
    assert run.code == 0, run.stdout
    return run.outputs["verify-command"].replace(own, ref)


def tags(reg: oci.Registry, repo: str) -> list[str]:
    return ocidist.Client(reg.host, credentials=(oci.USER, oci.PASSWORD)).tags(repo)


@pytest.fixture
def bp():
    """This folder's helpers and constants (test modules cannot import a conftest under importlib mode)."""
    return SimpleNamespace(ACTION=ACTION, ISSUER=ISSUER, WORKFLOW_REF=WORKFLOW_REF, SVC_SHA=SVC_SHA,
                           cosign_calls=cosign_calls, generate_key_pair=generate_key_pair, login=login,
                           push_image=push_image, parse_outputs=parse_file_command, github_claims=github_claims,
                           referrers=referrers, tags=tags,
                           verify_command_for=verify_command_for)
