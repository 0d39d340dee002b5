"""A stand-in for the ``trivy`` CLI v0.70.0 (Trivy runs here, but its vulnerability database comes from
ghcr.io/mirror.gcr.io, which the tests cannot reach, and its findings would change every day).

It scans a real image, from the real registry or from an OCI archive, against a vulnerability table
the test supplies, and answers as Trivy v0.70.0 does. Read from aquasecurity/trivy at v0.70.0
(commit 8a3177aedf7ee0864920eb1852eef031cd3742b8):

- pkg/flag/{report,vulnerability,image,db,scan,global}_flags.go: the flags used here and their
  defaults: ``--format table``, ``--severity`` all five, ``--ignorefile .trivyignore`` (relative to
  the working directory), ``--exit-code 0``, ``--config trivy.yaml`` (also in the working
  directory), ``--db-repository mirror.gcr.io/aquasec/trivy-db:2,ghcr.io/aquasecurity/trivy-db:2``,
  ``--cache-dir ~/.cache/trivy``; every flag also read from ``TRIVY_<FLAG>`` (viper);
- pkg/db/db.go (NeedsUpdate, Download): the DB is ``<cache>/db/trivy.db`` with ``metadata.json``,
  downloaded as the OCI artifact layer ``application/vnd.aquasec.trivy.db.layer.v1.tar+gzip``;
  ``--skip-db-update`` on a first run is an error;
- pkg/fanal/analyzer/pkg/apk/apk.go: Alpine packages from ``lib/apk/db/installed`` (``P:``/``V:``),
  the OS from ``etc/alpine-release``; no OS found: a warning and no OS results;
- pkg/result/filter.go and ignore.go: severities, ``--ignore-unfixed`` (every status but ``fixed``
  ignored), the ignore file (``.trivyignore``: an ID per line, optional ``exp:YYYY-MM-DD``, an
  expired entry pruned, an unparsable date a warning and the line skipped; ``.yaml``: the
  ``vulnerabilities`` list with ``id``, ``statement``, ``expired_at``); ignored findings go to
  ``ExperimentalModifiedFindings``;
- pkg/types/report.go, vulnerability.go: the JSON report; pkg/report/sarif.go: the SARIF report
  (one rule per vulnerability ID, levels error/warning/note by severity, ``ROOTPATH`` locations);
  pkg/report/cyclonedx: a CycloneDX SBOM of the packages;
- pkg/commands/operation/operation.go (Exit) and cmd/trivy/main.go: ``--exit-code N`` when a result
  still holds findings; a fatal error is logged and exits 1.

The stand-in's ``trivy.db`` is JSON, not BoltDB: ``{"advisories": {"<package>": [{"id", "vulnerable":
[versions], "fixed", "severity", "title"}]}}``. Every argv is appended to ``$TRIVY_STANDIN_LOG``.
``$TRIVY_STANDIN_HOSTS`` (``mirror.gcr.io=127.0.0.1:5000,...``) plays name resolution for the DB
download: a host so named is reached at that loopback address instead, as a runner's network
would reach ``mirror.gcr.io``; the repository, the tag and the reference Trivy reports stay the
ones it was given (for runs whose DB repository is Trivy's default, tests/workflows).
"""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import sys
import tarfile
import tempfile
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # tests/, for support.ocidist
from support import ocidist  # noqa: E402

VERSION = "0.70.0"
SEVERITIES = ("UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL")
DB_MEDIA = "application/vnd.aquasec.trivy.db.layer.v1.tar+gzip"
DEFAULT_DB = ("mirror.gcr.io/aquasec/trivy-db:2", "ghcr.io/aquasecurity/trivy-db:2")
FORMATS = ("table", "json", "template", "sarif", "cyclonedx", "spdx", "spdx-json", "github", "cosign-vuln")
VALUE_FLAGS = {"format": "f", "output": "o", "severity": "s", "exit-code": None, "ignorefile": None,
               "cache-dir": None, "db-repository": None, "image-src": None, "platform": None, "input": None,
               "timeout": None, "config": "c", "scanners": None, "pkg-types": None}
BOOL_FLAGS = {"ignore-unfixed", "skip-db-update", "quiet", "no-progress", "list-all-pkgs", "debug"}
SHORT = {v: k for k, v in VALUE_FLAGS.items() if v} | {"q": "quiet", "d": "debug"}


