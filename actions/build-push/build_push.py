"""The logic of the build-push action: validate inputs, check the pushed digest, sign and verify it.

Each subcommand is one step of ``action.yml``; the docker/* and sigstore/cosign-installer steps between
them do the building and installing. Standard library only: it runs with the runner's ``python3``.

    plan     validate the inputs; decide push, login, tag rules, cache and signing mode
    digest   check the digest docker/build-push-action reported; form ``name@sha256:...``
    sign     ``cosign sign --yes [--key K] NAME@sha256:...`` (never a tag)
    verify   ``cosign verify`` with the workflow's certificate identity or the key
    summary  the job summary table and the exact ``cosign verify`` command
    reason   record the failure of a ``uses:`` step (``build_push.py reason build-failed``)
"""

from __future__ import annotations

import base64
import json
import os
import re
import shlex
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "_lib"))
import actionkit  # noqa: E402
from actionkit import ActionFailure, env, env_bool, set_output  # noqa: E402

DIGEST_RE = re.compile(r"^sha256:[0-9a-f]{64}$")
# The repository part of a Docker reference (distribution/reference grammar), lowercase path components.
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_HOST = r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?"
NAME_RE = re.compile(rf"^(?:(?P<host>{_HOST})/)?(?P<path>{_COMPONENT}(?:/{_COMPONENT})*)$")
PLATFORM_RE = re.compile(r"^[a-z0-9]+/[a-z0-9_]+(?:/[a-z0-9]+)?$")
VERSION_RE = re.compile(r"^v(\d+)\.(\d+)\.(\d+)$")
KMS_RE = re.compile(r"^(?:awskms|gcpkms|azurekms|hashivault)://\S+$")
ENV_KEY_RE = re.compile(r"^env://[A-Za-z_][A-Za-z0-9_]*$")
FLAVOR_KEYS = ("latest", "prefix", "suffix")
# Events whose builds are never pushed: the code comes from a pull request (or a merge queue candidate).
NO_PUSH_EVENTS = ("pull_request", "pull_request_target", "merge_group")
GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
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
    """Items of a list input: separated by newlines or commas, blanks dropped."""
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
    return a == b or (a in hub and b in hub)


def tag_rules(extra: str, ref: str) -> str:
    """docker/metadata-action ``tags`` rules: branch, pull request, semver and sha, then the caller's."""
    rules = list(BASE_TAG_RULES)
    # metadata-action's documented advice: no `0` tag for major version zero.
    major_zero = re.match(r"^refs/tags/v?0\.", ref) is not None
    rules.append(f"type=semver,pattern={{{{major}}}},enable={'false' if major_zero else 'true'}")
    rules.append("type=sha")
    for line in extra.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if not line.startswith("type="):
            raise ActionFailure("invalid-input", f'tags rule "{line}" must be a docker/metadata-action rule starting with "type="')
        rules.append(line)
    return "\n".join(rules)


def check_flavor(flavor: str) -> str:
    for line in flavor.splitlines():
        line = line.strip()
        if line and line.split("=", 1)[0] not in FLAVOR_KEYS:
            raise ActionFailure("invalid-input", f'flavor line "{line}" must set one of {", ".join(FLAVOR_KEYS)} (key=value)')
    return flavor.strip()


def cosign_version(value: str) -> str:
    match = VERSION_RE.match(value)
    if not match:
        raise ActionFailure("invalid-input", f'cosign-version "{value}" must be a release tag like v3.1.2')
    if int(match.group(1)) < 2:
        raise ActionFailure("invalid-input", f"cosign-version {value} is older than v2.0.0, which cosign-installer no longer installs")
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


def cache_scope(path: str) -> str:
    """One GitHub cache scope per image, so two images built by one repository do not evict each other."""
    return "build-push-" + re.sub(r"[^a-z0-9._-]+", "-", path)


