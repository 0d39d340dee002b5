"""The logic of the build-push action: validate inputs, check the pushed digest, sign and verify it.

Each subcommand is one step of ``action.yml``; the docker/* and sigstore/cosign-installer steps between
them do the building and installing. Standard library only: it runs with the runner's ``python3``.

    plan             validate the inputs; decide push, login, tag rules, cache, scan and signing
    digest           check the digest docker/build-push-action reported; form ``name@sha256:...``
    install-scanner  the pinned Trivy, checked by SHA-256 (scanning.py)
    scan             scan the image by digest; counts, SARIF, the gate (scanning.py)
    sign             ``cosign sign --yes [--key K] NAME@sha256:...`` (never a tag), only what passed
    verify           ``cosign verify`` with the workflow's identity and the caller's binding, or the key
    attest           ``cosign attest`` the scan, SBOM and provenance by digest; ``cosign verify-attestation``
    summary          the job summary: digest, scan, the exact verify commands
    reason           record the failure of a ``uses:`` step (``build_push.py reason build-failed``)
"""

from __future__ import annotations

import base64
import contextlib
import fnmatch
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

# python3 -I puts neither the working directory nor this script's directory on sys.path: both by name
sys.path[:0] = [str(Path(__file__).resolve().parent.parent / "_lib"), str(Path(__file__).resolve().parent)]
import actionkit  # noqa: E402
import inputs  # noqa: E402
import scanning  # noqa: E402 (beside this file)
from actionkit import ActionFailure, env, set_output  # noqa: E402

DIGEST_RE = re.compile(r"^sha256:[0-9a-f]{64}$")
# The repository part of a Docker reference (distribution/reference grammar), lowercase path components.
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_HOST = r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?"
NAME_RE = re.compile(rf"^(?:(?P<host>{_HOST})/)?(?P<path>{_COMPONENT}(?:/{_COMPONENT})*)$")
PLATFORM_RE = re.compile(r"^[a-z0-9]+/[a-z0-9_]+(?:/[a-z0-9]+)?$")
VERSION_RE = re.compile(r"^v([0-9]+)\.([0-9]+)\.([0-9]+)$")
KMS_RE = re.compile(r"^(?:awskms|gcpkms|azurekms|hashivault)://\S+$")
ENV_KEY_RE = re.compile(r"^env://[A-Za-z_][A-Za-z0-9_]*$")
FLAVOR_KEYS = ("latest", "prefix", "suffix")
# Events whose builds are never pushed: the code comes from a pull request (or a merge queue candidate).
NO_PUSH_EVENTS = ("pull_request", "pull_request_target", "merge_group")
GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
SIGN_PREDICATE = "https://sigstore.dev/cosign/sign/v1"  # cosign v3's signature statement (sign.go)
LEGACY_SIGNATURE = "cosign container image signature"  # the simple-signing payload of cosign v1/v2
# what `attest` can attach: cosign --type, the predicate type it becomes (options/predicate.go)
ATTESTATIONS = {"vuln": ("vuln", "https://cosign.sigstore.dev/attestation/vuln/v1"),
                "sbom": ("cyclonedx", "https://cyclonedx.org/bom"),
                "provenance": ("slsaprovenance02", "https://slsa.dev/provenance/v0.2")}
# The only registry the job's own GITHUB_TOKEN is ever sent to.
JOB_TOKEN_REGISTRY = "ghcr.io"
COMMAND_TIMEOUT = 600

# The tags every image gets (docker/metadata-action rules); `tags` adds to them.
BASE_TAG_RULES = (
    "type=ref,event=branch",
    "type=ref,event=pr",
    "type=semver,pattern={{version}}",
    "type=semver,pattern={{major}}.{{minor}}",
)


# ------------------------------------------------------------------ plan

def split_list(text: str) -> list[str]:
    """Items of a list passed between steps: separated by newlines or commas, blanks dropped."""
    return [item.strip() for item in re.split(r"[,\n]", text) if item.strip()]


def image_parts(image: str) -> tuple[str, str, bool]:
    """``(registry, path, explicit)`` of an image name; Docker Hub when the first component is not a host."""
    if "@" in image or ":" in image.rsplit("/", 1)[-1]:
        raise ActionFailure("invalid-input", f'image "{image}" must be a name without a tag or digest, like ghcr.io/org/app')
    match = NAME_RE.match(image)
    if not match:
        raise ActionFailure("invalid-input", f'image "{image}" is not a valid image name (lowercase, like ghcr.io/org/app)')
    host, path = match.group("host"), match.group("path")
    if host and ("." in host or ":" in host or host == "localhost"):
        return host, path, True
    return "docker.io", image, False  # `org/app`: the first component is a Docker Hub namespace