class Fatal(Exception):
    pass


def log(level: str, message: str) -> None:
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    print(f"{stamp}\t{level}\t{message}", file=sys.stderr)


# ------------------------------------------------------------------ options: flags, TRIVY_* and trivy.yaml

def parse_args(argv: list[str]) -> tuple[dict, list[str]]:
    given: dict = {}
    positional: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg.startswith("-") and arg != "-":
            name, eq, value = arg.lstrip("-").partition("=")
            name = SHORT.get(name, name)
            if name in BOOL_FLAGS:
                given[name] = (value or "true").lower() == "true"
            elif name in VALUE_FLAGS:
                if not eq:
                    i += 1
                    if i >= len(argv):
                        raise Fatal(f"flag needs an argument: --{name}")
                    value = argv[i]
                given[name] = value
            else:
                raise Fatal(f"unknown flag: --{name}")
        else:
            positional.append(arg)
        i += 1
    return given, positional


def options(given: dict) -> dict:
    """Flags win over TRIVY_* variables, which win over trivy.yaml, which wins over the defaults."""
    config_path = Path(str(given.get("config") or os.environ.get("TRIVY_CONFIG") or "trivy.yaml"))
    config: dict = {}
    if config_path.is_file():
        import yaml  # the stand-in runs with the test interpreter, which has PyYAML

        loaded = yaml.safe_load(config_path.read_text(encoding="utf-8")) or {}
        flat = {"severity": loaded.get("severity"), "exit-code": loaded.get("exit-code"),
                "ignorefile": loaded.get("ignorefile"), "format": loaded.get("format"),
                "ignore-unfixed": (loaded.get("vulnerability") or {}).get("ignore-unfixed")}
        config = {k: v for k, v in flat.items() if v is not None}
        if isinstance(config.get("severity"), list):
            config["severity"] = ",".join(config["severity"])
    defaults = {"format": "table", "severity": ",".join(SEVERITIES), "exit-code": "0", "ignorefile": ".trivyignore",
                "cache-dir": str(Path.home() / ".cache" / "trivy"), "db-repository": ",".join(DEFAULT_DB),
                "scanners": "vuln,secret", "ignore-unfixed": False, "skip-db-update": False}
    out = dict(defaults)
    out.update(config)
    for name in [*VALUE_FLAGS, *BOOL_FLAGS]:
        env = os.environ.get("TRIVY_" + name.upper().replace("-", "_"))
        if env is not None and name != "config":
            out[name] = env.lower() == "true" if name in BOOL_FLAGS else env
    out.update(given)
    for name in BOOL_FLAGS:
        if isinstance(out.get(name), str):
            out[name] = out[name].lower() == "true"
    return out


# ------------------------------------------------------------------ the vulnerability DB

def load_db(opts: dict) -> tuple[dict, dict]:
    db_dir = Path(opts["cache-dir"]) / "db"
    db_file, meta_file = db_dir / "trivy.db", db_dir / "metadata.json"
    if not (db_file.is_file() and meta_file.is_file()):
        if opts["skip-db-update"]:
            log("ERROR", "The first run cannot skip downloading DB")
            raise Fatal("init error: DB error: failed to download vulnerability DB: database error: --skip-db-update "
                        "cannot be specified on the first run")
        download_db(opts, db_dir)
    try:
        table = json.loads(db_file.read_text(encoding="utf-8"))
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
        if not isinstance(table.get("advisories"), dict):
            raise ValueError("no advisories bucket")
    except (OSError, ValueError, AttributeError) as exc:
        raise Fatal(f"init error: DB error: error in vulnerability DB initialize: failed to open db: {exc}") from None
    return table, meta


def resolve(host: str) -> str:
    """Where ``host`` is reached: ``$TRIVY_STANDIN_HOSTS`` maps a registry host to a loopback one."""
    for entry in os.environ.get("TRIVY_STANDIN_HOSTS", "").split(","):
        name, _, address = entry.strip().partition("=")
        if name == host and address:
            return address
    return host


