"""A stand-in for the ``cosign`` CLI (cosign cannot run here: no Fulcio, no Rekor, no KMS).

The tests install it on PATH as ``cosign``. It follows cosign's documented command line and exit
codes (doc/cosign_sign.md, cosign_verify.md, cosign_public-key.md, cosign_exit_codes.md) and
stores signatures in the REAL registry the way cosign does when the registry has no referrers API:
an OCI manifest tagged ``sha256-<hex>.sig`` beside the image, one layer per signature holding the
simple-signing payload (``critical.image.docker-manifest-digest``), pushed and read with skopeo
using the docker config that the login wrote (``$DOCKER_CONFIG/config.json``).

What is simulated: the cryptography. A "private key" is a JSON secret wrapped in PEM armour and
"encrypted" with COSIGN_PASSWORD (a hash check); its public key carries the secret's hash, the
signature annotation names that hash. Keyless signing asks the runner's OIDC endpoint
(``ACTIONS_ID_TOKEN_REQUEST_URL``, audience ``sigstore``) for a token, as cosign does, and records
the "certificate" Fulcio would issue: subject ``https://github.com/<job_workflow_ref>``, issuer the
token's ``iss``. KMS URIs stand for a key held by the KMS (its hash is the key id).

Every invocation's argv is appended to ``$COSIGN_STANDIN_LOG`` (JSON lines) so tests can assert
exactly what the action ran.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

KMS_RE = re.compile(r"^(?:awskms|gcpkms|azurekms|hashivault)://\S+$")
SIG_MEDIA = "application/vnd.dev.cosign.simplesigning.v1+json"


class CosignError(Exception):
    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def armour(kind: str, data: dict) -> str:
    return f"-----BEGIN {kind}-----\n{b64(json.dumps(data).encode())}\n-----END {kind}-----\n"


def unarmour(text: str) -> dict:
    body = "".join(line for line in text.strip().splitlines() if not line.startswith("-----"))
    try:
        return json.loads(base64.b64decode(body))
    except ValueError:
        raise CosignError("reading key: invalid pem block") from None


def key_text(spec: str) -> str:
    if spec.startswith("env://"):
        value = os.environ.get(spec[6:], "")
        if not value:
            raise CosignError(f"reading key: environment variable {spec[6:]} is empty")
        return value
    try:
        return Path(spec).read_text()
    except OSError as exc:
        raise CosignError(f"reading key: {exc}") from None


def private_secret(spec: str) -> str:
    """The secret of a private key (KMS: the URI stands for the key the KMS holds)."""
    if KMS_RE.match(spec):
        return spec
    text = key_text(spec)
    if "ENCRYPTED SIGSTORE PRIVATE KEY" not in text:
        raise CosignError("reading key: unsupported pem type")
    data = unarmour(text)
    password = os.environ.get("COSIGN_PASSWORD", "")
    if hashlib.sha256((data["salt"] + password).encode()).hexdigest() != data["password_sha256"]:
        raise CosignError("getting signer: reading key: decrypt: encrypted: decryption failed")
    return data["secret"]


def key_id(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def public_key_id(spec: str) -> str:
    if KMS_RE.match(spec):
        return key_id(spec)
    text = key_text(spec)
    if "BEGIN PUBLIC KEY" not in text:
        raise CosignError("loading public key: pem to public key: PEM decoding failed")
    return unarmour(text)["key_id"]


# ------------------------------------------------------------------ registry through skopeo

def authfile() -> list[str]:
    config = Path(os.environ.get("DOCKER_CONFIG", str(Path.home() / ".docker"))) / "config.json"
    return ["--authfile", str(config)] if config.exists() else []


def skopeo(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["skopeo", *args], capture_output=True, text=True, timeout=120)


def parse_ref(ref: str) -> tuple[str, str]:
    """``(repository, digest)``; a tag ref is resolved to its digest, with cosign's warning."""
    if "@" in ref:
        repo, digest = ref.split("@", 1)
        if not re.match(r"^sha256:[0-9a-f]{64}$", digest):
            raise CosignError(f"parsing reference: could not parse reference: {ref}")
        return repo, digest
    print(f"WARNING: Image reference {ref} uses a tag, not a digest, to identify the image to sign.\n"
          "    This can lead you to sign a different image than the intended one.", file=sys.stderr)
    proc = skopeo("inspect", "--raw", "--tls-verify=false", *authfile(), f"docker://{ref}")
    if proc.returncode:
        raise CosignError(f"accessing entity: {proc.stderr.strip()}")
    repo = ref.rsplit(":", 1)[0] if ":" in ref.rsplit("/", 1)[-1] else ref
    return repo, "sha256:" + hashlib.sha256(proc.stdout.encode()).hexdigest()


def sig_tag(digest: str) -> str:
    return digest.replace(":", "-") + ".sig"


