"""The scan of build-push: the pinned Trivy, the ignore file, the gate, the SARIF and the scan's predicate.

Imported by build_push.py (``install-scanner`` and ``scan`` steps). Standard library only.

Trivy is installed from its release tarball, checked against the SHA-256 pinned in ``trivy.json``
beside this file: nothing from a cache (caches can be written by pull-request runs) and nothing
unchecked. It runs in a fresh empty directory with an environment reduced to what it needs, so
neither a ``trivy.yaml`` nor a ``.trivyignore`` of the checkout, nor a ``TRIVY_*`` variable, can
change what it reports; its database goes to a fresh cache directory.

Each platform is scanned twice by digest: once as JSON with every severity (the counts, the
attestation's predicate) and once as SARIF with the gate's severities and ``--exit-code 4``; the
two must agree, else the scan is not trusted (``scan-failed``). Anything that keeps the scan from
running or from being read fails closed.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import tarfile
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import actionkit
import download
import inputs
from actionkit import ActionFailure, env, set_output

HERE = Path(__file__).resolve().parent
SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN")
FINDINGS_EXIT = 4  # trivy --exit-code for "findings at the gate's severities"; 1 stays "trivy failed"
SCAN_TIMEOUT = 1800
IGNORE_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{2,}$")
MAX_EXPIRY_DAYS = 366
MAX_IGNORE_BYTES = 256 * 1024
MAX_TARBALL_BYTES = 512 * 1024 * 1024  # the 0.70 tarballs are about 50 MB
MAX_BINARY_BYTES = 1024 * 1024 * 1024
KEEP_ENV = ("PATH", "HOME", "TMPDIR", "DOCKER_CONFIG", "SSL_CERT_FILE", "SSL_CERT_DIR", "HTTP_PROXY", "HTTPS_PROXY",
            "NO_PROXY", "http_proxy", "https_proxy", "no_proxy")


# ------------------------------------------------------------------ inputs

def severities() -> list[str]:
    """The ``severity`` input (default ``CRITICAL,HIGH``), in the order of :data:`SEVERITIES`."""
    given = inputs.text("severity")
    items = [item.upper() for item in inputs.items("severity", separators=",")] if given else ["CRITICAL", "HIGH"]
    if not items or any(item not in SEVERITIES for item in items):
        raise inputs.invalid("severity", f"some of {','.join(SEVERITIES)}", given)
    return [s for s in SEVERITIES if s in items]


def db_repository() -> str:
    """The ``trivy-db-repository`` input: an image reference, or empty for Trivy's own."""
    return inputs.matching("trivy-db-repository", r"([A-Za-z0-9.-]+(?::[0-9]+)?/[a-z0-9._/-]+(?::[A-Za-z0-9._-]+)?)?",
                           "an image reference like mirror.example.com/aquasec/trivy-db:2", var="INPUT_DB_REPOSITORY")


def ignore_file_path() -> Path | None:
    """The ``ignore-file`` input: a file inside the workspace (no way out through ``..`` or a link)."""
    if not inputs.text("ignore-file"):
        return None
    return inputs.workspace_path("ignore-file", kind="file", missing="ignore-file-invalid")


# ------------------------------------------------------------------ the ignore file

