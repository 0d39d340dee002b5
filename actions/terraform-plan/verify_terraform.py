"""Check the terraform that hashicorp/setup-terraform installed against HashiCorp's published checksum.

setup-terraform (v4.0.1, lib/setup-terraform.js) downloads the release zip with the tool cache
and extracts it without checking any checksum. This step closes that gap: it downloads the same
release zip, checks its SHA-256 against the checksum pinned here for the default version (or the
``terraform-sha256`` input, or, for another version without one, HashiCorp's ``SHA256SUMS`` file),
then requires the ``terraform`` on PATH to be byte for byte the binary in that zip, and to
report the pinned version.

Where the expected SHA-256 comes from, in order: ``terraform-sha256``; the table below, for the
default version; else HashiCorp's ``terraform_<v>_SHA256SUMS``, trusted only when its detached
signature (``terraform_<v>_SHA256SUMS.72D7468F.sig``, else ``..._SHA256SUMS.sig``) verifies with
gpg against HashiCorp's public key pinned beside this script (``hashicorp-security.asc``, as in
hashicorp/hc-install internal/pubkey/pubkey.go; primary key fingerprint
C874 011F 0AB4 0511 0D02 1055 3436 5D94 72D7 468F, published at hashicorp.com/security). Only
``https://`` release URLs are accepted.

Inputs (environment): INPUT_TERRAFORM_VERSION, INPUT_TERRAFORM_SHA256, INPUT_RELEASES_URL.
Arguments, for tests only (action.yml passes none): ``--signing-key FILE --signing-fingerprint FPR``
replace the pinned key, so that a test key can sign a loopback server's SHA256SUMS.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "_lib"))
import actionkit  # noqa: E402
import download  # noqa: E402
import inputs  # noqa: E402
import tfkit  # noqa: E402

DEFAULT_VERSION = "1.15.5"
# SHA-256 of terraform_1.15.5_<os>_<arch>.zip as in terraform_1.15.5_SHA256SUMS.
CHECKSUMS = {
    ("1.15.5", "linux", "amd64"): "702b2136af6728c8ff037f843dd2dbce2b7ad88786b7381d1d72aefa250f601c",
    ("1.15.5", "linux", "arm64"): "06e7b48de826146c6d9331ba35b13da12332d8392be30d1dd6b789ba4713fff0",
    ("1.15.5", "darwin", "amd64"): "3687d07c034b3e7deed5b072cd8ae2b34835bcb139baec3fc4f5fd534dabf5ed",
    ("1.15.5", "darwin", "arm64"): "01137660510005b918bba82154866fbeac4393163d8277c2abe861dfb5842c3c",
}
HASHICORP_KEY = Path(__file__).resolve().parent / "hashicorp-security.asc"
HASHICORP_FINGERPRINT = "C874011F0AB405110D02105534365D9472D7468F"
DEFAULT_RELEASES_URL = "https://releases.hashicorp.com"
MAX_ZIP_BYTES = 256 * 1024 * 1024  # the 1.15 zips are about 30 MB
MAX_BINARY_BYTES = 512 * 1024 * 1024
MAX_SUMS_BYTES = 1024 * 1024


def target() -> tuple[str, str]:
    system, arch = tfkit.platform().split("_")
    return system, arch


def fetch(url: str, max_bytes: int = MAX_SUMS_BYTES) -> bytes:
    return download.fetch(url, reason="setup-failed", max_bytes=max_bytes)


def verify_signature(name: str, data: bytes, signature: bytes, key: tuple[Path, str]) -> None:
    """Check ``signature`` over ``data`` with gpg against the key file, whose primary key must have
    the given fingerprint; a bad, unknown or expired signature fails with ``checksum-mismatch``."""
    key_file, fingerprint = key
    if not shutil.which("gpg"):
        raise actionkit.ActionFailure(
            "setup-failed", f"gpg is needed to check the signature of {name}; install gnupg or pass terraform-sha256"
        )
    with tempfile.TemporaryDirectory(prefix="verify-terraform-") as home:
        os.chmod(home, 0o700)
        gpg = ["gpg", "--homedir", home, "--batch", "--no-tty", "--no-auto-key-retrieve"]
        imported = subprocess.run([*gpg, "--import", str(key_file)], capture_output=True, text=True)
        (Path(home) / "sums").write_bytes(data)
        (Path(home) / "sums.sig").write_bytes(signature)
        checked = subprocess.run(
            [*gpg, "--status-fd", "1", "--verify", str(Path(home) / "sums.sig"), str(Path(home) / "sums")],
            capture_output=True,
            text=True,
        )
        subprocess.run(["gpgconf", "--homedir", home, "--kill", "all"], capture_output=True)
    status = [line.split() for line in checked.stdout.splitlines() if line.startswith("[GNUPG:] ")]
    good = any(fields[1] == "GOODSIG" for fields in status)
    signers = [fields[-1].upper() for fields in status if fields[1] == "VALIDSIG"]
    if imported.returncode != 0 or checked.returncode != 0 or not good or signers != [fingerprint.upper()]:
        by = f" (signed by {', '.join(signers)})" if signers else ""
        raise actionkit.ActionFailure(
            "checksum-mismatch",
            f"the signature of {name} does not verify with the pinned key {fingerprint}{by}",
        )
    print(f"{name} signed by {fingerprint}")


def expected_checksum(
    base: str,
    version: str,
    name: str,
    system: str,
    arch: str,
    key: tuple[Path, str] = (HASHICORP_KEY, HASHICORP_FINGERPRINT),
) -> tuple[str, str]:
    """Where the zip's SHA-256 comes from, and the SHA-256: ``terraform-sha256``, the pinned table,
    or HashiCorp's signed SHA256SUMS."""
    given = inputs.sha256("terraform-sha256")
    if given:
        return "terraform-sha256", given
    if (version, system, arch) in CHECKSUMS:
        return "the checksum pinned in verify_terraform.py", CHECKSUMS[(version, system, arch)]
    sums_name = f"terraform_{version}_SHA256SUMS"
    sums_bytes = fetch(f"{base}/terraform/{version}/{sums_name}")
    signature = None
    for suffix in (f".{key[1][-8:]}.sig", ".sig"):
        try:
            signature = fetch(f"{base}/terraform/{version}/{sums_name}{suffix}")
            break
        except download.HTTPFailure as failure:
            if failure.status != 404:
                raise
            continue
    if signature is None:
        raise actionkit.ActionFailure("checksum-mismatch", f"{sums_name} has no signature ({sums_name}.sig)")
    verify_signature(sums_name, sums_bytes, signature, key)
    sums = sums_bytes.decode("utf-8", "replace")
    for line in sums.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1] == name:
            return sums_name, parts[0].lower()
    raise actionkit.ActionFailure("checksum-mismatch", f"{name} is not listed in terraform_{version}_SHA256SUMS")