def read_signatures(repo: str, digest: str) -> list[tuple[dict, dict]]:
    """``(layer descriptor, payload)`` of each signature stored for the digest."""
    with tempfile.TemporaryDirectory() as tmp:
        proc = skopeo("copy", "--quiet", "--src-tls-verify=false", *authfile(),
                      f"docker://{repo}:{sig_tag(digest)}", f"oci:{tmp}/sig:x")
        if proc.returncode:
            if "manifest unknown" in proc.stderr.lower() or "not found" in proc.stderr.lower():
                return []
            raise CosignError(f"fetching signatures: {proc.stderr.strip()}")
        index = json.loads(Path(tmp, "sig", "index.json").read_text())
        manifest_digest = index["manifests"][0]["digest"].split(":", 1)[1]
        manifest = json.loads(Path(tmp, "sig", "blobs", "sha256", manifest_digest).read_text())
        out = []
        for layer in manifest.get("layers", []):
            blob = Path(tmp, "sig", "blobs", "sha256", layer["digest"].split(":", 1)[1]).read_bytes()
            out.append((layer, json.loads(blob)))
        return out


def write_signatures(repo: str, digest: str, layers: list[tuple[bytes, dict]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        lay = Path(tmp, "sig")
        (lay / "blobs" / "sha256").mkdir(parents=True)
        (lay / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')

        def blob(data: bytes) -> dict:
            name = hashlib.sha256(data).hexdigest()
            (lay / "blobs" / "sha256" / name).write_bytes(data)
            return {"digest": f"sha256:{name}", "size": len(data)}

        manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **blob(b"{}")},
                    "layers": [{"mediaType": SIG_MEDIA, **blob(data), "annotations": ann} for data, ann in layers]}
        desc = blob(json.dumps(manifest).encode())
        tag = sig_tag(digest)
        (lay / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [
            {"mediaType": manifest["mediaType"], **desc, "annotations": {"org.opencontainers.image.ref.name": tag}}]}))
        proc = skopeo("copy", "--quiet", "--preserve-digests", "--dest-tls-verify=false", *authfile(),
                      f"oci:{lay}:{tag}", f"docker://{repo}:{tag}")
        if proc.returncode:
            raise CosignError(f"signing [{repo}@{digest}]: {proc.stderr.strip()}")


# ------------------------------------------------------------------ keyless

