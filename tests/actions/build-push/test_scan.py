"""Issue 16: the image is scanned by digest before anything is signed; only what passed is signed and
attested. End to end through the local runner, as a hostile pull request or a broken scanner would
have it.

Real: the registry and every digest (docker-registry, skopeo), the images' layers, the pinned Trivy
download and its SHA-256 check (from the GitHub double's release asset, tests/support/github_api.py),
the DB artifact in the registry, every line of build_push.py and scanning.py. Stand-ins:
``trivy`` (trivy_standin.py, Trivy v0.70.0's CLI over a vulnerability table the test supplies),
``cosign`` (cosign_standin.py) and the docker/* actions (buildpush_standins.py).
"""

from __future__ import annotations

import base64
import json
import sys
from datetime import UTC, datetime, timedelta

import pytest
from buildpush_standins import (
    CLEAN,
    SHA,
    VULNERABLE,
    World,
    action_copy,
    alpine_files,
    push_trivy_db,
    trivy_tarball,
)

from support import registry as oci

TODAY = datetime.now(UTC).date()
SOON = (TODAY + timedelta(days=30)).isoformat()


@pytest.fixture
def world(tmp_path, registry, cosign_bin, oidc, release_host) -> World:
    return World(tmp_path, registry, cosign_bin, oidc, github=release_host)


def vulnerable(world: World) -> World:
    world.image_files.clear()
    world.image_files.update(alpine_files(VULNERABLE))
    return world


def assert_failed(result, reason: str) -> None:
    assert result.failed
    assert result.outputs["failure-reason"] == reason, (result.outputs, result.errors, result.stdout[-2000:])
    assert f"**Failed** (`{reason}`)" in result.summary
    assert "Traceback" not in result.stderr + result.stdout


def assert_nothing_signed(world: World, result) -> None:
    assert result.outputs["signed"] == "false" and result.outputs["attestations"] == "[]"
    assert not [c for c in world.cosign_calls() if c[0] in ("sign", "attest")]
    digest = result.outputs["digest"]
    if digest:
        from support import ocidist
        client = ocidist.Client(world.reg.host, credentials=(oci.USER, oci.PASSWORD))
        assert client.get_manifest("org/app", ocidist.fallback_tag(digest)) is None  # no referrer at all


def attestation(world: World, digest: str, predicate_type: str) -> dict:
    from support import ocidist
    client = ocidist.Client(world.reg.host, credentials=(oci.USER, oci.PASSWORD))
    index = json.loads(client.get_manifest("org/app", ocidist.fallback_tag(digest)).body)
    for desc in index["manifests"]:
        manifest = json.loads(client.get_manifest("org/app", desc["digest"]).body)
        if manifest["annotations"]["dev.sigstore.bundle.predicateType"] == predicate_type:
            bundle = json.loads(client.get_blob("org/app", manifest["layers"][0]["digest"]))
            return json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))
    raise AssertionError(f"no {predicate_type} attestation")


# ------------------------------------------------------------------ the gate

def test_an_image_with_a_critical_finding_is_never_signed_or_attested(world):
    result = vulnerable(world).run()
    assert_failed(result, "vulnerabilities-found")
    assert result.outputs["pushed"] == "true"  # pushed by digest, but unsigned: an admission policy refuses it
    assert json.loads(result.outputs["vulnerabilities"]) == {"CRITICAL": 1, "HIGH": 1, "MEDIUM": 1, "LOW": 0,
                                                             "UNKNOWN": 0}
    assert_nothing_signed(world, result)
    assert world.installs == []  # cosign was not even installed
    # the findings still reach code scanning, one run for the image
    sarif = world.uploads[0]["sarif"]
    assert sorted(r["ruleId"] for r in sarif["runs"][0]["results"]) == ["CVE-2024-0001", "CVE-2024-0002"]
    assert "**2 finding(s) at CRITICAL,HIGH**: not signed, not attested" in result.summary
    assert any("2 finding(s) at CRITICAL,HIGH" in e for e in result.errors)


def test_severity_decides_what_fails(world):
    result = vulnerable(world).run({"severity": "CRITICAL", "ignore-unfixed": "true",
                                    "ignore-file": write(world, f"CVE-2024-0001 exp:{SOON} patched base image on its way")})
    assert not result.failed, (result.errors, result.stdout[-2000:])
    # zlib's HIGH has no fix (left out), openssl's CRITICAL is accepted, busybox's MEDIUM is below the gate
    assert json.loads(result.outputs["vulnerabilities"]) == {"CRITICAL": 0, "HIGH": 0, "MEDIUM": 1, "LOW": 0,
                                                             "UNKNOWN": 0}
    assert result.outputs["signed"] == "true"