def download_db(opts: dict, db_dir: Path) -> None:
    errors = []
    for repo in [r.strip() for r in str(opts["db-repository"]).split(",") if r.strip()]:
        log("INFO", f"[vulndb] Downloading vulnerability DB... repository=\"{repo}\"")
        try:
            host, name, ident = ocidist.split_reference(repo)
            client = ocidist.Client(resolve(host), timeout=20)
            got = client.get_manifest(name, ident)
            if got is None:
                raise ocidist.RegistryError(f"{repo}: MANIFEST_UNKNOWN", 404)
            layers = [lay for lay in json.loads(got.body).get("layers") or [] if lay.get("mediaType") == DB_MEDIA]
            if not layers:
                raise ocidist.RegistryError(f"{repo}: no layer of media type {DB_MEDIA}")
            blob = client.get_blob(name, layers[0]["digest"])
            db_dir.mkdir(parents=True, exist_ok=True)
            with tarfile.open(fileobj=io.BytesIO(blob), mode="r:gz") as tar:
                for member in tar.getmembers():
                    if member.name in ("trivy.db", "metadata.json") and member.isfile():
                        (db_dir / member.name).write_bytes(tar.extractfile(member).read())
            meta = json.loads((db_dir / "metadata.json").read_text())
            meta["DownloadedAt"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            (db_dir / "metadata.json").write_text(json.dumps(meta))
            return
        except (ocidist.RegistryError, tarfile.TarError, OSError, ValueError) as exc:
            log("ERROR", f"[vulndb] Failed to download artifact repo=\"{repo}\" err=\"{exc}\"")
            errors.append(str(exc))
    raise Fatal("init error: DB error: failed to download vulnerability DB: OCI artifact error: failed to download "
                f"vulnerability DB: {'; '.join(errors) or 'no repository'}")


# ------------------------------------------------------------------ the image

def default_platform() -> str:
    machine = os.uname().machine
    return "linux/arm64" if machine in ("aarch64", "arm64") else "linux/amd64"


def _pick(index: dict, platform: str, fetch) -> dict:
    wanted_os, _, wanted_arch = platform.partition("/")
    for desc in index.get("manifests") or []:
        plat = desc.get("platform") or {}
        if plat.get("os") == wanted_os and plat.get("architecture") == wanted_arch:
            return json.loads(fetch(desc["digest"]))
    raise Fatal(f"run error: image scan error: unable to initialize a scan service: unable to initialize an image "
                f"artifact: no child with platform {platform} in index")


def read_image(opts: dict, target: str) -> tuple[dict, list[bytes], str]:
    """``(config, layer blobs, name)`` of the image to scan."""
    platform = str(opts.get("platform") or default_platform())
    if opts.get("input"):
        with tempfile.TemporaryDirectory() as tmp:
            try:
                with tarfile.open(str(opts["input"])) as tar:
                    tar.extractall(tmp, filter="data")
            except (OSError, tarfile.TarError) as exc:
                raise Fatal(f"run error: image scan error: unable to open {opts['input']} as an OCI archive: {exc}") from None
            root = Path(tmp)

            def blob(digest: str) -> bytes:
                return (root / "blobs" / "sha256" / digest.split(":", 1)[1]).read_bytes()

            top = json.loads((root / "index.json").read_text())["manifests"][0]
            doc = json.loads(blob(top["digest"]))
            manifest = _pick(doc, platform, blob) if "manifests" in doc else doc
            config = json.loads(blob(manifest["config"]["digest"]))
            return config, [blob(layer["digest"]) for layer in manifest["layers"]], str(opts["input"])
    try:
        host, repo, ident = ocidist.split_reference(target)
        client = ocidist.Client(host)
        got = client.get_manifest(repo, ident)
        if got is None:
            raise Fatal(f"run error: image scan error: unable to inspect the image ({target}): MANIFEST_UNKNOWN")

        def fetch(digest: str) -> bytes:
            answer = client.get_manifest(repo, digest)
            if answer is None:
                raise Fatal(f"run error: image scan error: manifest {digest} is unknown")
            return answer.body

        doc = json.loads(got.body)
        manifest = _pick(doc, platform, fetch) if "manifests" in doc else doc
        config = json.loads(client.get_blob(repo, manifest["config"]["digest"]))
        return config, [client.get_blob(repo, layer["digest"]) for layer in manifest["layers"]], target
    except ocidist.RegistryError as exc:
        raise Fatal(f"run error: image scan error: unable to inspect the image ({target}): {exc}") from None


def analyse(layers: list[bytes]) -> tuple[str, dict[str, str]]:
    """``(alpine release, {package: version})``; the last layer that has a file wins."""
    files: dict[str, bytes] = {}
    for blob in layers:
        data = gzip.decompress(blob) if blob[:2] == b"\x1f\x8b" else blob
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            for member in tar.getmembers():
                name = member.name.lstrip("./")
                if member.isfile() and name in ("etc/alpine-release", "lib/apk/db/installed",
                                                "usr/lib/apk/db/installed"):
                    files[name] = tar.extractfile(member).read()
    release = files.get("etc/alpine-release", b"").decode().strip()
    packages: dict[str, str] = {}
    text = (files.get("lib/apk/db/installed") or files.get("usr/lib/apk/db/installed") or b"").decode()
    name = ""
    for line in text.splitlines():
        if line.startswith("P:"):
            name = line[2:]
        elif line.startswith("V:") and name:
            packages[name] = line[2:]
    return release, packages


# ------------------------------------------------------------------ filtering (pkg/result)

def parse_ignorefile(path: str) -> list[dict]:
    file = Path(path)
    if not file.exists():
        return []
    now = datetime.now(UTC)
    entries = []
    if file.suffix in (".yaml", ".yml"):
        import yaml

        try:
            doc = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise Fatal(f"{path} parse error: yaml decode error: {exc}") from None
        for item in doc.get("vulnerabilities") or []:
            expiry = item.get("expired_at")
            when = datetime.combine(expiry, datetime.min.time(), UTC) if hasattr(expiry, "year") else None
            entries.append({"id": str(item.get("id", "")), "statement": str(item.get("statement") or ""),
                            "expires": when})
    else:
        for raw in file.read_text(encoding="utf-8").splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            fields = line.split()
            expires = None
            for field in fields[1:]:
                if field.startswith("exp:"):
                    try:
                        expires = datetime.strptime(field[4:], "%Y-%m-%d").replace(tzinfo=UTC)
                    except ValueError as exc:
                        log("WARN", f"Error while parsing expiration date in .trivyignore file err=\"{exc}\"")
                        expires = "bad"
            if expires == "bad":
                continue
            entries.append({"id": fields[0], "statement": "", "expires": expires})
    return [e for e in entries if not (e["expires"] and e["expires"] < now)]


def detect(opts: dict, table: dict, release: str, packages: dict[str, str], target: str) -> list[dict]:
    if not release:
        log("WARN", "OS is not detected and vulnerabilities in OS packages are not detected.")
        return []
    severities = [s.strip().upper() for s in str(opts["severity"]).split(",") if s.strip()]
    for severity in severities:
        if severity not in SEVERITIES:
            raise Fatal(f"flag error: severity: unknown severity option: {severity}")
    ignores = parse_ignorefile(str(opts["ignorefile"]))
    vulns, modified = [], []
    for name, version in sorted(packages.items()):
        for adv in table["advisories"].get(name) or []:
            if version not in adv.get("vulnerable", []):
                continue
            status = "fixed" if adv.get("fixed") else "affected"
            vuln = {"VulnerabilityID": adv["id"], "PkgID": f"{name}@{version}", "PkgName": name,
                    "PkgIdentifier": {"PURL": f"pkg:apk/alpine/{name}@{version}?distro={release}"},
                    "InstalledVersion": version, "FixedVersion": adv.get("fixed", ""), "Status": status,
                    "SeveritySource": "nvd", "PrimaryURL": f"https://avd.aquasec.com/nvd/{adv['id'].lower()}",
                    "Title": adv.get("title", ""), "Description": adv.get("title", ""),
                    "Severity": adv.get("severity", "UNKNOWN")}
            if not vuln["FixedVersion"]:
                del vuln["FixedVersion"]
            if vuln["Severity"] not in severities:
                continue
            if opts["ignore-unfixed"] and status != "fixed":
                continue
            hit = next((e for e in ignores if e["id"] == adv["id"]), None)
            if hit:
                modified.append({"Type": "vulnerability", "Status": "ignored", "Statement": hit["statement"],
                                 "Source": str(opts["ignorefile"]), "Finding": vuln})
                continue
            vulns.append(vuln)
    result = {"Target": f"{target} (alpine {release})", "Class": "os-pkgs", "Type": "alpine",
              "Packages": [{"ID": f"{n}@{v}", "Name": n, "Version": v,
                            "Identifier": {"PURL": f"pkg:apk/alpine/{n}@{v}?distro={release}"}}
                           for n, v in sorted(packages.items())]}
    if vulns:
        result["Vulnerabilities"] = vulns
    if modified:
        result["ExperimentalModifiedFindings"] = modified
    return [result]


# ------------------------------------------------------------------ reports

def json_report(target: str, config: dict, release: str, results: list[dict]) -> dict:
    report = {"SchemaVersion": 2, "Trivy": {"Version": VERSION}, "ReportID": str(uuid.uuid4()),
              "CreatedAt": datetime.now(UTC).isoformat(), "ArtifactName": target,
              "ArtifactType": "container_image",
              "Metadata": {"ImageID": ocidist.sha256(json.dumps(config).encode()),
                           "RepoDigests": [target] if "@" in target else [], "ImageConfig": config}}
    if release:
        report["Metadata"]["OS"] = {"Family": "alpine", "Name": release}
    if results:
        report["Results"] = results
    return report


def level(severity: str) -> str:
    return {"CRITICAL": "error", "HIGH": "error", "MEDIUM": "warning", "LOW": "note", "UNKNOWN": "note"}.get(
        severity, "none")


def sarif_report(report: dict) -> dict:
    rules, results, index = [], [], {}
    for res in report.get("Results") or []:
        path = re.sub(r"\s*\(.*\)$", "", res["Target"])
        if "@" in path or ":" in path.rsplit("/", 1)[-1]:
            path = path.split("@")[0].split("/", 1)[-1]  # ToPathUri: the repository of an image reference
        for v in res.get("Vulnerabilities") or []:
            vid = v["VulnerabilityID"]
            if vid not in index:
                index[vid] = len(rules)
                rules.append({"id": vid, "name": "OsPackageVulnerability", "shortDescription": {"text": v["Title"]},
                              "fullDescription": {"text": v["Description"] or v["Title"]},
                              "defaultConfiguration": {"level": level(v["Severity"])},
                              "helpUri": v["PrimaryURL"],
                              "help": {"text": f"Vulnerability {vid}\nSeverity: {v['Severity']}\nPackage: "
                                               f"{v['PkgName']}\nFixed Version: {v.get('FixedVersion', '')}",
                                       "markdown": f"**Vulnerability {vid}**"},
                              "properties": {"precision": "very-high", "security-severity": "9.8",
                                             "tags": ["vulnerability", "security", v["Severity"]]}})
            results.append({"ruleId": vid, "ruleIndex": index[vid], "level": level(v["Severity"]),
                            "message": {"text": f"Package: {v['PkgName']}\nInstalled Version: "
                                                f"{v['InstalledVersion']}\nVulnerability {vid}\nSeverity: "
                                                f"{v['Severity']}\nFixed Version: {v.get('FixedVersion', '')}"},
                            "locations": [{"physicalLocation": {
                                "artifactLocation": {"uri": path, "uriBaseId": "ROOTPATH"},
                                "region": {"startLine": 1, "startColumn": 1, "endLine": 1, "endColumn": 1}},
                                "message": {"text": f"{path}: {v['PkgName']}@{v['InstalledVersion']}"}}]})
    return {"version": "2.1.0", "$schema": "https://raw.githubusercontent.com/oasis-tcs/sarif-spec/main/sarif-2.1/"
            "schema/sarif-schema-2.1.0.json",
            "runs": [{"tool": {"driver": {"fullName": "Trivy Vulnerability Scanner", "informationUri":
                                          "https://github.com/aquasecurity/trivy", "name": "Trivy", "rules": rules,
                                          "version": VERSION}},
                      "results": results, "columnKind": "utf16CodeUnits",
                      "originalUriBaseIds": {"ROOTPATH": {"uri": "file:///"}},
                      "properties": {"imageName": report["ArtifactName"], "repoTags": None,
                                     "repoDigests": report["Metadata"].get("RepoDigests"),
                                     "imageID": report["Metadata"].get("ImageID")}}]}


def cyclonedx_report(report: dict) -> dict:
    components = [{"bom-ref": p["Identifier"]["PURL"], "type": "library", "name": p["Name"], "version": p["Version"],
                   "purl": p["Identifier"]["PURL"]}
                  for res in report.get("Results") or [] for p in res.get("Packages") or []]
    return {"$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json", "bomFormat": "CycloneDX",
            "specVersion": "1.6", "serialNumber": f"urn:uuid:{uuid.uuid4()}", "version": 1,
            "metadata": {"timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00"),
                         "tools": {"components": [{"type": "application", "group": "aquasecurity", "name": "trivy",
                                                   "version": VERSION}]},
                         "component": {"bom-ref": report["ArtifactName"], "type": "container",
                                       "name": report["ArtifactName"]}},
            "components": components, "dependencies": []}


