"""Image digests through the OCI distribution API (``--images``).

``HEAD /v2/<name>/manifests/<tag>`` with an ``Accept`` list naming the OCI image index, the Docker
manifest list and both single-manifest types, so a multi-arch image yields the digest of its
*index* (the one reference valid on every platform), read from ``Docker-Content-Digest`` (or the
SHA-256 of the body when a registry omits it). Authentication follows the registry's
``WWW-Authenticate`` challenge: ``Bearer realm=...,service=...,scope=...`` (a token fetched from the
realm, with credentials when given) or ``Basic`` (htpasswd). Credentials come from
``REGISTRY_USERNAME`` and ``REGISTRY_PASSWORD`` and are never printed. Registries on ``localhost``
and ``127.0.0.0/8`` are spoken to over plain HTTP, as Docker does; all others over HTTPS.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
import time
from dataclasses import dataclass

from ci_tools.core.redact import redact, register
from ci_tools.gha.resolve.base import NotFound, ResolveError

ACCEPT = ", ".join([
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
])
DOCKER_HUB = "registry-1.docker.io"


@dataclass(frozen=True)
class ImageRef:
    registry: str  # host[:port] as written (docker.io for Docker Hub)
    repository: str
    tag: str | None
    digest: str | None

    @property
    def host(self) -> str:
        return DOCKER_HUB if self.registry in ("docker.io", "index.docker.io") else self.registry

    @property
    def reference(self) -> str:
        return self.digest or self.tag or "latest"


def parse_image(image: str) -> ImageRef:
    """Docker's reference grammar: ``[registry/]path[:tag][@digest]``."""
    text = image.strip()
    if text.startswith("docker://"):
        text = text[len("docker://"):]
    digest = None
    if "@" in text:
        text, digest = text.split("@", 1)
    first, _, rest = text.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        registry, path = first, rest
    else:
        registry, path = "docker.io", text
    tag = None
    last = path.rsplit("/", 1)[-1]
    if ":" in last:
        path, tag = path.rsplit(":", 1)
    if registry == "docker.io" and "/" not in path:
        path = "library/" + path
    if not path or not re.fullmatch(r"[a-z0-9]+(?:[._/-]+[a-z0-9]+)*", path):
        raise ValueError(f'"{image}" is not a valid image reference')
    return ImageRef(registry, path, tag, digest)