def test_fail_on_warn_signs_and_the_scan_attestation_records_the_findings(world):
    result = vulnerable(world).run({"fail-on": "warn"})
    assert not result.failed, (result.errors, result.stdout[-2000:])
    assert result.outputs["signed"] == "true"
    assert any("2 finding(s) at CRITICAL,HIGH" in w for w in result.warnings)
    statement = attestation(world, result.outputs["digest"], "https://cosign.sigstore.dev/attestation/vuln/v1")
    assert statement["subject"][0]["digest"] == {"sha256": result.outputs["digest"].split(":")[1]}
    found = [v["VulnerabilityID"] for r in statement["predicate"]["scanner"]["result"]["Results"]
             for v in r.get("Vulnerabilities", [])]
    assert sorted(found) == ["CVE-2024-0001", "CVE-2024-0002", "CVE-2024-0003"]
    params = statement["predicate"]["invocation"]["parameters"]
    assert params["repository"] == "org/svc" and params["ref"] == "refs/heads/main" and params["sha"] == SHA
    assert params["fail-on"] == "warn" and params["severity"] == "CRITICAL,HIGH"
    assert statement["predicate"]["scanner"]["uri"] == "pkg:github/aquasecurity/trivy@0.70.0"
    assert "accepted by `fail-on: warn`" in result.summary


def test_the_clean_scan_is_attested_with_its_binding(world):
    result = world.run()
    assert not result.failed, result.errors
    statement = attestation(world, result.outputs["digest"], "https://cosign.sigstore.dev/attestation/vuln/v1")
    predicate = statement["predicate"]
    assert predicate["invocation"]["uri"] == "https://github.com/org/svc/actions/runs/1/attempts/1"
    assert predicate["invocation"]["parameters"]["digest"] == result.outputs["digest"]
    assert predicate["scanner"]["db"]["uri"] == world.db
    sbom = attestation(world, result.outputs["digest"], "https://cyclonedx.org/bom")
    assert sorted(c["name"] for c in sbom["predicate"]["components"]) == sorted(CLEAN)
    provenance = attestation(world, result.outputs["digest"], "https://slsa.dev/provenance/v0.2")
    assert provenance["predicate"]["buildType"] == "https://mobyproject.org/buildkit@v1"


def test_a_pull_request_with_a_critical_finding_fails_without_pushing(world):
    result = vulnerable(world).run(github={"event_name": "pull_request", "ref": "refs/pull/7/merge", "event": {
        "number": 7, "pull_request": {"head": {"ref": "x", "repo": {"full_name": "org/svc"}}, "base": {"ref": "main"}}}},
        id_token=False)
    assert_failed(result, "vulnerabilities-found")
    assert result.outputs["pushed"] == "false" and not world.tag_exists("pr-7")
    assert world.cosign_calls() == []
    assert len(world.uploads) == 1


def test_a_pull_request_from_a_fork_is_scanned_but_never_uploaded(world):
    result = world.run(github={"event_name": "pull_request", "ref": "refs/pull/8/merge", "event": {
        "number": 8, "pull_request": {"head": {"ref": "x", "repo": {"full_name": "someone/svc"}},
                                      "base": {"ref": "main"}}}}, id_token=False)
    assert not result.failed, result.errors
    assert world.uploads == [] and result.step("upload").outcome == "skipped"
    assert result.outputs["scan-sarif"] and any("pull request from a fork" in n for n in result.notices)


def test_every_platform_is_scanned_and_reported_once(world):
    result = vulnerable(world).run({"platforms": "linux/amd64,linux/arm64", "fail-on": "warn"})
    assert not result.failed, result.errors
    platforms = [c["argv"][c["argv"].index("--platform") + 1] for c in world.trivy_calls() if "sarif" in c["argv"]
                 and "--platform" in c["argv"]]
    assert platforms == ["linux/amd64", "linux/arm64"]
    # the same finding on both platforms counts once; code scanning gets one run with both
    assert json.loads(result.outputs["vulnerabilities"])["CRITICAL"] == 1
    results = world.uploads[0]["sarif"]["runs"][0]["results"]
    assert sorted(r["message"]["text"].split("]")[0] for r in results) == ["[linux/amd64", "[linux/amd64",
                                                                           "[linux/arm64", "[linux/arm64"]


