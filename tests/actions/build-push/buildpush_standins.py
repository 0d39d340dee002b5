"""The build-push action's surroundings for the end-to-end tests: stand-ins for the ``uses:`` steps
that cannot run here and a World holding the registry, the workspace and what each stand-in saw.

Imported by the tests of this folder (conftest puts the folder on ``sys.path``). What is real and
what stands in is described in test_build_push_action.py's docstring.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from pathlib import Path

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
        context = {"sha": SHA, **(github or {})}
        # every event payload GitHub sends names the repository and its default branch (schedule excepted)
        context.setdefault("event", {})
        context["event"] = {"repository": {"full_name": "org/svc", "default_branch": "main"}, **context["event"]}
        return run_action(oci_action(), inputs=given, workspace=self.workspace, env=env, path=[self.cosign_bin],
                          github=context, stand_ins={**self.stand_ins, **stand_ins}, timeout=240)

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