def same_registry(a: str, b: str) -> bool:
    hub = {"docker.io", "index.docker.io", "registry-1.docker.io"}
    a, b = a.lower(), b.lower()
    return a == b or (a in hub and b in hub)


def lower_case(image: str) -> str:
    """Registries keep repository names in lower case (as docker/metadata-action writes them), while
    ``ghcr.io/${{ github.repository }}`` keeps the owner's and repository's capitals: a name that is
    valid once lower-cased is lower-cased, with a notice; anything else is left for image_parts to refuse."""
    lowered = image.lower()
    if lowered != image and not NAME_RE.match(image) and NAME_RE.match(lowered):
        actionkit.annotate("notice", f"image name lower-cased to {lowered} (registries require lower-case names)")
        return lowered
    return image


def tag_rules(ref: str) -> str:
    """docker/metadata-action ``tags`` rules: branch, pull request, semver and sha, then the caller's."""
    rules = list(BASE_TAG_RULES)
    # metadata-action's documented advice: no `0` tag for major version zero.
    major_zero = re.match(r"^refs/tags/v?0\.", ref) is not None
    rules.append(f"type=semver,pattern={{{{major}}}},enable={'false' if major_zero else 'true'}")
    rules.append("type=sha")
    for line in inputs.items("tags"):
        if not line.startswith("type="):
            raise inputs.invalid_item("tags", line, 'a docker/metadata-action rule starting with "type="')
        rules.append(line)
    return "\n".join(rules)


def check_flavor() -> str:
    for line in inputs.items("flavor"):
        if line.split("=", 1)[0] not in FLAVOR_KEYS:
            raise inputs.invalid_item("flavor", line, f"a line that sets one of {', '.join(FLAVOR_KEYS)} (key=value)")
    return inputs.text("flavor")


def cosign_version() -> str:
    value = inputs.matching("cosign-version", VERSION_RE, "a release tag like v3.1.2")
    if int(value[1:].split(".")[0]) < 2:
        raise inputs.invalid("cosign-version", "v2.0.0 or later (cosign-installer installs nothing older than v2.0.0)",
                             value)
    return value


def sign_mode(key: str) -> str:
    """``keyless``, ``kms``, ``env`` or ``pem``; the key itself is a secret and never appears in a message."""
    if not key:
        return "keyless"
    if KMS_RE.match(key):
        return "kms"
    if ENV_KEY_RE.match(key):  # cosign's env://NAME: a PEM key the caller put in the step's environment
        return "env"
    if key.startswith("-----BEGIN ") and "PRIVATE KEY-----" in key:
        return "pem"
    raise ActionFailure("invalid-input", "cosign-key must be a KMS URI (awskms://, gcpkms://, azurekms://, "
                        "hashivault://), env://NAME, or a PEM private key from `cosign generate-key-pair`")


def check_public_key(value: str) -> None:
    """``cosign-public-key`` is the PEM content; a path (an easy mistake) is refused, never written anywhere."""
    if not value:
        return
    if not (value.startswith("-----BEGIN PUBLIC KEY-----") and value.rstrip().endswith("-----END PUBLIC KEY-----")):
        shown = value if len(value) <= 80 and "\n" not in value else value[:40] + "..."
        raise ActionFailure("invalid-input", f'cosign-public-key must be the PEM public key (-----BEGIN PUBLIC KEY----- '
                            f'... -----END PUBLIC KEY-----), not a path or anything else: got "{shown}"')


SIGN_REF_RE = re.compile(r"^refs/(?:heads|tags)/[A-Za-z0-9._/*?\[\]+-]+$")


def sign_ref_patterns() -> list[str]:
    patterns = inputs.items("sign-refs", separators=",")
    for pattern in patterns:
        if not SIGN_REF_RE.match(pattern) or ".." in pattern:
            raise inputs.invalid_item("sign-refs", pattern, "a branch or tag ref pattern like refs/heads/release/* or"
                                      " refs/tags/v*")
    return patterns


def unsigned_reason(ref: str, default_branch: str, patterns: list[str]) -> str:
    """Why a pushed image of ``ref`` is not signed; empty when it is. A signature certifies the ref that
    built the image: the default branch and tags by default, the ``sign-refs`` patterns besides."""
    if ref.startswith("refs/tags/") or (default_branch and ref == f"refs/heads/{default_branch}"):
        return ""
    if any(fnmatch.fnmatchcase(ref, pattern) for pattern in patterns):
        return ""
    if not default_branch and ref.startswith("refs/heads/"):
        return (f"the event names no default branch, so {ref} is not known to be it; add it to sign-refs "
                "to sign it")
    return f"{ref or 'this ref'} is neither the default branch nor a tag (sign-refs widens what is signed)"


def cache_scope(path: str) -> str:
    """One GitHub cache scope per image, so two images built by one repository do not evict each other."""
    return "build-push-" + re.sub(r"[^a-z0-9._-]+", "-", path)