def test_scan_false_signs_without_the_scan_attestation(world):
    result = world.run({"scan": "false"})
    assert not result.failed, result.errors
    assert world.trivy_calls() == [] and result.outputs["vulnerabilities"] == ""
    assert [a["type"] for a in json.loads(result.outputs["attestations"])] == ["provenance"]
    assert any("not attesting sbom: scan is off" in n for n in result.notices)
    assert "Not scanned (`scan: false`)." in result.summary


# ------------------------------------------------------------------ the ignore file

def write(world: World, text: str, name: str = ".github/trivy-ignore") -> str:
    path = world.workspace / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return name


def test_accepted_findings_need_a_reason_and_an_expiry_and_are_shown(world):
    name = write(world, f"# accepted findings\nCVE-2024-0001 exp:{SOON} fixed upstream in 3.1.4, base image "
                        f"bump tracked in SEC-12\nCVE-2024-0002 exp:{SOON} zlib path not reachable from the service\n")
    result = vulnerable(world).run({"ignore-file": name})
    assert not result.failed, (result.errors, result.stdout[-2000:])
    assert json.loads(result.outputs["vulnerabilities"])["CRITICAL"] == 0
    assert f"| CVE-2024-0001 | {SOON} | yes | fixed upstream in 3.1.4, base image bump tracked in SEC-12 |" in result.summary
    statement = attestation(world, result.outputs["digest"], "https://cosign.sigstore.dev/attestation/vuln/v1")
    modified = statement["predicate"]["scanner"]["result"]["Results"][0]["ExperimentalModifiedFindings"]
    assert sorted(m["Finding"]["VulnerabilityID"] for m in modified) == ["CVE-2024-0001", "CVE-2024-0002"]


@pytest.mark.parametrize("line,message", [
    (f"CVE-2024-0001 exp:{SOON}", "CVE-2024-0001 has no reason"),
    ("CVE-2024-0001 no expiry given here at all", "CVE-2024-0001 has no expiry"),
    (f"CVE-2024-0001 exp:{(TODAY - timedelta(days=1)).isoformat()} it was fine last month",
     "CVE-2024-0001 expired on"),
    (f"CVE-2024-0001 exp:{TODAY.isoformat()} expires today, so already not accepted", "CVE-2024-0001 expired on"),
    (f"CVE-2024-0001 exp:{(TODAY + timedelta(days=400)).isoformat()} for a long while", "more than 366 days ahead"),
    ("CVE-2024-0001 exp:2026-13-40 a date that does not exist", "is not a date"),
    (f"$(id) exp:{SOON} shell in an id", "is not a vulnerability ID"),
])
def test_an_incomplete_or_expired_ignore_entry_is_refused(world, line, message):
    """Trivy itself would skip an entry with a bad date (with a warning) and prune an expired one silently,
    so the finding it hides would come back or stay hidden without anyone deciding; here it is refused."""
    name = write(world, f"# team file\n\n  {line}\n")
    result = vulnerable(world).run({"ignore-file": name})
    assert_failed(result, "ignore-file-invalid")
    assert any(message in e for e in result.errors), result.errors
    assert f"::error file={name},line=3,col=3" in result.stdout.replace("%2C", ",").replace("%3A", ":") or \
        any(f"{name}:3:" in e for e in result.errors)
    assert world.builds == [] and world.trivy_calls() == []  # refused before anything was built
    assert result.outputs["signed"] == "false" and world.cosign_calls() == []


def test_an_ignore_file_outside_the_repository_is_refused(world, tmp_path):
    (tmp_path / "elsewhere").write_text(f"CVE-2024-0001 exp:{SOON} planted outside the checkout\n")
    (world.workspace / "link").symlink_to(tmp_path / "elsewhere")
    for name in ("../elsewhere", "link", "/etc/passwd"):
        result = vulnerable(world).run({"ignore-file": name})
        assert_failed(result, "invalid-input")
        assert world.builds == []


def test_a_missing_ignore_file_is_refused_before_building(world):
    result = world.run({"ignore-file": ".github/trivy-ignore"})
    assert_failed(result, "ignore-file-invalid")
    assert world.builds == []