# ------------------------------------------------------------------ the command

def cmd_image(argv: list[str]) -> int:
    given, positional = parse_args(argv)
    opts = options(given)
    if opts["format"] not in FORMATS:
        raise Fatal(f"flag error: report flag error: invalid argument \"{opts['format']}\" for \"--format\" flag")
    if opts["format"] not in ("table", "json", "sarif", "cyclonedx"):
        raise Fatal(f"the stand-in does not simulate --format {opts['format']}")
    if not opts.get("input") and len(positional) != 1:
        raise Fatal('"trivy image" requires at least 1 argument or --input option')
    try:
        exit_code = int(str(opts["exit-code"]))
    except ValueError:
        raise Fatal(f"flag error: invalid argument \"{opts['exit-code']}\" for \"--exit-code\" flag") from None
    table, _ = load_db(opts)
    target = str(opts.get("input") or positional[0])
    config, layers, name = read_image(opts, target)
    release, packages = analyse(layers)
    report = json_report(name, config, release, detect(opts, table, release, packages, name))
    if opts["format"] == "json":
        text = json.dumps(report, indent=2)
    elif opts["format"] == "sarif":
        text = json.dumps(sarif_report(report), indent=2)
    elif opts["format"] == "cyclonedx":
        text = json.dumps(cyclonedx_report(report), indent=2)
    else:
        text = "\n".join(f"{v['PkgName']} {v['VulnerabilityID']} {v['Severity']}"
                         for r in report.get("Results") or [] for v in r.get("Vulnerabilities") or []) + "\n"
    if opts.get("output"):
        Path(str(opts["output"])).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    failed = any(r.get("Vulnerabilities") for r in report.get("Results") or [])
    return exit_code if exit_code and failed else 0