def plan() -> None:
    image = env("INPUT_IMAGE")
    if not image:
        raise ActionFailure("invalid-input", "image is required, like ghcr.io/org/app")
    host, path, explicit = image_parts(image)
    registry = env("INPUT_REGISTRY") or host
    if explicit and not same_registry(registry, host):
        raise ActionFailure("invalid-input", f'registry "{registry}" is not the registry of image "{image}" ({host})')
    username, has_password = env("INPUT_USERNAME"), env_bool("INPUT_HAS_PASSWORD")
    if username and not has_password:
        raise ActionFailure("invalid-input", "password is required when username is set")
    if has_password and not username:
        raise ActionFailure("invalid-input", "username is required when password is set")
    push_input = env("INPUT_PUSH", "auto").lower() or "auto"
    if push_input not in ("auto", "false"):
        raise ActionFailure("invalid-input", f'push must be "auto" or "false", not "{push_input}"')
    event = env("GITHUB_EVENT_NAME")
    push = push_input == "auto" and event not in NO_PUSH_EVENTS
    for platform in split_list(env("INPUT_PLATFORMS")):
        if not PLATFORM_RE.match(platform):
            raise ActionFailure("invalid-input", f'platform "{platform}" must look like linux/amd64 or linux/arm/v7')
    provenance, sbom = env_bool("INPUT_PROVENANCE", True), env_bool("INPUT_SBOM", False)
    cache, sign = env_bool("INPUT_CACHE", True), env_bool("INPUT_SIGN", True)
    mode = sign_mode(os.environ.get("INPUT_COSIGN_KEY", "").strip())
    version = cosign_version(env("INPUT_COSIGN_VERSION"))
    identity, issuer = env("INPUT_CERTIFICATE_IDENTITY"), env("INPUT_CERTIFICATE_OIDC_ISSUER") or GITHUB_ISSUER
    for name, value in (("certificate-identity", identity), ("certificate-oidc-issuer", issuer)):
        if value and not value.startswith("https://"):
            raise ActionFailure("invalid-input", f'{name} "{value}" must be an https:// URL')
    signing = push and sign
    if signing and mode == "keyless" and not env("ACTIONS_ID_TOKEN_REQUEST_URL"):
        raise ActionFailure("id-token-missing", "keyless signing needs an OIDC token: give the job the permission "
                            "`id-token: write`, or sign with cosign-key")
    outputs = {
        "image": image, "registry": registry, "login": str(bool(username)).lower(),
        "push": str(push).lower(), "event": event, "tag-rules": tag_rules(env("INPUT_TAGS"), env("GITHUB_REF")),
        "flavor": check_flavor(env("INPUT_FLAVOR")), "provenance": str(provenance).lower(),
        "sbom": str(sbom).lower(),
        # a build that publishes never reads the cache: any run of the branch can write an entry,
        # and its layers would go into the published image (it still writes one for pull requests)
        "cache-from": f"type=gha,scope={cache_scope(path)}" if cache and not push else "",
        "cache-to": f"type=gha,mode=max,scope={cache_scope(path)}" if cache else "",
        "sign": str(signing).lower(), "sign-mode": mode, "cosign-version": version,
    }
    for name, value in outputs.items():
        set_output(name, value)
    print(f"image {image}: push={outputs['push']} (event {event or 'unknown'}), sign={outputs['sign']} ({mode})")


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
    set_output("digest", value)
    set_output("image-ref", f"{image}@{value}")
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


def sign() -> None:
    ref = image_ref()
    mode = env("SIGN_MODE") or "keyless"
    args, extra = key_args(mode, os.environ.get("COSIGN_KEY", "").strip())
    run_cosign(["sign", "--yes", *args, ref], "sign-failed", extra)
    print(f"signed {ref} ({mode})")


def oidc_claims() -> dict:
    """The claims of the job's GitHub OIDC token (audience ``sigstore``, as cosign asks for it).

    Fulcio writes the token's ``job_workflow_ref`` into the certificate: for a job in a reusable
    workflow that is the reusable workflow, which no ``github`` context property names."""
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
        return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except (urllib.error.URLError, OSError, ValueError, IndexError, AttributeError):
        return {}


def certificate_identity() -> str:
    explicit = env("INPUT_CERTIFICATE_IDENTITY")
    if explicit:
        return explicit
    server = env("GITHUB_SERVER_URL") or "https://github.com"
    claim = oidc_claims().get("job_workflow_ref", "")
    if claim:
        return f"{server}/{claim}"
    workflow_ref = env("GITHUB_WORKFLOW_REF")
    if not workflow_ref:
        raise ActionFailure("verify-failed", "cannot tell the certificate identity: no OIDC token claim and no "
                            "GITHUB_WORKFLOW_REF; set certificate-identity")
    actionkit.annotate("warning", "could not read job_workflow_ref from the OIDC token; verifying against "
                       f"the calling workflow {workflow_ref}")
    return f"{server}/{workflow_ref}"


