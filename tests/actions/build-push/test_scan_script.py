"""``build_push.py`` plan, install-scanner and scan, each run as its step runs it (real GITHUB_OUTPUT
and summary files). The install downloads from the GitHub double (tests/support/github_api.py) through
a copy of the action whose ``trivy.json`` names it; the production table is checked for its form.
"""

from __future__ import annotations

import json
import re
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from buildpush_standins import REPO, action_copy, trivy_tarball

DIGEST = "sha256:" + "ab" * 32
PLAN = {"INPUT_IMAGE": "ghcr.io/org/app", "INPUT_PUSH": "auto", "INPUT_HAS_PASSWORD": "false", "INPUT_SIGN": "true",
        "INPUT_COSIGN_VERSION": "v3.1.2", "GITHUB_EVENT_NAME": "push", "GITHUB_REF": "refs/heads/main",
        "DEFAULT_BRANCH": "main", "GITHUB_REPOSITORY": "org/svc", "ACTIONS_ID_TOKEN_REQUEST_URL": "http://127.0.0.1:9/t"}
SOON = (datetime.now(UTC).date() + timedelta(days=10)).isoformat()


def plan(script, **env):
    return script("plan", env={**PLAN, **{k: v for k, v in env.items() if v is not None}})


# ------------------------------------------------------------------ plan

def test_plan_scans_by_default_and_attests_after_signing(script):
    run = plan(script)
    assert run.code == 0, run.stdout
    out = run.outputs
    assert out["scan"] == "true" and out["severity"] == "CRITICAL,HIGH" and out["fail-on"] == "fail"
    assert out["attest"] == "vuln,sbom,provenance" and out["upload-sarif"] == "true"
    assert out["sarif-category"] == "build-push/ghcr.io/org/app"
    assert out["outputs"] == "" and out["oci-archive"] == ""  # pushed: scanned from the registry


@pytest.mark.parametrize("event,head,upload", [("pull_request", "org/svc", "true"),
                                               ("pull_request", "someone/svc", "false")])
def test_plan_builds_pull_requests_into_an_archive_to_scan(script, event, head, upload):
    run = plan(script, GITHUB_EVENT_NAME=event, GITHUB_REF="refs/pull/3/merge", PR_HEAD_REPOSITORY=head)
    assert run.code == 0, run.stdout
    assert run.outputs["push"] == "false" and run.outputs["sign"] == "false" and run.outputs["attest"] == ""
    assert re.fullmatch(r"type=oci,dest=/.+/image\.tar", run.outputs["outputs"])
    assert run.outputs["upload-sarif"] == upload


def test_plan_drops_attestations_it_cannot_make(script):
    run = plan(script, INPUT_PROVENANCE="false", INPUT_SCAN="false")
    assert run.outputs["attest"] == "" and run.outputs["scan"] == "false" and run.outputs["upload-sarif"] == "false"
    assert "not attesting provenance: provenance is off" in run.stdout


@pytest.mark.parametrize("overrides,needle", [
    ({"INPUT_SEVERITY": "CRITICAL,SEVERE"}, 'severity must be some of CRITICAL,HIGH,MEDIUM,LOW,UNKNOWN, not "CRITICAL,SEVERE"'),
    ({"INPUT_SEVERITY": " , "}, 'severity must be some of CRITICAL,HIGH,MEDIUM,LOW,UNKNOWN, not ","'),
    ({"INPUT_FAIL_ON": "never"}, 'fail-on must be "fail" or "warn"'),
    ({"INPUT_ATTEST": "vuln,secrets"}, 'attest: "secrets" must be one of vuln, sbom, provenance'),
    ({"INPUT_DB_REPOSITORY": "https://evil.example/db"}, 'trivy-db-repository must be an image reference'),
    ({"INPUT_IGNORE_UNFIXED": "sometimes"}, 'ignore-unfixed must be true or false, not "sometimes"'),
    ({"INPUT_IGNORE_FILE": "../outside"}, 'ignore-file must be a path inside the workspace, not "../outside"'),
])
def test_plan_rejects_bad_scan_inputs(script, overrides, needle):
    run = plan(script, **overrides)
    assert run.code == 1 and run.outputs["failure-reason"] == "invalid-input", run.stdout
    assert needle in run.stdout and "Traceback" not in run.stderr


