"""verify-signature: the image's digest is verified with cosign before the rollout is touched.

cosign is played by cosign_standin.py (written from cosign v3.1.2; see its docstring) on a PATH that
holds only the stand-ins; kubectl and the plugin are kubectl_standin.py.
"""

from __future__ import annotations

import json
import sys

import pytest
from canary_world import NEW_IMAGE, OLD_IMAGE, STALE, healthy
from test_canary_script import run_script

HERE = __import__("pathlib").Path(__file__).resolve().parent
ISSUER = "https://token.actions.githubusercontent.com"
SIGNER = "https://github.com/org/ci/.github/workflows/container.yml@refs/tags/v0.2.0"
DIGEST = NEW_IMAGE.split("@")[1]
KEY = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEsigmfortests00000000000000000000\n-----END PUBLIC KEY-----"
OTHER_KEY = KEY.replace("sigmfortests", "someoneelses")


@pytest.fixture
def cosign(world, tmp_path):
    """cosign on the world's PATH; returns a function that stores signatures and returns the argv log."""
    state = tmp_path / "cosign.json"
    state.write_text(json.dumps({"signatures": {}, "calls": []}))
    (world.bin / "cosign").write_text(f'#!/bin/sh\nexec "{sys.executable}" "{HERE / "cosign_standin.py"}" "$@"\n')
    (world.bin / "cosign").chmod(0o755)
    world.env_extra = {"COSIGN_STANDIN_STATE": str(state)}

    class Cosign:
        def sign(self, digest: str = DIGEST, **signature) -> None:
            data = json.loads(state.read_text())
            data["signatures"].setdefault(digest, []).append(signature)
            state.write_text(json.dumps(data))

        @property
        def calls(self) -> list[list[str]]:
            return json.loads(state.read_text())["calls"]

    return Cosign()


def keyless(**extra: str) -> dict:
    return {"subject": SIGNER, "issuer": ISSUER, "repository": "org/shop", "ref": "refs/heads/main", **extra}


def run(world, tmp_path, **inputs):
    world.install_plugin()
    world.script(set_image=[STALE, healthy()])
    base = {"verify-signature": "true", "certificate-github-workflow-repository": "org/shop"}
    return run_script(world, tmp_path, extra_env=world.env_extra, **{**base, **inputs})