def oidc_identity() -> tuple[str, str]:
    url, token = os.environ.get("ACTIONS_ID_TOKEN_REQUEST_URL"), os.environ.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
    if not url or not token:
        raise CosignError("getting signer: getting key from Fulcio: retrieving cert: error obtaining token: "
                          "expired_token")
    request = urllib.request.Request(url + ("&" if "?" in url else "?") + "audience=sigstore",
                                     headers={"Authorization": f"bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            jwt = json.load(response)["value"]
    except (OSError, ValueError, KeyError) as exc:
        raise CosignError(f"getting signer: getting key from Fulcio: retrieving cert: error obtaining token: {exc}") from None
    body = jwt.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    if claims.get("aud") != "sigstore":
        raise CosignError("getting signer: getting key from Fulcio: retrieving cert: invalid audience")
    return f"https://github.com/{claims['job_workflow_ref']}", claims["iss"]


# ------------------------------------------------------------------ commands

def flags(args: list[str], known_values: set[str], known_bools: set[str]) -> tuple[dict, list[str]]:
    values: dict[str, str | bool] = {}
    positional: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg.startswith("-"):
            name, eq, value = arg.lstrip("-").partition("=")
            if name in known_bools:
                values[name] = (value or "true") == "true"
            elif name in known_values:
                if not eq:
                    i += 1
                    if i >= len(args):
                        raise CosignError(f"flag needs an argument: --{name}")
                    value = args[i]
                values[name] = value
            else:
                raise CosignError(f"unknown flag: --{name}")
        else:
            positional.append(arg)
        i += 1
    return values, positional


def cmd_generate_key_pair(args: list[str]) -> int:
    opts, _ = flags(args, {"output-key-prefix"}, set())
    prefix = str(opts.get("output-key-prefix", "cosign"))
    secret, salt = secrets.token_hex(16), secrets.token_hex(8)
    password = os.environ.get("COSIGN_PASSWORD", "")
    Path(f"{prefix}.key").write_text(armour("ENCRYPTED SIGSTORE PRIVATE KEY", {
        "kdf": "standin", "salt": salt, "password_sha256": hashlib.sha256((salt + password).encode()).hexdigest(),
        "secret": secret}))
    Path(f"{prefix}.pub").write_text(armour("PUBLIC KEY", {"key_id": key_id(secret)}))
    print(f"Private key written to {prefix}.key\nPublic key written to {prefix}.pub", file=sys.stderr)
    return 0


def cmd_public_key(args: list[str]) -> int:
    opts, _ = flags(args, {"key", "outfile"}, set())
    if "key" not in opts:
        raise CosignError("key required")
    pem = armour("PUBLIC KEY", {"key_id": key_id(private_secret(str(opts["key"])))})
    if opts.get("outfile"):
        Path(str(opts["outfile"])).write_text(pem)
        print(f"Public key written to {opts['outfile']}", file=sys.stderr)
    else:
        sys.stdout.write(pem)
    return 0


def cmd_sign(args: list[str]) -> int:
    opts, refs = flags(args, {"key"}, {"yes", "y", "recursive", "r"})
    if len(refs) != 1:
        raise CosignError(f"accepts 1 arg(s), received {len(refs)}")
    ref = refs[0]
    if not (opts.get("yes") or opts.get("y")):
        raise CosignError(f"signing [{ref}]: no confirmation: cannot prompt without a terminal; pass --yes")
    repo, digest = parse_ref(ref)
    proc = skopeo("inspect", "--raw", "--tls-verify=false", *authfile(), f"docker://{repo}@{digest}")
    if proc.returncode:
        raise CosignError(f"signing [{ref}]: accessing entity: {proc.stderr.strip()}")
    if "key" in opts:
        annotation = {"dev.cosignproject.cosign/signature": b64(os.urandom(16)),
                      "dev.standin/key-id": key_id(private_secret(str(opts["key"])))}
    else:
        subject, issuer = oidc_identity()
        annotation = {"dev.cosignproject.cosign/signature": b64(os.urandom(16)),
                      "dev.sigstore.cosign/certificate": json.dumps({"subject": subject, "issuer": issuer})}
    payload = json.dumps({"critical": {"identity": {"docker-reference": repo},
                                       "image": {"docker-manifest-digest": digest},
                                       "type": "cosign container image signature"}, "optional": None}).encode()
    existing = [(json.dumps(p).encode(), layer.get("annotations", {})) for layer, p in read_signatures(repo, digest)]
    print(f"Pushing signature to: {repo}", file=sys.stderr)
    write_signatures(repo, digest, [*existing, (payload, annotation)])
    return 0


def cmd_verify(args: list[str]) -> int:
    opts, refs = flags(args, {"key", "certificate-identity", "certificate-oidc-issuer", "output"}, set())
    if len(refs) != 1:
        raise CosignError(f"accepts 1 arg(s), received {len(refs)}")
    keyed = "key" in opts
    if not keyed and not (opts.get("certificate-identity") and opts.get("certificate-oidc-issuer")):
        raise CosignError("--certificate-identity or --certificate-identity-regexp is required for verification "
                          "in keyless mode")
    repo, digest = parse_ref(refs[0])
    found = read_signatures(repo, digest)
    if not found:
        raise CosignError(f"no signatures found for image {repo}@{digest}", 10)
    want_key = public_key_id(str(opts["key"])) if keyed else ""
    verified = []
    for layer, payload in found:
        ann = layer.get("annotations", {})
        if payload["critical"]["image"]["docker-manifest-digest"] != digest:
            continue
        if keyed:
            if ann.get("dev.standin/key-id") == want_key:
                verified.append(payload)
        elif "dev.sigstore.cosign/certificate" in ann:
            cert = json.loads(ann["dev.sigstore.cosign/certificate"])
            if cert["subject"] == opts["certificate-identity"] and cert["issuer"] == opts["certificate-oidc-issuer"]:
                verified.append({**payload, "optional": {"Subject": cert["subject"], "Issuer": cert["issuer"],
                                                         "1.3.6.1.4.1.57264.1.1": cert["issuer"]}})
    if not verified:
        detail = ("invalid signature when validating ASN.1 encoded signature" if keyed else
                  f"none of the expected identities matched what was in the certificate, got subjects "
                  f"[{', '.join(json.loads(layer['annotations']['dev.sigstore.cosign/certificate'])['subject'] for layer, _ in found if 'dev.sigstore.cosign/certificate' in layer.get('annotations', {}))}]")
        raise CosignError(f"no matching signatures: {detail}", 12)
    print(f"\nVerification for {repo}@{digest} --", file=sys.stderr)
    print("The following checks were performed on each of these signatures:", file=sys.stderr)
    print("  - The cosign claims were validated", file=sys.stderr)
    print("  - Existence of the claims in the transparency log was verified offline", file=sys.stderr)
    if keyed:
        print("  - The signatures were verified against the specified public key", file=sys.stderr)
    else:
        print("  - The code-signing certificate was verified using trusted certificate authority certificates",
              file=sys.stderr)
    print(json.dumps(verified))
    return 0


COMMANDS = {"generate-key-pair": cmd_generate_key_pair, "public-key": cmd_public_key, "sign": cmd_sign,
            "verify": cmd_verify}


def main(argv: list[str]) -> int:
    log = os.environ.get("COSIGN_STANDIN_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(argv) + "\n")
    if not argv or argv[0] not in COMMANDS:
        print(f'Error: unknown command "{argv[0] if argv else ""}" for "cosign"', file=sys.stderr)
        return 1
    try:
        return COMMANDS[argv[0]](argv[1:])
    except CosignError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        print(f"main.go:74: error during command execution: {exc}", file=sys.stderr)
        return exc.code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
