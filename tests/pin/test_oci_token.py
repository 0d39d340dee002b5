"""The Bearer token flow of the OCI client, against a stand-in registry on 127.0.0.1.

Debian's docker-registry does token auth only with a separate JWT-issuing service, which this
machine does not have; this stand-in follows the distribution spec's token flow as Docker Hub and
GHCR do (401 with ``WWW-Authenticate: Bearer realm=...,service=...,scope=...``, a token from the
realm, the manifest with ``Authorization: Bearer``). Basic auth is tested against the real
registry in test_images.py.
"""

from __future__ import annotations

import base64
import json

import pytest

from ci_tools.gha.resolve.base import NotFound, ResolveError
from ci_tools.gha.resolve.oci import RegistryClient, parse_image
from support.httpd import Handler, LoopbackServer

DIGEST = "sha256:" + "ab" * 32
TOKEN = "registry-token-value-1234"


@pytest.fixture
def token_answer() -> dict:
    """The JSON the stand-in's token service answers with good credentials (a test may change it)."""
    return {"body": {"token": TOKEN}}


@pytest.fixture
def standin(token_answer):
    class Registry(Handler):
        def _seen(self) -> None:
            self.record((self.path, self.headers.get("Authorization"), self.headers.get("Accept")))

        def do_GET(self):  # noqa: N802
            self._seen()
            if self.path.startswith("/token"):
                good = "Basic " + base64.b64encode(b"me:secret-pass").decode()
                if self.headers.get("Authorization") != good or "scope=repository%3Ateam%2Ftool%3Apull" not in self.path:
                    return self.send(401)
                return self.send(200, json.dumps(token_answer["body"]).encode(), {"Content-Type": "application/json"})
            return self.send(404)

        def do_HEAD(self):  # noqa: N802
            self._seen()
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                realm = f"{self.owner.url}/token"
                return self.send(401, headers={"WWW-Authenticate":
                                               f'Bearer realm="{realm}",service="standin",scope="repository:team/tool:pull"'})
            if self.path == "/v2/team/tool/manifests/1.0":
                return self.send(200, headers={"Docker-Content-Digest": DIGEST,
                                               "Content-Type": "application/vnd.oci.image.index.v1+json"})
            return self.send(404)

    with LoopbackServer(Registry) as server:
        yield server.host, server.log


def test_bearer_flow_yields_the_index_digest(standin):
    host, seen = standin
    client = RegistryClient("me", "secret-pass")
    assert client.digest(f"{host}/team/tool:1.0") == DIGEST
    assert [p for p, _, _ in seen] == ["/v2/team/tool/manifests/1.0", seen[1][0], "/v2/team/tool/manifests/1.0"]
    assert "application/vnd.oci.image.index.v1+json" in seen[0][2]
    assert "application/vnd.docker.distribution.manifest.list.v2+json" in seen[0][2]
    # the token is reused for the next image of the same repository: one request
    client.digest(f"{host}/team/tool:1.0")
    assert len(seen) == 4


def test_bearer_with_wrong_credentials_is_a_clear_refusal(standin):
    host, _ = standin
    with pytest.raises(NotFound, match="refused a token"):
        RegistryClient("me", "wrong").digest(f"{host}/team/tool:1.0")


# what a broken or hostile token service may answer instead of {"token": "<string>"}
@pytest.mark.parametrize("body", [
    {"token": 12345},
    {"token": ["registry-token-value-1234"]},
    {"token": {"value": "registry-token-value-1234"}},
    {"token": True},
    {"access_token": None},
    {"token": None, "access_token": 7},
    {"token": ""},
    ["registry-token-value-1234"],
    "registry-token-value-1234",
])
def test_a_token_answer_without_a_string_token_is_a_clear_error(standin, token_answer, body):
    token_answer["body"] = body
    host, _ = standin
    with pytest.raises(ResolveError, match=r"token service http://127\.0\.0\.1:\d+/token answered HTTP 200 without a token"):
        RegistryClient("me", "secret-pass").digest(f"{host}/team/tool:1.0")


@pytest.mark.parametrize("image,expected", [
    ("alpine", ("docker.io", "library/alpine", None)),
    ("alpine:3.20", ("docker.io", "library/alpine", "3.20")),
    ("ghcr.io/org/app:1.2", ("ghcr.io", "org/app", "1.2")),
    ("localhost:5000/a/b", ("localhost:5000", "a/b", None)),
    ("docker://postgres:16", ("docker.io", "library/postgres", "16")),
])
def test_parse_image(image, expected):
    ref = parse_image(image)
    assert (ref.registry, ref.repository, ref.tag) == expected
