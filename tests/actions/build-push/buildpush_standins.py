"""The build-push action's surroundings for the end-to-end tests: stand-ins for the ``uses:`` steps
that cannot run here and a World holding the registry, the workspace and what each stand-in saw.

Imported by the tests of this folder (conftest puts the folder on ``sys.path``). What is real and
what stands in is described in test_build_push_action.py's docstring.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

from support import ocidist
from support import registry as oci
from support.runner import StandInFailure, run_action

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
TRIVY_STANDIN = HERE / "trivy_standin.py"

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


def build_layout(layout: Path, tag: str, arches: tuple[str, ...], files: dict[str, str]) -> None:
    """An OCI image layout: an index of one image per architecture, each one layer of ``files`` (or
    ``hello.txt``), as BuildKit's OCI exporter lays it out."""
    if not files:
        oci.build_multiarch_layout(layout, tag, arches=arches)
        return
    layout.mkdir(parents=True, exist_ok=True)
    (layout / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    manifests = []
    for arch in arches:
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            for name, text in sorted(files.items()):
                data = text.encode()
                info = tarfile.TarInfo(name)
                info.size, info.mtime = len(data), 0
                tar.addfile(info, io.BytesIO(data))
        diff_id = "sha256:" + hashlib.sha256(buf.getvalue()).hexdigest()
        layer = oci._blob(layout, gzip.compress(buf.getvalue(), mtime=0))
        config = oci._blob(layout, json.dumps({"architecture": arch, "os": "linux",
                                               "rootfs": {"type": "layers", "diff_ids": [diff_id]},
                                               "config": {}}).encode())
        manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **config},
                    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", **layer}]}
        desc = oci._blob(layout, json.dumps(manifest).encode())
        manifests.append({"mediaType": "application/vnd.oci.image.manifest.v1+json", **desc,
                          "platform": {"architecture": arch, "os": "linux"}})
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": manifests}
    desc = oci._blob(layout, json.dumps(index).encode())
    (layout / "index.json").write_text(json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{"mediaType": "application/vnd.oci.image.index.v1+json", **desc,
                       "annotations": {"org.opencontainers.image.ref.name": tag}}]}))


def provenance_metadata(platforms: list[str]) -> dict[str, str]:
    """What buildx writes for provenance into its metadata file (docker/buildx v0.36.1 build/provenance.go):
    the SLSA v0.2 predicate in min mode (no buildConfig, no metadata), base64, under
    ``buildx.build.provenance``, or ``buildx.build.provenance/<platform>`` for several platforms."""
    def predicate(platform: str) -> str:
        pred = {"builder": {"id": ""}, "buildType": "https://mobyproject.org/buildkit@v1",
                "materials": [{"uri": "pkg:docker/alpine@3.19", "digest": {"sha256": "ab" * 32}}],
                "invocation": {"configSource": {"entryPoint": "Dockerfile"},
                               "parameters": {"frontend": "dockerfile.v0"},
                               "environment": {"platform": platform}}}
        return base64.b64encode(json.dumps(pred).encode()).decode()
    if len(platforms) == 1:
        return {"buildx.build.provenance": predicate(platforms[0])}
    return {f"buildx.build.provenance/{p}": predicate(p) for p in platforms}


def build_push_action(calls: list, bad_digest: str = "", files: dict[str, str] | None = None):
    def stand_in(call):
        calls.append(dict(call.inputs))
        context = call.workspace / call.inputs["context"]
        dockerfile = Path(call.inputs["file"]) if call.inputs["file"] else context / "Dockerfile"
        if not (call.workspace / dockerfile).is_file():
            raise StandInFailure("ERROR: failed to build: failed to solve: failed to read dockerfile: "
                                 "open Dockerfile: no such file or directory")
        platforms = [p for p in call.inputs["platforms"].split(",") if p] or ["linux/amd64"]
        arches = tuple(p.split("/")[1] for p in platforms)
        layout = call.temp / f"buildx-layout-{len(calls)}"
        build_layout(layout, "built", arches, dict(files or {}))
        ref = "builder-standin/builder-standin0/q1w2e3"
        index_digest = json.loads((layout / "index.json").read_text())["manifests"][0]["digest"]
        meta = {"buildx.build.ref": ref}
        if call.inputs.get("provenance") == "true":
            meta.update(provenance_metadata(platforms))
        if call.inputs["push"] != "true":
            output = call.inputs.get("outputs", "")
            if output.startswith("type=oci,dest="):  # the OCI exporter: the layout as a tar archive
                dest = Path(output.split("dest=", 1)[1])
                with tarfile.open(dest, "w") as tar:
                    for item in sorted(layout.rglob("*")):
                        if item.is_file():
                            tar.add(item, arcname=str(item.relative_to(layout)))
                digest = bad_digest or index_digest
                return {"imageid": "", "digest": digest,
                        "metadata": json.dumps({**meta, "containerimage.digest": digest})}
            return {"imageid": "", "digest": "", "metadata": json.dumps(meta)}
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
                "metadata": json.dumps({**meta, "containerimage.digest": digest, "image.name": ",".join(tags)})}
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