def plan() -> None:
    image = inputs.text("image")
    if not image:
        raise ActionFailure("invalid-input", "image is required, like ghcr.io/org/app")
    image = lower_case(image)
    host, path, explicit = image_parts(image)
    registry = inputs.text("registry") or host
    if explicit and not same_registry(registry, host):
        raise ActionFailure("invalid-input", f'registry "{registry}" is not the registry of image "{image}" ({host})')
    if not explicit and not same_registry(registry, host):
        raise ActionFailure("invalid-input", f'image "{image}" names no registry (Docker Hub) but registry is '
                            f'"{registry}": write the registry into the image ({registry}/{path}) or set registry '
                            "to docker.io")
    username, has_password = inputs.text("username"), inputs.boolean("has-password")
    if username and not has_password:
        raise ActionFailure("invalid-input", "password is required when username is set")
    if has_password and not username:
        raise ActionFailure("invalid-input", "username is required when password is set")
    push_input = inputs.choice("push", ("auto", "false"), "auto")
    event = env("GITHUB_EVENT_NAME")
    push = push_input == "auto" and event not in NO_PUSH_EVENTS
    if inputs.boolean("password-is-job-token") and registry.lower() != JOB_TOKEN_REGISTRY:
        raise ActionFailure("invalid-input", f'password is this job\'s GITHUB_TOKEN, which is only ever sent to '
                            f'{JOB_TOKEN_REGISTRY}; registry "{registry}" needs its own credentials')
    if push and not username and inputs.boolean("require-login"):
        raise ActionFailure("credentials-missing", f'registry "{registry}" needs credentials to push {image}: give '
                            "username and password (container.yml: the registry-username and registry-password "
                            f"secrets); the job's token is only used for {JOB_TOKEN_REGISTRY}")
    platforms = inputs.items("platforms", separators=",")
    for platform in platforms:
        if not PLATFORM_RE.match(platform):
            raise inputs.invalid_item("platforms", platform, "a platform like linux/amd64 or linux/arm/v7")
    provenance, sbom = inputs.boolean("provenance", True), inputs.boolean("sbom", False)
    cache, sign = inputs.boolean("cache", True), inputs.boolean("sign", True)
    mode = sign_mode(inputs.text("cosign-key"))
    version = cosign_version()
    check_public_key(inputs.text("cosign-public-key"))
    inputs.url("certificate-identity", base=False)
    inputs.url("certificate-oidc-issuer", GITHUB_ISSUER, base=False)
    patterns = sign_ref_patterns()
    not_signed = unsigned_reason(env("GITHUB_REF"), env("DEFAULT_BRANCH"), patterns) if push and sign else ""
    signing = push and sign and not not_signed
    if not_signed:
        actionkit.annotate("notice", f"not signing: {not_signed}")
    if signing and mode == "keyless" and not env("ACTIONS_ID_TOKEN_REQUEST_URL"):
        raise ActionFailure("id-token-missing", "keyless signing needs an OIDC token: give the job the permission "
                            "`id-token: write`, or sign with cosign-key")
    scan = inputs.boolean("scan", True)
    gate = scanning.severities()
    inputs.boolean("ignore-unfixed")
    fail_on = inputs.choice("fail-on", ("fail", "warn"), "fail")
    if scan and inputs.text("ignore-file"):  # checked before anything is built; the scan checks it again
        with tempfile.TemporaryDirectory() as work:
            scanning.checked_ignore_file(Path(work))
    scanning.db_repository()
    attest = []
    wanted = inputs.items("attest", separators=",") if "INPUT_ATTEST" in os.environ else list(ATTESTATIONS)
    for item in wanted:  # an empty attest input attests nothing
        if item not in ATTESTATIONS:
            raise inputs.invalid_item("attest", item, f"one of {', '.join(ATTESTATIONS)}")
        if (item in ("vuln", "sbom") and not scan) or (item == "provenance" and not provenance):
            actionkit.annotate("notice", f"not attesting {item}: " + ("provenance is off" if item == "provenance"
                                                                     else "scan is off (Trivy makes it)"))
            continue
        attest.append(item)
    upload = inputs.boolean("upload-sarif", True) and scan
    head_repo = env("PR_HEAD_REPOSITORY")
    if upload and head_repo and head_repo.lower() != env("GITHUB_REPOSITORY").lower():
        actionkit.annotate("notice", "the scan's SARIF is not uploaded: a pull request from a fork gets a read-only "
                           "token (the report is in the scan-sarif output)")
        upload = False
    oci_output = ""
    if scan and not push:  # built, not pushed: exported as an OCI archive, scanned from it
        oci_output = str(Path(tempfile.mkdtemp(prefix="build-push-image-", dir=env("RUNNER_TEMP") or None))
                         / "image.tar")
    outputs = {
        "image": image, "registry": registry, "login": str(bool(username)).lower(),
        "push": str(push).lower(), "event": event, "tag-rules": tag_rules(env("GITHUB_REF")),
        "flavor": check_flavor(), "provenance": str(provenance).lower(),
        "sbom": str(sbom).lower(),
        # a build that publishes never reads the cache: any run of the branch can write an entry,
        # and its layers would go into the published image (it still writes one for pull requests)
        "cache-from": f"type=gha,scope={cache_scope(path)}" if cache and not push else "",
        "cache-to": f"type=gha,mode=max,scope={cache_scope(path)}" if cache else "",
        "sign": str(signing).lower(), "sign-mode": mode, "cosign-version": version,
        "unsigned-reason": not_signed,
        "scan": str(scan).lower(), "severity": ",".join(gate), "fail-on": fail_on,
        "upload-sarif": str(upload).lower(), "sarif-category": f"build-push/{image}",
        "attest": ",".join(attest) if signing else "", "platforms": ",".join(platforms),
        "outputs": f"type=oci,dest={oci_output}" if oci_output else "", "oci-archive": oci_output,
    }
    for name, value in outputs.items():
        set_output(name, value)
    print(f"image {image}: push={outputs['push']} (event {event or 'unknown'}), scan={outputs['scan']}, "
          f"sign={outputs['sign']} ({mode})")