def test_a_pull_request_cannot_switch_the_scan_off_with_trivy_files_of_its_own(world):
    """A hostile pull request adds trivy.yaml (unfixed findings left out, severity LOW only, exit code 0)
    and .trivyignore at the root of the checkout, where Trivy looks by default; the job's environment
    carries TRIVY_IGNORE_UNFIXED too. The image's one finding is a HIGH without a fix, which any of
    these would hide. None of it reaches the scanner."""
    (world.workspace / "trivy.yaml").write_text("severity: [LOW]\nexit-code: 0\nvulnerability:\n  ignore-unfixed: true\n")
    (world.workspace / ".trivyignore").write_text("CVE-2024-0002\n")
    world.image_files.clear()
    world.image_files.update(alpine_files({"musl": "1.2.4-r2", "zlib": "1.2.13-r0"}))
    result = world.run(extra_env={"TRIVY_IGNORE_UNFIXED": "true", "TRIVY_CONFIG": "trivy.yaml"})
    assert_failed(result, "vulnerabilities-found")
    assert_nothing_signed(world, result)
    calls = world.trivy_calls()
    assert len(calls) == 2
    for call in calls:
        assert call["cwd"] != str(world.workspace) and call["trivy_env"] == []
        # the scanner sees no token, no runner file command, no OIDC request variable
        assert not [k for k in call["env"] if k.startswith(("GITHUB_", "ACTIONS_", "INPUT_", "COSIGN"))]


# ------------------------------------------------------------------ a scan that cannot run fails closed

def test_a_tampered_scanner_download_is_never_run(world, tmp_path, release_host):
    world.action = action_copy(tmp_path / "tampered", release_host, trivy_tarball(tmp_path / "t"), sha256="0" * 64)
    result = world.run()
    assert_failed(result, "scanner-install-failed")
    assert any("but trivy.json says " + "0" * 64 in e for e in result.errors)
    assert world.trivy_calls() == []
    assert_nothing_signed(world, result)


def test_a_release_without_the_binary_fails_closed(world, tmp_path, release_host):
    import io
    import tarfile
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo("README.md")
        tar.addfile(info, io.BytesIO(b""))
    world.action = action_copy(tmp_path / "empty", release_host, buf.getvalue())
    result = world.run()
    assert_failed(result, "scanner-install-failed")
    assert_nothing_signed(world, result)


@pytest.mark.parametrize("body,needle", [
    ("#!/bin/sh\nkill -SEGV $$\n", "trivy failed (exit -11)"),
    ("#!/bin/sh\necho 'panic: runtime error: invalid memory address' >&2\nexit 2\n", "panic: runtime error"),
    ("#!/bin/sh\nexit 0\n", "no readable JSON report"),
])
def test_a_scanner_that_crashes_or_says_nothing_fails_closed(world, tmp_path, release_host, body, needle):
    world.action = action_copy(tmp_path / "crash", release_host, trivy_tarball(tmp_path / "c", body=body))
    result = world.run()
    assert_failed(result, "scan-failed")
    assert any(needle in e for e in result.errors), result.errors
    assert_nothing_signed(world, result)


def test_a_scanner_whose_exit_code_lies_is_not_trusted(world, tmp_path, release_host):
    """A scanner that always exits 0, whatever it found (a wrapper around the real one)."""
    from buildpush_standins import TRIVY_STANDIN
    body = f'#!/bin/sh\n"{sys.executable}" "{TRIVY_STANDIN}" "$@"\nexit 0\n'
    world.action = action_copy(tmp_path / "liar", release_host, trivy_tarball(tmp_path / "l", body=body))
    result = vulnerable(world).run()
    assert_failed(result, "scan-failed")
    assert any("disagree" in e for e in result.errors)
    assert_nothing_signed(world, result)


def test_an_unreadable_vulnerability_database_fails_closed(world):
    world.db = push_trivy_db(world.reg, raw_db=b"\x00\x01 not a database", repo="broken/trivy-db")
    result = world.run()
    assert_failed(result, "scan-failed")
    assert any("error in vulnerability DB initialize" in e for e in result.errors)
    assert_nothing_signed(world, result)


def test_an_unreachable_vulnerability_database_fails_closed(world):
    result = world.run({"trivy-db-repository": f"{world.reg.host}/nowhere/trivy-db:2"})
    assert_failed(result, "scan-failed")
    assert any("failed to download vulnerability DB" in e for e in result.errors)
    assert_nothing_signed(world, result)