def main(argv: list[str]) -> int:
    log_file = os.environ.get("TRIVY_STANDIN_LOG")
    if log_file:
        with open(log_file, "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"argv": argv, "cwd": os.getcwd(),
                                     "trivy_env": sorted(k for k in os.environ if k.startswith("TRIVY_")
                                                         and not k.startswith("TRIVY_STANDIN_")),
                                     "env": sorted(os.environ)}) + "\n")
    if argv[:1] == ["--version"] or argv[:1] == ["version"]:
        print(f"Version: {VERSION}")
        return 0
    if not argv or argv[0] not in ("image", "i"):
        print(f"Error: unknown command {argv[0] if argv else ''!r} for \"trivy\"", file=sys.stderr)
        return 1
    try:
        return cmd_image(argv[1:])
    except Fatal as exc:
        log("FATAL", f"Fatal error\t{exc}")
        return 1


def db_layer(advisories: dict, raw_db: bytes | None = None) -> bytes:
    """The layer of a stand-in DB artifact for the tests to push (``raw_db`` replaces ``trivy.db``)."""
    now = datetime.now(UTC)
    meta = {"Version": 2, "NextUpdate": (now + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "UpdatedAt": now.strftime("%Y-%m-%dT%H:%M:%SZ")}
    db = raw_db if raw_db is not None else json.dumps({"advisories": advisories}).encode()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in (("trivy.db", db), ("metadata.json", json.dumps(meta).encode())):
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(data), 0
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(buf.getvalue(), mtime=0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