def parse_ignore_file(path: Path, today: date) -> tuple[list[dict], list[tuple[int, int, str]]]:
    """``(entries, problems)`` of an ignore file in Trivy's ``.trivyignore`` syntax with a mandatory expiry
    and reason: ``CVE-2024-12345 exp:2026-09-30 why it is accepted and until when``. Problems are
    ``(line, column, message)``; an expired entry, a missing reason or date is a problem, never skipped."""
    data = path.read_bytes()
    if len(data) > MAX_IGNORE_BYTES:
        return [], [(1, 1, f"the file is larger than {MAX_IGNORE_BYTES} bytes")]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return [], [(1, 1, f"the file is not UTF-8 ({exc.reason})")]
    entries: list[dict] = []
    problems: list[tuple[int, int, str]] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        col = raw.index(line[0]) + 1
        fields = line.split(None, 2)
        ident = fields[0]
        if not IGNORE_ID_RE.match(ident):
            problems.append((number, col, f'"{ident[:40]}" is not a vulnerability ID like CVE-2024-12345'))
            continue
        if len(fields) < 2 or not fields[1].startswith("exp:"):
            problems.append((number, col + len(ident) + 1, f"{ident} has no expiry: write "
                             f'"{ident} exp:YYYY-MM-DD <reason>" (at most {MAX_EXPIRY_DAYS} days ahead)'))
            continue
        exp_col = raw.index(fields[1]) + 1
        try:
            expiry = datetime.strptime(fields[1][4:], "%Y-%m-%d").date()
        except ValueError:
            problems.append((number, exp_col, f'{ident}: "{fields[1]}" is not a date as exp:YYYY-MM-DD'))
            continue
        reason = fields[2].strip() if len(fields) > 2 else ""
        if not re.search(r"[A-Za-z]{2,}", reason):
            problems.append((number, exp_col + len(fields[1]) + 1, f"{ident} has no reason: say after the date why "
                             "the finding is accepted"))
            continue
        if expiry <= today:
            problems.append((number, exp_col, f"{ident} expired on {expiry.isoformat()}: fix the finding, or renew "
                             "the entry with a new date and reason"))
            continue
        if expiry > today + timedelta(days=MAX_EXPIRY_DAYS):
            problems.append((number, exp_col, f"{ident} expires on {expiry.isoformat()}, more than "
                             f"{MAX_EXPIRY_DAYS} days ahead"))
            continue
        if ident in seen:
            problems.append((number, col, f"{ident} is already listed on line {seen[ident]}"))
            continue
        seen[ident] = number
        entries.append({"id": ident, "expires": expiry.isoformat(), "reason": reason, "line": number})
    return entries, problems


def checked_ignore_file(work: Path) -> tuple[Path, list[dict]]:
    """Validate the caller's ignore file and write the file Trivy gets: only checked entries, or none."""
    out = work / "trivyignore"
    path = ignore_file_path()
    value = inputs.text("ignore-file")
    if path is None:
        out.write_text("", encoding="utf-8")
        return out, []
    entries, problems = parse_ignore_file(path, datetime.now(UTC).date())
    for line, col, message in problems:
        actionkit.annotate("error", message, file=value, line=line, col=col, title="ignore-file-invalid")
    if problems:
        first = problems[0]
        raise ActionFailure("ignore-file-invalid", f"{value}:{first[0]}:{first[1]}: {first[2]}"
                            + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""))
    out.write_text("".join(f"{e['id']} exp:{e['expires']}\n" for e in entries), encoding="utf-8")
    return out, entries


# ------------------------------------------------------------------ installing Trivy

def pinned() -> dict:
    return json.loads((HERE / "trivy.json").read_text(encoding="utf-8"))


def install() -> None:
    """Download the pinned Trivy release for this runner, check its SHA-256, then extract the binary.

    ``trivy.json`` names an ``https://`` URL; a test's copy of the action may name a loopback mirror
    instead, and says so explicitly with ``"loopback-mirror": true`` (never in the production table,
    which a test holds)."""
    pin = pinned()
    arch = env("RUNNER_ARCH") or "X64"
    asset = (pin.get("assets") or {}).get(arch)
    if env("RUNNER_OS") not in ("", "Linux") or not asset:
        raise ActionFailure("scanner-install-failed", f"no pinned Trivy {pin['version']} for {env('RUNNER_OS') or '?'}"
                            f"/{arch}; pinned: Linux/{', Linux/'.join(pin.get('assets') or {})}")
    url = pin["url"].format(version=pin["version"], name=asset["name"])
    archive = download.fetch(url, reason="scanner-install-failed", max_bytes=MAX_TARBALL_BYTES,
                             loopback_http=pin.get("loopback-mirror") is True)
    digest = download.verify(archive, [("trivy.json", asset["sha256"])], name=asset["name"],
                             reason="scanner-install-failed")
    try:
        with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
            member = tar.getmember("trivy")
            if not member.isfile() or member.size > MAX_BINARY_BYTES:
                raise KeyError("trivy is not a regular file of a sensible size")
            handle = tar.extractfile(member)
            assert handle is not None
            binary = handle.read()
    except (KeyError, tarfile.TarError, OSError, EOFError) as exc:
        raise ActionFailure("scanner-install-failed", f"{asset['name']} holds no trivy binary: {exc}") from None
    work = Path(tempfile.mkdtemp(prefix="build-push-trivy-", dir=env("RUNNER_TEMP") or None))
    path = download.place(binary, work / "trivy", mode=0o755, reason="scanner-install-failed")
    set_output("trivy", str(path))
    set_output("version", pin["version"])
    print(f"Trivy {pin['version']} installed, {asset['name']} SHA-256 {digest} as pinned")


