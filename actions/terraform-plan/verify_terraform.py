"""Check the terraform that hashicorp/setup-terraform installed against HashiCorp's published checksum.

setup-terraform (v4.0.1, lib/setup-terraform.js) downloads the release zip with the tool cache
and extracts it without checking any checksum. This step closes that gap: it downloads the same
release zip, checks its SHA-256 against the checksum pinned here for the default version (or the
``terraform-sha256`` input, or, for another version without one, HashiCorp's ``SHA256SUMS`` file),
then requires the ``terraform`` on PATH to be byte for byte the binary in that zip, and to
report the pinned version.

Inputs (environment): INPUT_TERRAFORM_VERSION, INPUT_TERRAFORM_SHA256, INPUT_RELEASES_URL.
"""

from __future__ import annotations

import hashlib
import io
import platform
import re
import shutil
import sys
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import tfkit  # noqa: E402
from tfkit import actionkit  # noqa: E402

DEFAULT_VERSION = "1.15.5"
# SHA-256 of terraform_1.15.5_<os>_<arch>.zip as in terraform_1.15.5_SHA256SUMS.
CHECKSUMS = {
    ("1.15.5", "linux", "amd64"): "702b2136af6728c8ff037f843dd2dbce2b7ad88786b7381d1d72aefa250f601c",
    ("1.15.5", "linux", "arm64"): "06e7b48de826146c6d9331ba35b13da12332d8392be30d1dd6b789ba4713fff0",
    ("1.15.5", "darwin", "amd64"): "3687d07c034b3e7deed5b072cd8ae2b34835bcb139baec3fc4f5fd534dabf5ed",
    ("1.15.5", "darwin", "arm64"): "01137660510005b918bba82154866fbeac4393163d8277c2abe861dfb5842c3c",
}
_ARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}


def target() -> tuple[str, str]:
    system = sys.platform if sys.platform in ("linux", "darwin") else ""
    arch = _ARCH.get(platform.machine().lower(), "")
    if not system or not arch:
        raise actionkit.ActionFailure(
            "setup-failed", f"no checked Terraform build for {sys.platform}/{platform.machine()}"
        )
    return system, arch


def fetch(url: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=120) as response:
            return response.read()
    except (urllib.error.URLError, OSError) as error:
        raise actionkit.ActionFailure(
            "setup-failed", f"cannot download {url}: {getattr(error, 'reason', error)}"
        ) from None


def expected_checksum(base: str, version: str, name: str, system: str, arch: str) -> str:
    given = actionkit.env("INPUT_TERRAFORM_SHA256").lower()
    if given:
        if not re.fullmatch(r"[0-9a-f]{64}", given):
            raise actionkit.ActionFailure("invalid-input", "terraform-sha256 must be 64 hexadecimal digits")
        return given
    if (version, system, arch) in CHECKSUMS:
        return CHECKSUMS[(version, system, arch)]
    sums = fetch(f"{base}/terraform/{version}/terraform_{version}_SHA256SUMS").decode("utf-8", "replace")
    for line in sums.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1] == name:
            return parts[0].lower()
    raise actionkit.ActionFailure("checksum-mismatch", f"{name} is not listed in terraform_{version}_SHA256SUMS")


def run() -> None:
    version = actionkit.env("INPUT_TERRAFORM_VERSION") or DEFAULT_VERSION
    if not re.fullmatch(r"\d+\.\d+\.\d+(-[0-9A-Za-z.]+)?", version):
        raise actionkit.ActionFailure(
            "invalid-input", f'terraform-version "{version}" must be an exact version such as {DEFAULT_VERSION}'
        )
    base = (actionkit.env("INPUT_RELEASES_URL") or "https://releases.hashicorp.com").rstrip("/")
    system, arch = target()
    name = f"terraform_{version}_{system}_{arch}.zip"
    want = expected_checksum(base, version, name, system, arch)
    archive = fetch(f"{base}/terraform/{version}/{name}")
    got = hashlib.sha256(archive).hexdigest()
    if got != want:
        raise actionkit.ActionFailure("checksum-mismatch", f"{name} has SHA-256 {got}, expected {want}")
    try:
        official = zipfile.ZipFile(io.BytesIO(archive)).read("terraform")
    except (zipfile.BadZipFile, KeyError):
        raise actionkit.ActionFailure("checksum-mismatch", f"{name} holds no terraform executable") from None
    installed = shutil.which("terraform")
    if not installed:
        raise actionkit.ActionFailure("setup-failed", "terraform is not on PATH after setup")
    if hashlib.sha256(Path(installed).read_bytes()).hexdigest() != hashlib.sha256(official).hexdigest():
        raise actionkit.ActionFailure(
            "checksum-mismatch", f"the terraform on PATH is not the one in {name} (SHA-256 {want})"
        )
    actual = tfkit.terraform_version(Path.cwd())
    if actual != version:
        raise actionkit.ActionFailure("setup-failed", f"terraform on PATH reports {actual}, not {version}")
    actionkit.set_output("terraform-version", actual)
    print(f"terraform {actual} verified: {name} SHA-256 {want}")


if __name__ == "__main__":
    actionkit.main(run)