# ------------------------------------------------------------------ digest

def digest() -> None:
    """The image's digest from docker/build-push-action's ``digest`` output (or its metadata), validated."""
    reported = env("BUILD_DIGEST")
    meta_text = env("BUILD_METADATA")
    from_meta = ""
    if meta_text:
        try:
            meta = json.loads(meta_text)
        except json.JSONDecodeError:
            raise ActionFailure("invalid-digest", "docker/build-push-action's metadata output is not JSON") from None
        if isinstance(meta, dict):
            from_meta = str(meta.get("containerimage.digest") or "").strip()
    value = reported or from_meta
    if not DIGEST_RE.match(value):
        shown = value[:80] or "nothing"
        raise ActionFailure("invalid-digest", f'the build reported digest "{shown}", not sha256:<64 hex digits>')
    if reported and from_meta and reported != from_meta:
        raise ActionFailure("invalid-digest", f"the build's digest {reported} differs from its metadata's {from_meta}")
    image = env("PLAN_IMAGE")
    if env("PLAN_PUSH") == "false":  # built into an OCI archive to be scanned, not pushed
        archive = env("PLAN_OCI_ARCHIVE")
        if not archive or not Path(archive).is_file():
            raise ActionFailure("invalid-digest", "the build wrote no OCI archive to scan")
        set_output("scan-digest", value)
        set_output("scan-input", archive)
        print(f"built {image}@{value} (not pushed)")
        return
    set_output("digest", value)
    set_output("image-ref", f"{image}@{value}")
    set_output("scan-digest", value)
    set_output("scan-target", f"{image}@{value}")
    print(f"pushed {image}@{value}")


# ------------------------------------------------------------------ sign and verify

def image_ref() -> str:
    """The digest reference to sign; a tag is refused, since a tag can move between signing and use."""
    ref = env("IMAGE_REF")
    name, _, dig = ref.partition("@")
    if not name or not DIGEST_RE.match(dig):
        raise ActionFailure("invalid-digest", f'refusing to sign "{ref}": only name@sha256:<digest> is signed')
    return ref


def cosign_env(extra_env: dict[str, str] | None) -> dict[str, str]:
    """The environment for cosign: the ``cosign-password`` input as COSIGN_PASSWORD when given, else the
    COSIGN_PASSWORD the caller's step set (with ``cosign-key: env://NAME``), untouched."""
    result = {**os.environ, **(extra_env or {})}
    password = result.pop("INPUT_COSIGN_PASSWORD", "")
    if password:
        result["COSIGN_PASSWORD"] = password
    return result