def alpine_files(packages: dict[str, str], release: str = "3.19.1") -> dict[str, str]:
    """The files Trivy's apk analyzer reads: an Alpine release and the apk database."""
    installed = "".join(f"P:{name}\nV:{version}\nA:x86_64\n\n" for name, version in packages.items())
    return {"etc/alpine-release": release + "\n", "lib/apk/db/installed": installed}


# The vulnerability table of the scan tests (the stand-in's trivy.db).
ADVISORIES = {
    "openssl": [{"id": "CVE-2024-0001", "vulnerable": ["3.1.0-r0"], "fixed": "3.1.4-r0", "severity": "CRITICAL",
                 "title": "openssl: a critical flaw"}],
    "zlib": [{"id": "CVE-2024-0002", "vulnerable": ["1.2.13-r0"], "fixed": "", "severity": "HIGH",
              "title": "zlib: a high flaw without a fix"}],
    "busybox": [{"id": "CVE-2024-0003", "vulnerable": ["1.36.1-r0"], "fixed": "1.36.1-r5", "severity": "MEDIUM",
                 "title": "busybox: a medium flaw"}],
}
CLEAN = {"musl": "1.2.4-r2", "busybox": "1.36.1-r5"}
VULNERABLE = {"musl": "1.2.4-r2", "openssl": "3.1.0-r0", "zlib": "1.2.13-r0", "busybox": "1.36.1-r0"}


def trivy_wrapper(directory: Path, body: str | None = None, log: Path | None = None,
                  hosts: dict[str, str] | None = None) -> Path:
    """An executable ``trivy`` that runs the stand-in (or ``body``, a shell script, for the failure tests).
    The action runs Trivy with a reduced environment, so the log's path (and the stand-in's name
    resolution, ``hosts``: registry host -> loopback address) is written into the wrapper."""
    directory.mkdir(parents=True, exist_ok=True)
    exe = directory / "trivy"
    record = f"TRIVY_STANDIN_LOG='{log}' " if log else ""
    if hosts:
        record += "TRIVY_STANDIN_HOSTS='" + ",".join(f"{k}={v}" for k, v in hosts.items()) + "' "
    exe.write_text(body if body is not None else f'#!/bin/sh\n{record}exec {sys.executable} {TRIVY_STANDIN} "$@"\n')
    exe.chmod(0o755)
    return exe


def trivy_tarball(work: Path, body: str | None = None, log: Path | None = None,
                  hosts: dict[str, str] | None = None) -> bytes:
    """A release tarball like trivy_0.70.0_Linux-64bit.tar.gz: the ``trivy`` binary at its top."""
    exe = trivy_wrapper(work / "tarball", body, log, hosts)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        tar.add(exe, arcname="trivy")
        for extra in ("LICENSE", "README.md"):
            data = b"stand-in\n"
            info = tarfile.TarInfo(extra)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def action_copy(root: Path, github, tarball: bytes, sha256: str | None = None) -> Path:
    """This repository's build-push action and its _lib, copied, with ``trivy.json`` pointing at the
    GitHub double's release asset: the pinned download and its SHA-256 check run for real, against a
    tarball holding the stand-in. The production table is left alone (the copy's is the only change)."""
    actions = root / "ci" / "actions"
    shutil.copytree(REPO / "actions" / "build-push", actions / "build-push")
    shutil.copytree(REPO / "actions" / "_lib", actions / "_lib")
    table = json.loads((actions / "build-push" / "trivy.json").read_text())
    name = table["assets"]["X64"]["name"]
    github.assets[f"aquasecurity/trivy/v{table['version']}/{name}"] = tarball
    table["url"] = github.url + "/aquasecurity/trivy/releases/download/v{version}/{name}"
    table["loopback-mirror"] = True  # the GitHub double serves plain http on 127.0.0.1: said explicitly
    table["assets"]["X64"]["sha256"] = sha256 or hashlib.sha256(tarball).hexdigest()
    (actions / "build-push" / "trivy.json").write_text(json.dumps(table))
    return actions / "build-push"