class RegistryClient:
    def __init__(self, username: str | None = None, password: str | None = None, timeout: float = 20.0,
                 attempts: int = 4) -> None:
        self.username = username if username is not None else os.environ.get("REGISTRY_USERNAME")
        self.password = password if password is not None else os.environ.get("REGISTRY_PASSWORD")
        register(self.password)
        self.timeout = timeout
        self.attempts = attempts
        self.requests = 0
        self._lock = threading.Lock()
        self._tokens: dict[tuple[str, str], str] = {}
        self.backoff = float(os.environ.get("CI_TOOLS_HTTP_BACKOFF", "1.0"))

    def _scheme(self, host: str) -> str:
        name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
        return "http" if name in ("localhost", "[::1]") or name.startswith("127.") else "https"

    def _send(self, method: str, url: str, headers: dict, auth=None):
        """One request with bounded retries: ``attempts`` and the time budget of the loop
        (:mod:`ci_tools.gha.resolve.net`); a refused connection or an unknown host fails at once."""
        import requests

        from ci_tools.gha.resolve.net import Deadline, advice, unreachable

        problem = ""
        deadline = Deadline()
        attempt = 0
        for attempt in range(1, self.attempts + 1):
            with self._lock:
                self.requests += 1
            try:
                resp = requests.request(method, url, headers=headers, auth=auth,
                                        timeout=max(0.1, min(self.timeout, deadline.remaining())), allow_redirects=True)
            except requests.Timeout:
                problem = "timed out"
            except requests.RequestException as exc:
                why = unreachable(exc)
                if why is not None:
                    raise ResolveError(redact(f"cannot connect to the registry for {url} ({why}): check the image's "
                                              "registry name and that the registry is reachable from here")) from None
                problem = type(exc).__name__
            else:
                if resp.status_code < 500 and resp.status_code != 429:
                    return resp
                problem = f"HTTP {resp.status_code}"
            if attempt >= self.attempts:
                break
            wait = self.backoff * (2 ** (attempt - 1))
            if not deadline.allows(wait):
                problem += f", and another attempt would overrun {deadline.text()}"
                break
            time.sleep(wait)
        raise ResolveError(redact(f"registry request {url} failed after {attempt} attempt{'s' * (attempt != 1)}: "
                                  f"{problem}; {advice(problem, 'the image reference')}"))

    def digest(self, image: str) -> str:
        """The digest of ``image``'s tag (the index digest for a multi-arch image)."""
        ref = parse_image(image)
        if ref.digest:
            return ref.digest
        base = f"{self._scheme(ref.host)}://{ref.host}"
        url = f"{base}/v2/{ref.repository}/manifests/{ref.reference}"
        headers = {"Accept": ACCEPT, "User-Agent": "ci-tools"}
        key = (ref.host, ref.repository)
        auth = None
        if key in self._tokens:
            headers["Authorization"] = self._tokens[key]
        resp = self._send("HEAD", url, headers)
        if resp.status_code == 401:
            challenge = resp.headers.get("WWW-Authenticate", "")
            scheme, params = _parse_challenge(challenge)
            if scheme == "bearer":
                headers["Authorization"] = self._tokens[key] = "Bearer " + self._token(params, ref)
            elif scheme == "basic" and self.username:
                auth = (self.username, self.password or "")
            else:
                raise NotFound(f'registry {ref.registry} wants credentials for "{ref.repository}"; set '
                               "REGISTRY_USERNAME and REGISTRY_PASSWORD")
            resp = self._send("HEAD", url, headers, auth)
        if resp.status_code in (401, 403):
            raise NotFound(f'registry {ref.registry} refused access to "{ref.repository}" (HTTP {resp.status_code})')
        if resp.status_code == 404:
            raise NotFound(f'image "{image}" was not found on {ref.registry}')
        if resp.status_code >= 400:
            raise ResolveError(f"registry {ref.registry} answered HTTP {resp.status_code} for {image}")
        digest = resp.headers.get("Docker-Content-Digest")
        if not digest:
            body = self._send("GET", url, headers, auth)
            digest = "sha256:" + hashlib.sha256(body.content).hexdigest()
        if not re.fullmatch(r"sha256:[0-9a-f]{64}", digest):
            raise ResolveError(f"registry {ref.registry} answered an invalid digest for {image}")
        return digest

    def _token(self, params: dict[str, str], ref: ImageRef) -> str:
        realm = params.get("realm")
        if not realm:
            raise ResolveError(f"registry {ref.registry} sent a Bearer challenge without a realm")
        query = {"scope": params.get("scope") or f"repository:{ref.repository}:pull"}
        if params.get("service"):
            query["service"] = params["service"]
        import requests

        auth = (self.username, self.password or "") if self.username else None
        with self._lock:
            self.requests += 1
        try:
            resp = requests.get(realm, params=query, auth=auth, timeout=self.timeout)
        except requests.RequestException as exc:
            raise ResolveError(redact(f"token request to {realm} failed: {type(exc).__name__}")) from None
        if resp.status_code in (401, 403):
            raise NotFound(f"registry {ref.registry} refused a token for \"{ref.repository}\"; check "
                           "REGISTRY_USERNAME and REGISTRY_PASSWORD")
        try:
            data = resp.json()
            token = data.get("token") or data["access_token"]
        except (ValueError, KeyError, AttributeError):
            token = None
        if not isinstance(token, str) or not token:  # a number, list or null is no token either
            raise ResolveError(f"token service {realm} answered HTTP {resp.status_code} without a token")
        register(token)
        return token


def _parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    scheme, _, rest = header.strip().partition(" ")
    params = {k.lower(): v for k, v in re.findall(r'(\w+)="([^"]*)"', rest)}
    return scheme.lower(), params