def test_plan_checks_the_ignore_file_before_anything_is_built(script, tmp_path):
    (tmp_path / "ignore").write_text(f"CVE-2024-1 exp:{SOON} fine\nGHSA-xxxx-yyyy-zzzz exp:{SOON}\n")
    run = plan(script, INPUT_IGNORE_FILE="ignore", GITHUB_WORKSPACE=str(tmp_path))
    assert run.code == 1 and run.outputs["failure-reason"] == "ignore-file-invalid"
    assert "::error file=ignore,line=2,col=" in run.stdout
    assert "GHSA-xxxx-yyyy-zzzz has no reason" in run.stdout


# ------------------------------------------------------------------ install-scanner

@pytest.fixture
def copy(tmp_path, release_host):
    def make(tarball: bytes | None = None, sha256: str | None = None) -> Path:
        folder = tmp_path / f"copy-{len(list(tmp_path.glob('copy-*')))}"
        return action_copy(folder, release_host, tarball or trivy_tarball(folder / "t"), sha256) / "build_push.py"
    return make


def test_install_downloads_checks_and_extracts_the_pinned_release(script, copy, release_host):
    run = script("install-scanner", env={"RUNNER_OS": "Linux", "RUNNER_ARCH": "X64"}, at=copy())
    assert run.code == 0, run.stdout
    assert "Trivy 0.70.0 installed" in run.stdout and run.outputs["version"] == "0.70.0"
    binary = Path(run.outputs["trivy"])
    assert binary.name == "trivy" and not list(binary.parent.glob("*.tar.gz"))
    assert subprocess.run([str(binary), "--version"], capture_output=True, text=True).stdout.startswith("Version: 0.70.0")
    assert any("/aquasecurity/trivy/releases/download/v0.70.0/trivy_0.70.0_Linux-64bit.tar.gz" in p
               for p in release_host.log)


def test_install_refuses_a_download_that_does_not_match_the_pin(script, copy):
    run = script("install-scanner", env={"RUNNER_OS": "Linux", "RUNNER_ARCH": "X64"}, at=copy(sha256="1" * 64))
    assert run.code == 1 and run.outputs["failure-reason"] == "scanner-install-failed"
    assert "but trivy.json says " + "1" * 64 in run.stdout and "trivy" not in run.outputs


@pytest.mark.parametrize("arch,needle", [("ARM64", "trivy_0.70.0_Linux-ARM64.tar.gz"), ("X86", "no pinned Trivy")])
def test_install_fails_closed_without_a_release_for_the_runner(script, copy, arch, needle):
    run = script("install-scanner", env={"RUNNER_OS": "Linux", "RUNNER_ARCH": arch}, at=copy())
    assert run.code == 1 and run.outputs["failure-reason"] == "scanner-install-failed"
    assert needle in run.stdout


def test_the_production_pin_is_a_github_release_with_a_sha256_per_runner():
    pin = json.loads((REPO / "actions" / "build-push" / "trivy.json").read_text())
    assert pin["url"] == "https://github.com/aquasecurity/trivy/releases/download/v{version}/{name}"
    assert "loopback-mirror" not in pin  # plain http to a test's loopback mirror: never in production
    assert set(pin["assets"]) == {"X64", "ARM64"}
    for asset in pin["assets"].values():
        assert re.fullmatch(r"[0-9a-f]{64}", asset["sha256"])
        assert asset["name"].startswith(f"trivy_{pin['version']}_Linux-")


# ------------------------------------------------------------------ scan

def test_scan_without_a_digest_or_a_scanner_fails_closed(script, tmp_path):
    run = script("scan", env={"SCAN_DIGEST": "", "SCAN_TARGET": "", "TRIVY": "/nonexistent/trivy"})
    assert run.code == 1 and run.outputs["failure-reason"] == "scan-failed"
    run = script("scan", env={"SCAN_DIGEST": DIGEST, "SCAN_TARGET": f"ghcr.io/org/app@{DIGEST}",
                              "TRIVY": str(tmp_path / "missing" / "trivy")})
    assert run.code == 1 and run.outputs["failure-reason"] == "scan-failed"
    assert "is not there" in run.stdout
    assert run.outputs.get("passed") != "true"


def test_scan_refuses_a_target_that_is_not_the_digest(script):
    run = script("scan", env={"SCAN_DIGEST": DIGEST, "SCAN_TARGET": "ghcr.io/org/app:latest", "TRIVY": "trivy"})
    assert run.code == 1 and "not the digest" in run.stdout