def run_cosign(args: list[str], reason: str, extra_env: dict[str, str] | None = None) -> str:
    """Run cosign, echo its output, and turn a failure into ``reason`` with cosign's last error line."""
    print("+ cosign " + " ".join(shlex.quote(a) for a in args), flush=True)
    try:
        proc = subprocess.run(["cosign", *args], capture_output=True, text=True, timeout=COMMAND_TIMEOUT,
                              env=cosign_env(extra_env), stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        raise ActionFailure(reason, "cosign is not on PATH (the cosign-installer step did not run?)") from None
    except subprocess.TimeoutExpired:
        raise ActionFailure(reason, f"cosign {args[0]} did not finish in {COMMAND_TIMEOUT} seconds") from None
    sys.stdout.write(proc.stdout)
    sys.stdout.write(proc.stderr)
    sys.stdout.flush()
    if proc.returncode != 0:
        lines = [line.strip() for line in proc.stderr.splitlines() if line.strip()]
        errors = [line for line in lines if line.startswith("Error:")]  # cosign's own one-line error
        last = (errors or lines or ["no message"])[-1]
        raise ActionFailure(reason, f"cosign {args[0]} failed (exit {proc.returncode}): {last[:300]}")
    return proc.stdout


def key_args(mode: str, key: str) -> tuple[list[str], dict[str, str]]:
    """``--key`` and its environment: a KMS URI as is, a PEM key through ``env://`` (never a file, never argv)."""
    if mode in ("kms", "env"):
        return ["--key", key], {}
    if mode == "pem":
        return ["--key", "env://COSIGN_PRIVATE_KEY"], {"COSIGN_PRIVATE_KEY": key}
    return [], {}


def scan_passed(ref: str) -> None:
    """Sign (and attest) only what the scan of exactly this digest passed."""
    if env("PLAN_SCAN") == "false":
        return
    if env("SCAN_PASSED") != "true" or env("SCAN_DIGEST") != ref.partition("@")[2]:
        raise ActionFailure("vulnerabilities-found" if env("SCAN_PASSED") == "false" else "scan-failed",
                            f"refusing to sign {ref}: no passed scan of this digest")


def sign() -> None:
    ref = image_ref()
    scan_passed(ref)
    mode = env("SIGN_MODE") or "keyless"
    args, extra = key_args(mode, os.environ.get("COSIGN_KEY", "").strip())
    run_cosign(["sign", "--yes", *args, ref], "sign-failed", extra)
    print(f"signed {ref} ({mode})")


def oidc_claims() -> dict:
    """The claims of the job's GitHub OIDC token (audience ``sigstore``, as cosign asks for it).

    Fulcio writes the token's ``job_workflow_ref`` into the certificate's SAN (for a job in a reusable
    workflow that is the reusable workflow, which no ``github`` context property names) and the
    caller's ``repository``, ``ref``, ``sha`` and ``event_name`` into its GitHub extensions
    (fulcio pkg/identity/github/principal.go)."""
    url, token = env("ACTIONS_ID_TOKEN_REQUEST_URL"), env("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
    if not url or not token:
        return {}
    separator = "&" if "?" in url else "?"
    request = urllib.request.Request(f"{url}{separator}audience=sigstore",
                                     headers={"Authorization": f"bearer {token}", "Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (the runner's own URL)
            jwt = json.load(response).get("value", "")
        actionkit.mask(jwt)
        body = jwt.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        return claims if isinstance(claims, dict) else {}
    except (urllib.error.URLError, OSError, ValueError, IndexError, AttributeError):
        return {}


def certificate_identity(claims: dict) -> str:
    explicit = inputs.text("certificate-identity")
    if explicit:
        return explicit
    server = env("GITHUB_SERVER_URL") or "https://github.com"
    claim = str(claims.get("job_workflow_ref") or "")
    if claim:
        return f"{server}/{claim}"
    workflow_ref = env("GITHUB_WORKFLOW_REF")
    if not workflow_ref:
        raise ActionFailure("verify-failed", "cannot tell the certificate identity: no OIDC token claim and no "
                            "GITHUB_WORKFLOW_REF; set certificate-identity")
    actionkit.annotate("warning", "could not read job_workflow_ref from the OIDC token; verifying against "
                       f"the calling workflow {workflow_ref}")
    return f"{server}/{workflow_ref}"


# certificate extension flag -> (token claim, the runner's variable for the same value)
BINDING = (
    ("--certificate-github-workflow-repository", "repository", "GITHUB_REPOSITORY"),
    ("--certificate-github-workflow-ref", "ref", "GITHUB_REF"),
    ("--certificate-github-workflow-sha", "sha", "GITHUB_SHA"),
    ("--certificate-github-workflow-trigger", "event_name", "GITHUB_EVENT_NAME"),
)


def caller_binding(claims: dict) -> list[str]:
    """The flags that bind a keyless signature to the caller's repository, ref, commit and trigger as
    well as to the workflow: every caller of a reusable workflow gets the same SAN, so without them a
    signature made by any repository or branch calling container.yml would pass."""
    args = []
    for flag, claim, variable in BINDING:
        value = str(claims.get(claim) or "") or env(variable)
        if not value:
            raise ActionFailure("verify-failed", f"cannot bind the signature to the caller: no {claim} claim in the "
                                f"OIDC token and no {variable}")
        args += [flag, value]
    return args


def public_key_file(mode: str, key: str) -> Path:
    """A fresh file holding the public key that verifies a PEM-signed image: ``cosign-public-key`` when
    given, else derived from the private key with ``cosign public-key``. Never a fixed name: the caller
    may keep its own ``cosign.pub`` in RUNNER_TEMP. The caller of this function removes the directory."""
    base = env("RUNNER_TEMP") or None
    out = Path(tempfile.mkdtemp(prefix="build-push-key-", dir=base)) / "cosign.pub"
    given = inputs.text("cosign-public-key")
    if given:
        check_public_key(given)
        out.write_text(given + "\n", encoding="utf-8")
    else:  # derived from the private key: proves the signature is the key's, as `cosign public-key` prints it
        args, extra = key_args(mode, key)
        run_cosign(["public-key", *args, "--outfile", str(out)], "verify-failed", extra)
    return out


def check_verified(stdout: str, ref: str) -> None:
    """cosign prints one JSON object per verified signature; one must name exactly this digest."""
    want = ref.partition("@")[2]
    try:
        payloads = json.loads(stdout.strip().splitlines()[-1]) if stdout.strip() else []
    except json.JSONDecodeError:
        raise ActionFailure("verify-failed", "cosign verify printed no JSON list of verified signatures") from None
    found = [(p.get("critical") or {}) for p in payloads if isinstance(p, dict)] if isinstance(payloads, list) else []
    digests = {(c.get("image") or {}).get("docker-manifest-digest") for c in found}
    if want not in digests:
        raise ActionFailure("verify-failed", f"cosign verify found no signature for {want}")
    # cosign v3 counts every verified bundle, attestations by the same identity included: a signature must be there
    if not any((c.get("image") or {}).get("docker-manifest-digest") == want
               and c.get("type") in (SIGN_PREDICATE, LEGACY_SIGNATURE) for c in found):
        raise ActionFailure("verify-failed", f"cosign verify found attestations of {want} but no signature")


@contextlib.contextmanager
def verification(reason: str):
    """``(args for cosign, args to print, public key PEM or "")`` that verify what this job signed: keyless,
    the workflow's identity and the caller's binding; with a key, the key (a PEM key through a fresh
    temporary file, removed afterwards, printed as ``cosign.pub``)."""
    mode = env("SIGN_MODE") or "keyless"
    key = os.environ.get("COSIGN_KEY", "").strip()
    if mode == "keyless":
        claims = oidc_claims()
        identity = certificate_identity(claims)
        issuer = inputs.text("certificate-oidc-issuer", GITHUB_ISSUER)
        args = ["--certificate-identity", identity, "--certificate-oidc-issuer", issuer, *caller_binding(claims)]
        yield args, args, ""
    elif mode == "kms":
        yield ["--key", key], ["--key", key], ""
    else:
        try:
            path = public_key_file(mode, key)
        except ActionFailure as failure:
            raise ActionFailure(reason, failure.message) from None
        try:
            yield ["--key", str(path)], ["--key", "cosign.pub"], path.read_text(encoding="utf-8").strip()
        finally:
            shutil.rmtree(path.parent, ignore_errors=True)


def verify() -> None:
    ref = image_ref()
    with verification("verify-failed") as (args, shown, public_key):
        stdout = run_cosign(["verify", *args, ref], "verify-failed")
    check_verified(stdout, ref)
    finish_verify(shown, ref, public_key)


def finish_verify(shown: list[str], ref: str, public_key: str) -> None:
    command = " ".join(shlex.quote(a) for a in ["cosign", "verify", *shown, ref])
    set_output("signed", "true")
    set_output("verify-command", command)
    if public_key:
        set_output("public-key", public_key)
    print(f"verified: {command}")


# ------------------------------------------------------------------ attest

def provenance_predicates(meta_text: str) -> list[tuple[str, bytes]]:
    """The SLSA v0.2 provenance buildx put in its metadata file, per platform (buildx build/provenance.go:
    ``buildx.build.provenance`` or ``buildx.build.provenance/<platform>``, base64 JSON)."""
    try:
        meta = json.loads(meta_text) if meta_text else {}
    except json.JSONDecodeError:
        raise ActionFailure("attest-failed", "docker/build-push-action's metadata output is not JSON") from None
    out = []
    for key in sorted(k for k in meta if k == "buildx.build.provenance" or k.startswith("buildx.build.provenance/")):
        try:
            data = base64.b64decode(str(meta[key]), validate=True)
            if not isinstance(json.loads(data), dict):
                raise ValueError("not an object")
        except ValueError as exc:
            raise ActionFailure("attest-failed", f"{key} in the build's metadata is not base64 JSON: {exc}") from None
        out.append((key.partition("/")[2] or "build", data))
    return out


def sbom_predicate(ref: str, work: Path) -> Path:
    out = work / "sbom.cdx.json"
    neutral = work / "cwd"
    neutral.mkdir(exist_ok=True)
    args = ["image", "--scanners", "vuln", "--format", "cyclonedx", "--output", str(out), "--cache-dir",
            env("SCAN_CACHE_DIR"), "--skip-db-update", "--no-progress", "--image-src", "remote", ref]
    proc = scanning.run_trivy(env("TRIVY"), args, neutral)
    if proc.returncode != 0:
        raise ActionFailure("attest-failed", f"trivy could not write the SBOM (exit {proc.returncode}): "
                            f"{scanning.last_error(proc)}")
    return out


def check_attestation(stdout: str, ref: str, predicate_type: str) -> None:
    """``cosign verify-attestation`` prints each verified DSSE envelope: one must be of this type and digest."""
    want = ref.partition("@")[2].partition(":")[2]
    for line in stdout.splitlines():
        try:
            envelope = json.loads(line)
            statement = json.loads(base64.b64decode(envelope["payload"]))
        except (ValueError, KeyError, TypeError):
            continue
        if statement.get("predicateType") == predicate_type and any(
                (s.get("digest") or {}).get("sha256") == want for s in statement.get("subject") or []):
            return
    raise ActionFailure("attest-failed", f"cosign verify-attestation found no {predicate_type} attestation of {ref}")


def attest() -> None:
    """Attach the scan, the SBOM and the provenance to the signed digest, each verified right after."""
    ref = image_ref()
    scan_passed(ref)
    wanted = split_list(env("PLAN_ATTEST"))
    mode = env("SIGN_MODE") or "keyless"
    key_flags, extra = key_args(mode, os.environ.get("COSIGN_KEY", "").strip())
    work = Path(tempfile.mkdtemp(prefix="build-push-attest-", dir=env("RUNNER_TEMP") or None))
    todo: list[tuple[str, Path]] = []
    try:
        for item in wanted:
            if item == "vuln":
                todo.append(("vuln", Path(env("SCAN_PREDICATE"))))
            elif item == "sbom":
                todo.append(("sbom", sbom_predicate(ref, work)))
            elif item == "provenance":
                found = provenance_predicates(env("BUILD_METADATA"))
                if not found:
                    actionkit.annotate("notice", "not attesting provenance: the build reported none")
                for n, (_, data) in enumerate(found):
                    path = work / f"provenance-{n}.json"
                    path.write_bytes(data)
                    todo.append(("provenance", path))
        done: list[dict[str, str]] = []
        commands: list[str] = []
        for item, predicate in todo:
            kind, predicate_type = ATTESTATIONS[item]
            run_cosign(["attest", "--yes", *key_flags, "--type", kind, "--predicate", str(predicate), ref],
                       "attest-failed", extra)
            if item not in [d["type"] for d in done]:
                done.append({"type": item, "predicate-type": predicate_type})
        with verification("attest-failed") as (args, shown, _):
            for entry in done:
                kind, predicate_type = ATTESTATIONS[entry["type"]]
                stdout = run_cosign(["verify-attestation", "--type", kind, *args, ref], "attest-failed")
                check_attestation(stdout, ref, predicate_type)
                commands.append(" ".join(shlex.quote(a) for a in ["cosign", "verify-attestation", "--type", kind,
                                                                  *shown, ref]))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    set_output("attestations", json.dumps(done, separators=(",", ":")))
    set_output("attest-commands", "\n".join(commands))
    print(f"attested {ref}: {', '.join(d['type'] for d in done) or 'nothing'}")


# ------------------------------------------------------------------ summary and reasons

def scan_lines() -> list[str]:
    """The scan's part of the summary: counts by severity, the gate, the ignore entries it applied."""
    if env("PLAN_SCAN") != "true":
        return ["Not scanned (`scan: false`).", ""] if env("PLAN_IMAGE") else []
    try:
        counts = json.loads(env("SCAN_COUNTS")) if env("SCAN_COUNTS") else {}
        ignored = json.loads(env("SCAN_IGNORED")) if env("SCAN_IGNORED") else []
    except json.JSONDecodeError:
        counts, ignored = {}, []
    if not counts:
        return ["Not scanned: the scan did not run to the end (see the failure above); nothing was signed.", ""]
    gate = env("PLAN_SEVERITY") or "CRITICAL,HIGH"
    lines = [f"### Scan (Trivy, by digest `{env('SCAN_DIGEST')}`)", "",
             "| " + " | ".join(scanning.SEVERITIES) + " |", "|" + "---|" * len(scanning.SEVERITIES),
             "| " + " | ".join(str(counts.get(s, 0)) for s in scanning.SEVERITIES) + " |", ""]
    blocking = int(env("SCAN_BLOCKING") or 0)
    options = f"severity {gate}" + (", unfixed ignored" if inputs.boolean("ignore-unfixed") else "")
    if blocking and env("PLAN_FAIL_ON") == "warn":
        lines.append(f"**{blocking} finding(s) at {gate}**, accepted by `fail-on: warn` ({options}).")
    elif blocking:
        lines.append(f"**{blocking} finding(s) at {gate}**: not signed, not attested ({options}).")
    else:
        lines.append(f"No finding at {gate} ({options}).")
    if ignored:
        lines += ["", f"Accepted by `{md_text(inputs.text('ignore-file'))}` (shown so that a reviewer sees each one):", "",
                  "| ID | Until | Applied | Reason |", "|---|---|---|---|"]
        lines += [f"| {md_text(e['id'])} | {e['expires']} | {'yes' if e.get('applied') else 'no'} | "
                  f"{actionkit.md_escape(e['reason'])} |" for e in ignored]
    if env("PLAN_UPLOAD_SARIF") == "true":
        lines += ["", f"SARIF uploaded to code scanning, category `{env('PLAN_SARIF_CATEGORY')}`."]
    return [*lines, ""]


def summary() -> None:
    image, pushed = env("PLAN_IMAGE"), env("PLAN_PUSH") == "true"
    # A failure already wrote its line (actionkit.fail); the table says how far the action got.
    dig, reason, event = env("DIGEST"), env("FAILURE_REASON"), env("GITHUB_EVENT_NAME")
    tags = split_list(env("TAGS"))
    signed = env("SIGNED") == "true"
    lines = ["## build-push", ""]
    if image:
        lines += ["| | |", "|---|---|", f"| Image | `{image}` |"]
        if pushed:
            lines.append(f"| Digest | `{dig}` |" if dig else "| Digest | none |")
        lines.append(f"| Pushed | {'yes' if pushed and env('BUILD_OUTCOME') == 'success' else 'no'} |")
        if tags:
            lines.append("| Tags | " + "<br>".join(f"`{t}`" for t in tags) + " |")
        lines.append(f"| Signed | {'yes (' + env('SIGN_MODE') + ')' if signed else 'no'} |")
        attested = []
        try:
            attested = [a["type"] for a in json.loads(env("ATTESTATIONS") or "[]")]
        except (json.JSONDecodeError, TypeError, KeyError):
            pass
        lines.append(f"| Attested | {', '.join(attested) if attested else 'no'} |")
        lines.append("")
        if env("BUILD_OUTCOME") == "success":
            lines += scan_lines()
    if not pushed and image and not reason:
        why = f"`{event}` event" if event in NO_PUSH_EVENTS else "push: false"
        lines.append(f"Built {'and scanned ' if env('PLAN_SCAN') == 'true' else ''}but not pushed ({why}), so not "
                     "signed or verified.")
    elif pushed and env("PLAN_SIGN") != "true" and not reason:
        why = env("UNSIGNED_REASON")
        lines.append(f"Pushed; not signed: {md_text(why)}." if why else "Pushed; signing is off (`sign: false`).")
    command = env("VERIFY_COMMAND")
    if command:
        lines += ["Verify the signature:", "", "```sh", command, "```"]
        public_key = env("PUBLIC_KEY")
        if public_key:
            lines += ["", "with `cosign.pub`:", "", "```", public_key, "```"]
    attest_commands = env("ATTEST_COMMANDS")
    if attest_commands:
        lines += ["", "Verify the attestations (scan, SBOM, provenance):", "", "```sh", attest_commands, "```"]
    actionkit.summary("\n".join(lines) + "\n")


def md_text(text: str) -> str:
    """Prose in the summary: refs and paths keep their characters, only what would break the markdown is escaped."""
    return text.replace("|", "\\|").replace("`", "'").replace("\n", " ")


REASON_MESSAGES = {
    "setup-failed": "docker/setup-buildx-action failed to set up Buildx",
    "login-failed": "logging in to the registry failed (check registry, username and password)",
    "metadata-failed": "docker/metadata-action failed to compute tags and labels",
    "build-failed": "the image build (or its push) failed; see the build step's log",
    "cosign-install-failed": "installing cosign failed (download or its verification)",
    "sarif-upload-failed": "the SARIF upload to code scanning failed; the job needs security-events: write",
}


def reason() -> None:
    name = sys.argv[2] if len(sys.argv) > 2 else ""
    if name not in REASON_MESSAGES:
        raise ActionFailure("invalid-input", f'unknown failure reason "{name}"')
    extra = env("REASON_DETAIL")
    raise ActionFailure(name, REASON_MESSAGES[name] + (f" ({extra})" if extra else ""))


COMMANDS = {"plan": plan, "digest": digest, "install-scanner": scanning.install, "scan": scanning.scan, "sign": sign,
            "verify": verify, "attest": attest, "summary": summary, "reason": reason}


def run() -> None:
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command not in COMMANDS:
        print(f"usage: build_push.py {{{','.join(COMMANDS)}}}", file=sys.stderr)
        sys.exit(2)
    COMMANDS[command]()


if __name__ == "__main__":
    actionkit.main(run)