def test_a_signature_of_the_signing_workflow_for_this_repository_is_verified_then_deployed(world, cosign, tmp_path):
    cosign.sign(**keyless())
    proc, outputs, summary = run(world, tmp_path, **{"certificate-identity-regexp":
                                                     r"https://github\.com/org/ci/\.github/workflows/container\.yml@.+"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert cosign.calls == [["verify", "--certificate-identity-regexp",
                             r"^(?:https://github\.com/org/ci/\.github/workflows/container\.yml@.+)$",
                             "--certificate-oidc-issuer", ISSUER, "--certificate-github-workflow-repository",
                             "org/shop", NEW_IMAGE]]
    assert world.commands() == ["set image"] and outputs["phase"] == "Healthy"
    assert f"Signature of `{DIGEST}` verified by cosign" in summary


def test_a_signature_made_for_another_repository_stops_the_deployment(world, cosign, tmp_path):
    """Every caller of the reusable container workflow gets the same certificate identity: the repository
    extension is what tells this service's image from someone else's."""
    cosign.sign(**keyless(repository="someone/else"))
    proc, outputs, _ = run(world, tmp_path, **{"certificate-identity": SIGNER})
    assert proc.returncode == 1 and outputs == {"failure-reason": "signature-invalid"}
    assert proc.stdout.splitlines()[-1] == (
        f"::error title=signature-invalid::cosign verify {NEW_IMAGE} failed: no matching attestations: none of the "
        f"expected identities matched what was in the certificate, got subjects [{SIGNER}] with issuer {ISSUER}")
    assert world.calls() == [] and world.calls("kubectl") == [] and world.image() == OLD_IMAGE


def test_an_identity_regexp_is_anchored(world, cosign, tmp_path):
    """cosign searches the regexp anywhere in the subject (Go MatchString): a workflow of another owner whose
    URL merely contains the expected one would pass. The action anchors it."""
    cosign.sign(**keyless(subject="https://github.com/evil/x/.github/workflows/a.yml@refs/heads/github.com/org/ci/"
                                  ".github/workflows/container.yml@refs/tags/v1"))
    proc, outputs, _ = run(world, tmp_path, **{"certificate-identity-regexp":
                                               r"github\.com/org/ci/\.github/workflows/container\.yml@.+"})
    assert proc.returncode == 1 and outputs == {"failure-reason": "signature-invalid"}
    assert world.calls() == []


def test_an_unsigned_image_is_not_deployed(world, cosign, tmp_path):
    cosign.sign(digest="sha256:" + "3" * 64, **keyless())
    proc, outputs, _ = run(world, tmp_path, **{"certificate-identity": SIGNER})
    assert outputs == {"failure-reason": "signature-invalid"}
    assert proc.stdout.splitlines()[-1].endswith("failed: no signatures found")
    assert world.calls() == []


def test_a_key_signature(world, cosign, tmp_path):
    cosign.sign(key=KEY)
    proc, _, _ = run(world, tmp_path, **{"cosign-public-key": KEY})
    assert proc.returncode == 0, proc.stdout
    assert cosign.calls[0][:2] == ["verify", "--key"] and cosign.calls[0][3:] == [NEW_IMAGE]
    assert not list((tmp_path / "temp").glob("cosign-key-*")), "the key file is removed"


def test_a_signature_of_another_key_is_refused(world, cosign, tmp_path):
    cosign.sign(key=OTHER_KEY)
    proc, outputs, _ = run(world, tmp_path, **{"cosign-public-key": KEY})
    assert outputs == {"failure-reason": "signature-invalid"} and world.calls() == []


def test_the_digest_is_verified_without_the_tag(world, cosign, tmp_path):
    cosign.sign(**keyless())
    image = NEW_IMAGE.replace("@", ":1.2.3@")
    proc, _, _ = run(world, tmp_path, image=image, **{"certificate-identity": SIGNER})
    assert proc.returncode == 0, proc.stdout
    assert cosign.calls[0][-1] == NEW_IMAGE and world.image() == image


@pytest.mark.parametrize(("inputs", "message"), [
    ({"certificate-identity": SIGNER, "image": "registry.example.test/shop/web:1.2.3", "allow-tag": "true"},
     "verify-signature needs the image pinned by digest (name@sha256:<digest>): a signature is made for a digest"),
    ({}, "verify-signature needs exactly one of cosign-public-key, certificate-identity and "
         "certificate-identity-regexp, not 0"),
    ({"certificate-identity": SIGNER, "cosign-public-key": KEY},
     "verify-signature needs exactly one of cosign-public-key, certificate-identity and "
     "certificate-identity-regexp, not 2"),
    ({"cosign-public-key": "/path/to/cosign.pub"},
     "cosign-public-key must be a PEM public key (-----BEGIN PUBLIC KEY-----)"),
    ({"certificate-identity": SIGNER, "certificate-github-workflow-repository": "--help"},
     'certificate-github-workflow-repository must be owner/name, not "--help"'),
    ({"certificate-identity": SIGNER, "certificate-oidc-issuer": "http://issuer.example.test"},
     'certificate-oidc-issuer must be an https:// URL, not "http://issuer.example.test"'),
])
def test_invalid_verification_inputs(world, cosign, tmp_path, inputs, message):
    proc, outputs, _ = run(world, tmp_path, **inputs)
    assert outputs == {"failure-reason": "invalid-input"}
    assert proc.stdout.splitlines()[-1] == f"::error title=invalid-input::{message}"
    assert cosign.calls == [] and world.calls() == []


def test_cosign_missing(world, cosign, tmp_path):
    (world.bin / "cosign").unlink()
    proc, outputs, _ = run(world, tmp_path, **{"certificate-identity": SIGNER})
    assert outputs == {"failure-reason": "signature-invalid"}
    assert "cosign is not on PATH" in proc.stdout and world.calls() == []