def _test_key(argv: list[str]) -> tuple[Path, str]:
    """``--signing-key FILE --signing-fingerprint FPR`` (tests only), else HashiCorp's pinned key."""
    if not argv:
        return HASHICORP_KEY, HASHICORP_FINGERPRINT
    if len(argv) != 4 or argv[0] != "--signing-key" or argv[2] != "--signing-fingerprint":
        raise actionkit.ActionFailure(
            "invalid-input", "usage: verify_terraform.py [--signing-key FILE --signing-fingerprint FPR]"
        )
    return Path(argv[1]), argv[3]


def run(argv: list[str] | None = None) -> None:
    key = _test_key(sys.argv[1:] if argv is None else argv)
    version = inputs.matching("terraform-version", r"[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.]+)?",
                              f"an exact version such as {DEFAULT_VERSION}", DEFAULT_VERSION)
    base = inputs.url("terraform-releases-url", DEFAULT_RELEASES_URL, var="INPUT_RELEASES_URL")
    system, arch = target()
    name = f"terraform_{version}_{system}_{arch}.zip"
    source, want = expected_checksum(base, version, name, system, arch, key)
    archive = download.fetch(f"{base}/terraform/{version}/{name}", reason="setup-failed", max_bytes=MAX_ZIP_BYTES,
                             name=name, expected=[(source, want)], mismatch="checksum-mismatch")
    try:
        with zipfile.ZipFile(io.BytesIO(archive)) as unpacked:
            if unpacked.getinfo("terraform").file_size > MAX_BINARY_BYTES:
                raise actionkit.ActionFailure("checksum-mismatch", f"{name} holds a terraform larger than"
                                              f" {MAX_BINARY_BYTES} bytes")
            official = unpacked.read("terraform")
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
