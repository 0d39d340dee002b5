"""A real OCI registry on 127.0.0.1: Debian's ``docker-registry`` (distribution 2.x) with htpasswd auth,
filesystem storage in a temporary directory, and images pushed by ``skopeo`` from OCI layouts built here."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import shutil
import socket
import subprocess
import tarfile
import time
import warnings
from pathlib import Path

USER, PASSWORD = "ci", "registry-pass-123"


def available() -> bool:
    return bool(shutil.which("docker-registry") and shutil.which("skopeo"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _bcrypt(password: str) -> str:
    """An htpasswd bcrypt hash at the lowest cost (16 rounds): the registry verifies it on every request, and
    the default cost (4096 rounds) made each request take about a second and a push about twenty."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt

        return crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16)).replace("$2b$", "$2a$", 1)


class Registry:
    """``anonymous``: no auth at all, anyone pulls and pushes (a public mirror such as mirror.gcr.io
    for the readers; the tests push to it as its operator would)."""

    def __init__(self, work: Path, users: dict[str, str] | None = None, anonymous: bool = False) -> None:
        self.work = Path(work)
        self.users = {USER: PASSWORD, **(users or {})}  # htpasswd entries: user -> password
        self.anonymous = anonymous
        self.port = _free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> Registry:
        (self.work / "storage").mkdir(parents=True, exist_ok=True)
        (self.work / "htpasswd").write_text("".join(f"{u}:{_bcrypt(p)}\n" for u, p in self.users.items()))
        config = self.work / "config.yml"
        auth = ("" if self.anonymous else
                f"auth:\n  htpasswd:\n    realm: test-registry\n    path: {self.work / 'htpasswd'}\n")
        config.write_text(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n"
            f"    rootdirectory: {self.work / 'storage'}\n  delete:\n    enabled: true\n"
            f"http:\n  addr: 127.0.0.1:{self.port}\n{auth}")
        self.proc = subprocess.Popen(["docker-registry", "serve", str(config)], stdout=subprocess.DEVNULL,
                                     stderr=open(self.work / "registry.log", "wb"))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError((self.work / "registry.log").read_text()) from None
                time.sleep(0.05)
        raise RuntimeError("docker-registry did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None

    def push_layout(self, layout: Path, name: str, tag: str) -> None:
        subprocess.run(["skopeo", "copy", "--all", "--quiet", "--dest-tls-verify=false",
                        "--dest-creds", f"{USER}:{PASSWORD}", f"oci:{layout}:{tag}",
                        f"docker://{self.host}/{name}:{tag}"], check=True, capture_output=True)

    def raw_manifest_digest(self, name: str, tag: str) -> str:
        """The oracle: skopeo's raw manifest bytes for the tag, hashed."""
        raw = subprocess.run(["skopeo", "inspect", "--raw", "--tls-verify=false", "--creds", f"{USER}:{PASSWORD}",
                              f"docker://{self.host}/{name}:{tag}"], check=True, capture_output=True).stdout
        return "sha256:" + hashlib.sha256(raw).hexdigest()


def _blob(layout: Path, data: bytes) -> dict:
    digest = hashlib.sha256(data).hexdigest()
    (layout / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
    (layout / "blobs" / "sha256" / digest).write_bytes(data)
    return {"digest": f"sha256:{digest}", "size": len(data)}


def build_multiarch_layout(layout: Path, tag: str, arches=("amd64", "arm64")) -> None:
    """An OCI image layout holding an index of one tiny image per architecture."""
    layout.mkdir(parents=True, exist_ok=True)
    (layout / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    manifests = []
    for arch in arches:
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            data = f"hello from {arch}\n".encode()
            info = tarfile.TarInfo("hello.txt")
            info.size, info.mtime = len(data), 0
            tar.addfile(info, io.BytesIO(data))
        diff_id = "sha256:" + hashlib.sha256(buf.getvalue()).hexdigest()
        layer = _blob(layout, gzip.compress(buf.getvalue(), mtime=0))
        config = _blob(layout, json.dumps({"architecture": arch, "os": "linux",
                                           "rootfs": {"type": "layers", "diff_ids": [diff_id]},
                                           "config": {}}).encode())
        manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **config},
                    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", **layer}]}
        desc = _blob(layout, json.dumps(manifest).encode())
        manifests.append({"mediaType": "application/vnd.oci.image.manifest.v1+json", **desc,
                          "platform": {"architecture": arch, "os": "linux"}})
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": manifests}
    index_desc = _blob(layout, json.dumps(index).encode())
    (layout / "index.json").write_text(json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{"mediaType": "application/vnd.oci.image.index.v1+json", **index_desc,
                       "annotations": {"org.opencontainers.image.ref.name": tag}}]}))
