"""A small client of the OCI distribution API, for the stand-ins and the tests that read a registry.

The cosign and Trivy stand-ins talk to the real registry (``docker-registry`` on 127.0.0.1) the way
go-containerregistry does (pkg/v1/remote at v0.21.7, the version cosign v3.1.2 and Trivy v0.70.0
build with): plain HTTP for loopback hosts, HTTPS otherwise; the credentials of
``$DOCKER_CONFIG/config.json`` (``auths[host].auth``, as ``docker login`` and ``skopeo login``
write them) answered to a ``Basic`` challenge, or exchanged for a token on a ``Bearer`` one.
Standard library only: the stand-ins run as plain scripts.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
MANIFEST_TYPES = (OCI_INDEX, OCI_MANIFEST, DOCKER_LIST, DOCKER_MANIFEST)
_LOOPBACK = re.compile(r"^(?:localhost|127(?:\.\d{1,3}){3}|\[::1\])(?::\d+)?$")


class RegistryError(Exception):
    """An answer the caller did not expect; ``status`` is the HTTP status (0: no answer)."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def split_reference(ref: str) -> tuple[str, str, str]:
    """``(host, repository, tag or digest)`` of ``host/repo[:tag|@digest]`` (the host is required)."""
    name, at, digest = ref.partition("@")
    if at:
        ident = digest
    else:
        last = name.rsplit("/", 1)[-1]
        if ":" in last:
            name, ident = name.rsplit(":", 1)
        else:
            ident = "latest"
    host, _, repo = name.partition("/")
    if not repo or not ("." in host or ":" in host or host == "localhost"):
        raise RegistryError(f"reference {ref!r} names no registry host")
    return host, repo, ident


def _credentials(host: str) -> tuple[str, str] | None:
    config = Path(os.environ.get("DOCKER_CONFIG") or Path.home() / ".docker") / "config.json"
    try:
        auths = json.loads(config.read_text(encoding="utf-8")).get("auths") or {}
    except (OSError, ValueError):
        return None
    for key in (host, f"https://{host}", f"http://{host}"):
        entry = auths.get(key) or {}
        if entry.get("auth"):
            user, _, password = base64.b64decode(entry["auth"]).decode().partition(":")
            return user, password
    return None