def push_trivy_db(reg: oci.Registry, advisories: dict | None = None, raw_db: bytes | None = None,
                  repo: str = "aquasecurity/trivy-db") -> str:
    """Push the stand-in DB as Trivy's DB artifact (pkg/db/db.go: one layer of
    application/vnd.aquasec.trivy.db.layer.v1.tar+gzip) to the real registry; its reference."""
    from trivy_standin import DB_MEDIA, db_layer

    client = ocidist.Client(reg.host, credentials=(oci.USER, oci.PASSWORD))
    config = client.put_blob(repo, b"{}")
    layer = client.put_blob(repo, db_layer(advisories if advisories is not None else ADVISORIES, raw_db))
    manifest = {"schemaVersion": 2, "mediaType": ocidist.OCI_MANIFEST,
                "config": {"mediaType": "application/vnd.aquasec.trivy.config.v1+json", **config},
                "layers": [{"mediaType": DB_MEDIA, **layer, "annotations": {
                    "org.opencontainers.image.title": "db.tar.gz"}}]}
    client.put_manifest(repo, "2", json.dumps(manifest).encode(), ocidist.OCI_MANIFEST)
    return f"{reg.host}/{repo}:2"


class World:
    """One action run's surroundings: registry, workspace with a Dockerfile, stand-ins and their calls,
    the Trivy release (the GitHub double) and its database (in the registry)."""

    def __init__(self, tmp_path: Path, reg: oci.Registry, cosign_bin: Path, oidc, github=None) -> None:
        self.tmp, self.reg, self.cosign_bin, self.oidc = tmp_path, reg, cosign_bin, oidc
        self.workspace = tmp_path / "ws"
        self.workspace.mkdir()
        (self.workspace / "Dockerfile").write_text("FROM scratch\nCOPY hello.txt /\n")
        self.docker_config = tmp_path / "docker-config"
        self.docker_config.mkdir()
        self.logins: list = []
        self.builds: list = []
        self.installs: list = []
        self.uploads: list = []
        self.image = f"{reg.host}/org/app"
        self.image_files: dict[str, str] = alpine_files(CLEAN)
        self.github = github
        self.db = push_trivy_db(reg)
        self.trivy_log = tmp_path / "trivy.log"
        self.action = (action_copy(tmp_path / "action", github, trivy_tarball(tmp_path, log=self.trivy_log))
                       if github else oci_action())
        self.stand_ins = {
            "docker/setup-buildx-action": setup_buildx,
            "docker/login-action": login_action(reg, self.logins),
            "docker/metadata-action": metadata_action,
            "docker/build-push-action": build_push_action(self.builds, files=self.image_files),
            "sigstore/cosign-installer": cosign_installer(self.installs),
            "github/codeql-action/upload-sarif": upload_sarif(self.uploads),
        }

    def run(self, inputs: dict | None = None, github: dict | None = None, id_token: bool = True,
            extra_env: dict | None = None, **stand_ins):
        env = {"DOCKER_CONFIG": str(self.docker_config), "COSIGN_STANDIN_LOG": str(self.cosign_bin / "cosign.log"),
               **(extra_env or {})}
        if id_token:
            env.update(self.oidc.env)
        given = {"image": self.image, "username": oci.USER, "password": oci.PASSWORD,
                 "trivy-db-repository": self.db, **(inputs or {})}
        context = {"sha": SHA, **(github or {})}
        # every event payload GitHub sends names the repository and its default branch (schedule excepted)
        context.setdefault("event", {})
        context["event"] = {"repository": {"full_name": "org/svc", "default_branch": "main"}, **context["event"]}
        self.stand_ins["docker/build-push-action"] = stand_ins.pop(
            "docker/build-push-action", build_push_action(self.builds, files=self.image_files))
        return run_action(self.action, inputs=given, workspace=self.workspace, env=env, path=[self.cosign_bin],
                          github=context, stand_ins={**self.stand_ins, **stand_ins}, timeout=240)

    def cosign_calls(self) -> list[list[str]]:
        log = self.cosign_bin / "cosign.log"
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []

    def trivy_calls(self) -> list[dict]:
        return [json.loads(line) for line in self.trivy_log.read_text().splitlines()] if self.trivy_log.exists() else []

    def registry_digest(self, tag: str) -> str:
        return self.reg.raw_manifest_digest("org/app", tag)

    def tag_exists(self, tag: str) -> bool:
        proc = subprocess.run(["skopeo", "inspect", "--raw", "--tls-verify=false", "--creds",
                               f"{oci.USER}:{oci.PASSWORD}", f"docker://{self.reg.host}/org/app:{tag}"],
                              capture_output=True, timeout=60)
        return proc.returncode == 0


def upload_sarif(calls: list):
    """github/codeql-action/upload-sarif: records what it was given and checks the SARIF is one run."""
    def stand_in(call):
        doc = json.loads(Path(call.inputs["sarif_file"]).read_text())
        if doc.get("version") != "2.1.0" or len(doc.get("runs") or []) != 1:
            raise StandInFailure("Error: Invalid SARIF: expected one run of version 2.1.0")
        calls.append({**call.inputs, "sarif": doc})
        return {"sarif-id": "standin-sarif-id"}
    return stand_in


def oci_action() -> Path:
    return Path(__file__).resolve().parents[3] / "actions" / "build-push"