def public_key_file(mode: str, key: str) -> tuple[str, str]:
    """``(path for cosign, path shown in the summary)`` of the public key that verifies a PEM-signed image."""
    temp = Path(env("RUNNER_TEMP") or ".")
    out = temp / "cosign.pub"
    given = env("INPUT_COSIGN_PUBLIC_KEY")
    if given:
        out.write_text(given + "\n", encoding="utf-8")
    else:  # derived from the private key: proves the signature is the key's, as `cosign public-key` prints it
        args, extra = key_args(mode, key)
        run_cosign(["public-key", *args, "--outfile", str(out)], "verify-failed", extra)
    return str(out), "cosign.pub"


def check_verified(stdout: str, ref: str) -> None:
    """cosign prints one JSON object per verified signature; one must name exactly this digest."""
    want = ref.partition("@")[2]
    try:
        payloads = json.loads(stdout.strip().splitlines()[-1]) if stdout.strip() else []
    except json.JSONDecodeError:
        raise ActionFailure("verify-failed", "cosign verify printed no JSON list of verified signatures") from None
    digests = {((p.get("critical") or {}).get("image") or {}).get("docker-manifest-digest")
               for p in payloads if isinstance(p, dict)} if isinstance(payloads, list) else set()
    if want not in digests:
        raise ActionFailure("verify-failed", f"cosign verify found no signature for {want}")


def verify() -> None:
    ref = image_ref()
    mode = env("SIGN_MODE") or "keyless"
    key = os.environ.get("COSIGN_KEY", "").strip()
    if mode == "keyless":
        identity = certificate_identity()
        issuer = env("INPUT_CERTIFICATE_OIDC_ISSUER") or GITHUB_ISSUER
        args = ["--certificate-identity", identity, "--certificate-oidc-issuer", issuer]
        shown = args
    elif mode == "kms":
        args = shown = ["--key", key]
    else:
        path, shown_path = public_key_file(mode, key)
        args, shown = ["--key", path], ["--key", shown_path]
    stdout = run_cosign(["verify", *args, ref], "verify-failed")
    check_verified(stdout, ref)
    command = " ".join(shlex.quote(a) for a in ["cosign", "verify", *shown, ref])
    set_output("signed", "true")
    set_output("verify-command", command)
    if mode in ("pem", "env"):
        set_output("public-key", Path(args[1]).read_text(encoding="utf-8").strip())
    print(f"verified: {command}")


# ------------------------------------------------------------------ summary and reasons

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
        lines.append("")
    if not pushed and image and not reason:
        why = f"`{event}` event" if event in NO_PUSH_EVENTS else "push: false"
        lines.append(f"Built but not pushed ({why}), so not signed or verified.")
    elif pushed and env("PLAN_SIGN") != "true" and not reason:
        lines.append("Pushed; signing is off (`sign: false`).")
    command = env("VERIFY_COMMAND")
    if command:
        lines += ["Verify the signature:", "", "```sh", command, "```"]
        public_key = env("PUBLIC_KEY")
        if public_key:
            lines += ["", "with `cosign.pub`:", "", "```", public_key, "```"]
    actionkit.summary("\n".join(lines) + "\n")


REASON_MESSAGES = {
    "setup-failed": "docker/setup-buildx-action failed to set up Buildx",
    "login-failed": "logging in to the registry failed (check registry, username and password)",
    "metadata-failed": "docker/metadata-action failed to compute tags and labels",
    "build-failed": "the image build (or its push) failed; see the build step's log",
    "cosign-install-failed": "installing cosign failed (download or its verification)",
}


def reason() -> None:
    name = sys.argv[2] if len(sys.argv) > 2 else ""
    if name not in REASON_MESSAGES:
        raise ActionFailure("invalid-input", f'unknown failure reason "{name}"')
    extra = env("REASON_DETAIL")
    raise ActionFailure(name, REASON_MESSAGES[name] + (f" ({extra})" if extra else ""))


COMMANDS = {"plan": plan, "digest": digest, "sign": sign, "verify": verify, "summary": summary, "reason": reason}


def run() -> None:
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command not in COMMANDS:
        print(f"usage: build_push.py {{{','.join(COMMANDS)}}}", file=sys.stderr)
        sys.exit(2)
    COMMANDS[command]()


if __name__ == "__main__":
    actionkit.main(run)