# ------------------------------------------------------------------ running Trivy

def trivy_env() -> dict[str, str]:
    return {k: os.environ[k] for k in KEEP_ENV if k in os.environ}


def run_trivy(trivy: str, args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    print("+ trivy " + " ".join(args), flush=True)
    try:
        proc = subprocess.run([trivy, *args], cwd=cwd, env=trivy_env(), capture_output=True, text=True,
                              timeout=SCAN_TIMEOUT, stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        raise ActionFailure("scan-failed", f"the scanner {trivy or '(none)'} is not there; the image is not "
                            "signed") from None
    except PermissionError:
        raise ActionFailure("scan-failed", f"the scanner {trivy} cannot be run; the image is not signed") from None
    except subprocess.TimeoutExpired:
        raise ActionFailure("scan-failed", f"trivy did not finish in {SCAN_TIMEOUT} seconds") from None
    print(proc.stderr[-4000:], end="", flush=True)
    return proc


def last_error(proc: subprocess.CompletedProcess) -> str:
    lines = [line.strip() for line in proc.stderr.splitlines() if line.strip()]
    fatal = [line for line in lines if "FATAL" in line or "panic" in line.lower()]
    text = (fatal or lines or [f"no output, exit {proc.returncode}"])[-1]
    return text.replace("\t", " ")[:300]


def read_report(path: Path) -> dict:
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ActionFailure("scan-failed", f"trivy wrote no readable JSON report: {exc}") from None
    if not isinstance(report, dict) or report.get("SchemaVersion") != 2 or not isinstance(
            report.get("Results") or [], list):
        raise ActionFailure("scan-failed", "trivy's JSON report is not a schema version 2 report")
    return report


def findings(report: dict) -> list[dict]:
    return [v for r in report.get("Results") or [] for v in (r.get("Vulnerabilities") or []) if isinstance(v, dict)]


def count(vulns: list[dict]) -> dict[str, int]:
    counts = dict.fromkeys(SEVERITIES, 0)
    seen = set()
    for v in vulns:
        key = (v.get("VulnerabilityID"), v.get("PkgName"), v.get("InstalledVersion"), v.get("PkgPath"))
        if key in seen:
            continue
        seen.add(key)
        severity = str(v.get("Severity") or "UNKNOWN").upper()
        counts[severity if severity in counts else "UNKNOWN"] += 1
    return counts


def merge_sarif(files: list[tuple[str, Path]]) -> dict:
    """One SARIF run for the image: code scanning takes one run per tool and category."""
    merged: dict | None = None
    base: dict = {}  # the first report's run, which the others' rules and results join
    rules: dict[str, int] = {}  # rule id -> its index in base's rules
    for platform, path in files:
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            run = doc["runs"][0]
        except (OSError, ValueError, KeyError, IndexError, TypeError) as exc:
            raise ActionFailure("scan-failed", f"trivy wrote no readable SARIF report: {exc}") from None
        if merged is None:
            merged = doc
            base = run
            rules = {r["id"]: i for i, r in enumerate(base["tool"]["driver"].get("rules") or [])}
            if len(files) > 1:
                for result in base.get("results") or []:
                    result["message"]["text"] = f"[{platform}] {result['message']['text']}"
            continue
        for rule in run["tool"]["driver"].get("rules") or []:
            if rule["id"] not in rules:
                rules[rule["id"]] = len(base["tool"]["driver"].setdefault("rules", []))
                base["tool"]["driver"]["rules"].append(rule)
        for result in run.get("results") or []:
            result["ruleIndex"] = rules[result["ruleId"]]
            result["message"]["text"] = f"[{platform}] {result['message']['text']}"
            base.setdefault("results", []).append(result)
    return merged or {}


def predicate(report: dict, version: str, db: dict, started: str, finished: str) -> dict:
    """The cosign ``vuln`` predicate (cosign pkg/cosign/attestation CosignVulnPredicate; Trivy's own
    cosign-vuln writer fills the same shape), with the invocation that binds the scan to the run."""
    server = env("GITHUB_SERVER_URL") or "https://github.com"
    repository, run_id, attempt = env("GITHUB_REPOSITORY"), env("GITHUB_RUN_ID"), env("GITHUB_RUN_ATTEMPT") or "1"
    return {
        "invocation": {
            "parameters": {"repository": repository, "ref": env("GITHUB_REF"), "sha": env("GITHUB_SHA"),
                           "event": env("GITHUB_EVENT_NAME"), "workflow_ref": env("GITHUB_WORKFLOW_REF"),
                           "image": env("PLAN_IMAGE"), "digest": env("SCAN_DIGEST"),
                           "severity": ",".join(severities()),
                           "ignore-unfixed": inputs.boolean("ignore-unfixed"), "ignore-file": inputs.text("ignore-file"),
                           "fail-on": inputs.choice("fail-on", ("fail", "warn"), "fail")},
            "uri": f"{server}/{repository}/actions/runs/{run_id}/attempts/{attempt}",
            "event_id": run_id, "builder.id": f"{server}/{env('GITHUB_WORKFLOW_REF')}"},
        "scanner": {"uri": f"pkg:github/aquasecurity/trivy@{version}", "version": version, "db": db,
                    "result": report},
        "metadata": {"scanStartedOn": started, "scanFinishedOn": finished},
    }


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def scan() -> None:
    """Scan the image by digest; write the reports; pass, warn or fail at the gate's severities."""
    gate = severities()
    fail_on = inputs.choice("fail-on", ("fail", "warn"), "fail")
    digest, target, archive = env("SCAN_DIGEST"), env("SCAN_TARGET"), env("SCAN_INPUT")
    if not re.match(r"^sha256:[0-9a-f]{64}$", digest) or not (target or archive):
        raise ActionFailure("scan-failed", f'nothing to scan by digest (digest "{digest[:80]}")')
    if target and not target.endswith(f"@{digest}"):
        raise ActionFailure("scan-failed", f"refusing to scan {target}: not the digest {digest}")
    work = Path(tempfile.mkdtemp(prefix="build-push-scan-", dir=env("RUNNER_TEMP") or None))
    neutral = work / "cwd"  # trivy reads trivy.yaml and .trivyignore from its working directory: an empty one
    neutral.mkdir()
    cache = work / "cache"
    ignorefile, entries = checked_ignore_file(work)
    common = ["image", "--scanners", "vuln", "--cache-dir", str(cache), "--ignorefile", str(ignorefile),
              "--no-progress", "--timeout", "25m"]
    if inputs.boolean("ignore-unfixed"):
        common.append("--ignore-unfixed")
    db_repo = db_repository()
    if db_repo:
        common += ["--db-repository", db_repo]
    source = ["--input", archive] if archive else ["--image-src", "remote", target]
    platforms = [p for p in re.split(r"[,\n]", env("PLATFORMS")) if p.strip()] or [""]
    trivy = env("TRIVY")
    started = now()
    reports, sarifs, all_vulns = [], [], []
    for n, platform in enumerate(platforms):
        label = platform.strip() or "default"
        plat = ["--platform", platform.strip()] if platform.strip() else []
        report_file, sarif_file = work / f"report-{n}.json", work / f"scan-{n}.sarif"
        proc = run_trivy(trivy, [*common, *plat, "--format", "json", "--output", str(report_file), "--severity",
                                 ",".join(SEVERITIES), "--exit-code", "0", *(["--skip-db-update"] if n else []),
                                 *source], neutral)
        if proc.returncode != 0:
            raise ActionFailure("scan-failed", f"trivy failed (exit {proc.returncode}) on {label}: {last_error(proc)}")
        report = read_report(report_file)
        vulns = findings(report)
        at_gate = [v for v in vulns if str(v.get("Severity", "")).upper() in gate]
        proc = run_trivy(trivy, [*common, *plat, "--format", "sarif", "--output", str(sarif_file), "--severity",
                                 ",".join(gate), "--exit-code", str(FINDINGS_EXIT), "--skip-db-update", *source],
                         neutral)
        if proc.returncode not in (0, FINDINGS_EXIT):
            raise ActionFailure("scan-failed", f"trivy failed (exit {proc.returncode}) on {label}: {last_error(proc)}")
        if (proc.returncode == FINDINGS_EXIT) != bool(at_gate):
            raise ActionFailure("scan-failed", f"trivy's exit code ({proc.returncode}) and its JSON report "
                                f"({len(at_gate)} findings at {','.join(gate)}) disagree on {label}; not trusted")
        reports.append((label, report))
        sarifs.append((label, sarif_file))
        all_vulns += vulns
    finished = now()
    sarif_path = work / "scan.sarif"
    sarif_path.write_text(json.dumps(merge_sarif(sarifs)), encoding="utf-8")
    report = reports[0][1] if len(reports) == 1 else {
        **reports[0][1], "Results": [{**r, "Target": f"[{label}] {r.get('Target', '')}"}
                                     for label, rep in reports for r in rep.get("Results") or []]}
    version = str((report.get("Trivy") or {}).get("Version") or pinned()["version"])
    try:
        meta = json.loads((cache / "db" / "metadata.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        meta = {}
    db = {"uri": db_repo or "trivy's default (mirror.gcr.io/aquasec/trivy-db:2)",
          "version": str(meta.get("UpdatedAt") or "")}
    (work / "vuln.json").write_text(json.dumps(predicate(report, version, db, started, finished)), encoding="utf-8")
    (work / "report.json").write_text(json.dumps(report), encoding="utf-8")
    counts = count(all_vulns)
    used = {m.get("Finding", {}).get("VulnerabilityID") for _, rep in reports for r in rep.get("Results") or []
            for m in r.get("ExperimentalModifiedFindings") or []}
    blocking = sum(counts[s] for s in gate)
    set_output("vulnerabilities", json.dumps(counts, separators=(",", ":")))
    set_output("scan-sarif", str(sarif_path))
    set_output("predicate", str(work / "vuln.json"))
    set_output("cache-dir", str(cache))
    set_output("digest", digest)
    set_output("ignored", json.dumps([{**e, "applied": e["id"] in used} for e in entries], separators=(",", ":")))
    set_output("blocking", str(blocking))
    print(f"scanned {digest}: " + ", ".join(f"{counts[s]} {s}" for s in SEVERITIES))
    if blocking and fail_on == "fail":
        set_output("passed", "false")
        raise ActionFailure("vulnerabilities-found", f"{blocking} finding(s) at {','.join(gate)} in {digest}: the image "
                            "is not signed or attested; fix them, or record each in the ignore file with a reason "
                            "and an expiry")
    if blocking:
        actionkit.annotate("warning", f"{blocking} finding(s) at {','.join(gate)} in {digest} (fail-on: warn); the "
                           "scan attestation records them")
    set_output("passed", "true")