class Client:
    """One registry host; every call names the repository."""

    def __init__(self, host: str, timeout: float = 60, credentials: tuple[str, str] | None = None) -> None:
        self.host = host
        self.credentials = credentials
        self.scheme = "http" if _LOOPBACK.match(host) else "https"
        self.timeout = timeout
        self._auth: str | None = None

    # ------------------------------------------------------------ transport

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None,
                url: str | None = None) -> Response:
        target = url or f"{self.scheme}://{self.host}{path}"
        for attempt in range(2):
            req = urllib.request.Request(target, data=body, method=method, headers=dict(headers or {}))
            if self._auth:
                req.add_header("Authorization", self._auth)
            try:
                with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # noqa: S310 (registry URL)
                    return Response(resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read())
            except urllib.error.HTTPError as err:
                answer = Response(err.code, {k.lower(): v for k, v in err.headers.items()}, err.read())
            except (urllib.error.URLError, OSError) as err:
                raise RegistryError(f"{method} {target}: {getattr(err, 'reason', err)}") from None
            if answer.status == 401 and attempt == 0 and self._authenticate(answer.headers.get("www-authenticate", "")):
                continue
            return answer
        return answer

    def _authenticate(self, challenge: str) -> bool:
        creds = self.credentials or _credentials(self.host)
        scheme, _, params = challenge.partition(" ")
        if scheme.lower() == "basic":
            if not creds:
                return False
            self._auth = "Basic " + base64.b64encode(f"{creds[0]}:{creds[1]}".encode()).decode()
            return True
        if scheme.lower() == "bearer":
            fields = dict(re.findall(r'(\w+)="([^"]*)"', params))
            query = urllib.parse.urlencode({k: v for k, v in fields.items() if k in ("service", "scope")})
            headers = {}
            if creds:
                headers["Authorization"] = "Basic " + base64.b64encode(f"{creds[0]}:{creds[1]}".encode()).decode()
            answer = self.request("GET", "", headers=headers, url=f"{fields.get('realm', '')}?{query}")
            if answer.status != 200:
                return False
            token = json.loads(answer.body).get("token") or json.loads(answer.body).get("access_token")
            self._auth = f"Bearer {token}"
            return bool(token)
        return False

    def _check(self, answer: Response, what: str, *ok: int) -> Response:
        if answer.status not in ok:
            detail = answer.body.decode(errors="replace").strip()[:300]
            raise RegistryError(f"{what}: unexpected status code {answer.status}: {detail}", answer.status)
        return answer

    # ------------------------------------------------------------ manifests and blobs

    def get_manifest(self, repo: str, ref: str, accept: tuple[str, ...] = MANIFEST_TYPES) -> Response | None:
        """The manifest (body, ``content-type``) or None when the registry does not know it."""
        answer = self.request("GET", f"/v2/{repo}/manifests/{ref}", headers={"Accept": ", ".join(accept)})
        if answer.status == 404:
            return None
        return self._check(answer, f"GET {repo}:{ref}", 200)

    def head_manifest(self, repo: str, ref: str) -> dict | None:
        """The descriptor (mediaType, digest, size) of a manifest, as remote.Head gives it."""
        answer = self.request("HEAD", f"/v2/{repo}/manifests/{ref}", headers={"Accept": ", ".join(MANIFEST_TYPES)})
        if answer.status == 404:
            return None
        self._check(answer, f"HEAD {repo}:{ref}", 200)
        return {"mediaType": answer.headers.get("content-type", ""),
                "digest": answer.headers.get("docker-content-digest", ""),
                "size": int(answer.headers.get("content-length") or 0)}

    def put_manifest(self, repo: str, ref: str, body: bytes, media_type: str) -> Response:
        answer = self.request("PUT", f"/v2/{repo}/manifests/{ref}", body=body, headers={"Content-Type": media_type})
        return self._check(answer, f"PUT {repo}:{ref}", 200, 201, 202)

    def get_blob(self, repo: str, digest: str) -> bytes:
        answer = self._check(self.request("GET", f"/v2/{repo}/blobs/{digest}"), f"GET blob {digest}", 200)
        if sha256(answer.body) != digest:
            raise RegistryError(f"blob {digest} does not match its digest")
        return answer.body

    def put_blob(self, repo: str, data: bytes) -> dict:
        """Upload ``data`` (monolithically, unless the registry already has it); its descriptor."""
        digest = sha256(data)
        if self.request("HEAD", f"/v2/{repo}/blobs/{digest}").status == 200:
            return {"digest": digest, "size": len(data)}
        start = self._check(self.request("POST", f"/v2/{repo}/blobs/uploads/"), "start upload", 202)
        location = start.headers.get("location", "")
        if location.startswith("/"):
            location = f"{self.scheme}://{self.host}{location}"
        sep = "&" if "?" in location else "?"
        answer = self.request("PUT", "", body=data, url=f"{location}{sep}digest={urllib.parse.quote(digest)}",
                              headers={"Content-Type": "application/octet-stream"})
        self._check(answer, f"upload blob {digest}", 201)
        return {"digest": digest, "size": len(data)}

    def referrers_api(self, repo: str, digest: str) -> Response:
        """``GET /v2/<repo>/referrers/<digest>``: 200 where the registry has the referrers API (OCI 1.1)."""
        return self.request("GET", f"/v2/{repo}/referrers/{digest}", headers={"Accept": OCI_INDEX})

    def tags(self, repo: str) -> list[str]:
        answer = self.request("GET", f"/v2/{repo}/tags/list")
        if answer.status == 404:
            return []
        return list(json.loads(self._check(answer, f"tags of {repo}", 200).body).get("tags") or [])


def fallback_tag(digest: str) -> str:
    """The referrers tag schema's tag for a subject: ``sha256-<hex>`` (go-containerregistry referrers.go)."""
    return digest.replace(":", "-", 1)
