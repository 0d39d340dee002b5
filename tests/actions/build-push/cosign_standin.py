"""A stand-in for the ``cosign`` CLI v3 (cosign cannot run here: no Fulcio, no Rekor, no TUF, no KMS).

The tests put it on PATH as ``cosign``. It follows cosign v3.1.2, the release the action installs
through sigstore/cosign-installer v4.1.2 (whose own default, and bootstrap, is v3.0.6: the files
below are unchanged in what they do between the two). Read from sigstore/cosign at v3.1.2:

- cmd/cosign/cli/options/{sign,verify,attest,certificate,predicate}.go: the flags, and
  ``--new-bundle-format`` on by default for sign, attest and verify;
- cmd/cosign/cli/sign/sign.go (signDigestBundle): ``cosign sign`` makes an in-toto statement of
  predicate type ``https://sigstore.dev/cosign/sign/v1`` whose subject is the digest (with the
  ``-a`` annotations), wraps it in DSSE inside a Sigstore bundle v0.3, and uploads it;
- cmd/cosign/cli/attest/attest.go and pkg/cosign/attestation/attestation.go: ``cosign attest
  --type T --predicate F``, statements of ``https://in-toto.io/Statement/v0.1`` with the predicate
  types of options/predicate.go;
- pkg/oci/remote/write.go (WriteAttestationNewBundleFormat, WriteReferrer): the bundle is the one
  layer (``application/vnd.dev.sigstore.bundle.v0.3+json``) of an OCI manifest with an empty
  ``{}`` config, ``artifactType`` the bundle media type, ``subject`` the signed manifest and the
  ``dev.sigstore.bundle.predicateType`` annotation, put by its own digest;
- go-containerregistry v0.21.7 pkg/v1/remote/write.go (commitSubjectReferrers) and referrers.go:
  a registry without the referrers API (Debian's docker-registry 2.8 answers 404) gets the
  referrers tag schema instead: an OCI index tagged ``sha256-<hex>`` listing every referrer,
  sorted by digest. No ``sha256-<hex>.sig`` tag is written any more;
- cmd/cosign/cli/verify/verify.go, verify_attestation.go, pkg/cosign/verify.go (GetBundles,
  verifyImageAttestationsSigstoreBundle): verify reads the referrers, verifies every bundle
  (signature, identity, GitHub certificate extensions, subject digest); none verified is
  ``no matching attestations: ...`` with exit code 1 (not wrapped into the legacy exit codes);
  no bundle at all falls back to the legacy ``.sig`` lookup: ``no signatures found``, exit 10
  (cmd/cosign/errors/exit_code_lookup.go). ``verify`` prints each verified bundle the way
  transformOutput does (``critical.type`` is the statement's predicate type, so attestations by
  the same identity count too); ``verify-attestation`` prints the DSSE envelopes of the type asked
  for, else ``none of the attestations matched the predicate type: ...``;
- cmd/cosign/main.go: cobra's ``Error: ...`` line, then log's ``error during command execution``.

Keyless signing reads the runner's OIDC token (``ACTIONS_ID_TOKEN_REQUEST_URL``, audience
``sigstore``) as cosign's GitHub provider does and issues the "certificate" Fulcio would
(sigstore/fulcio v1.8.8 pkg/identity/github/principal.go): the token must carry every claim
Fulcio requires; the SAN is ``https://github.com/`` + ``job_workflow_ref``; the extensions
githubWorkflowTrigger/Sha/Name/Repository/Ref are ``event_name``, ``sha``, ``workflow``,
``repository`` and ``ref``.

What is simulated: the cryptography and the transparency log. A "private key" is a JSON secret in
PEM armour "encrypted" with COSIGN_PASSWORD (a hash check); a public key carries the key id; a
signature is a SHA-256 over the DSSE pre-authentication encoding and the key id (or the
certificate), so a changed payload, key or certificate no longer verifies. The registry, the
manifests, the referrers and the digests are real (docker-registry on 127.0.0.1, through
support/ocidist.py). Every argv is appended to ``$COSIGN_STANDIN_LOG`` (JSON lines).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import secrets
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # tests/, for support.ocidist
from support import ocidist  # noqa: E402

KMS_RE = re.compile(r"^(?:awskms|gcpkms|azurekms|hashivault)://\S+$")
BUNDLE_MEDIA = "application/vnd.dev.sigstore.bundle.v0.3+json"
INTOTO = "application/vnd.in-toto+json"
SIGN_PREDICATE = "https://sigstore.dev/cosign/sign/v1"
STATEMENT_V1 = "https://in-toto.io/Statement/v1"
STATEMENT_V01 = "https://in-toto.io/Statement/v0.1"
PREDICATE_TYPES = {  # cmd/cosign/cli/options/predicate.go
    "custom": "https://cosign.sigstore.dev/attestation/v1",
    "slsaprovenance": "https://slsa.dev/provenance/v0.2",
    "slsaprovenance02": "https://slsa.dev/provenance/v0.2",
    "slsaprovenance1": "https://slsa.dev/provenance/v1",
    "spdx": "https://spdx.dev/Document",
    "spdxjson": "https://spdx.dev/Document",
    "cyclonedx": "https://cyclonedx.org/bom",
    "link": "https://in-toto.io/Link/v1",
    "vuln": "https://cosign.sigstore.dev/attestation/vuln/v1",
    "openvex": "https://openvex.dev/ns",
}
# What attestation.go keeps of a predicate: it unmarshals into these structs (unknown keys are dropped).
KNOWN_PREDICATE_KEYS = {
    "vuln": ("invocation", "scanner", "metadata"),
    "slsaprovenance": ("builder", "buildType", "invocation", "buildConfig", "metadata", "materials"),
    "slsaprovenance02": ("builder", "buildType", "invocation", "buildConfig", "metadata", "materials"),
}
# Fulcio's GitHub principal refuses a token without any of these (principal.go, WorkflowPrincipalFromIDToken).
FULCIO_CLAIMS = ("job_workflow_ref", "sha", "event_name", "repository", "workflow", "ref", "job_workflow_sha",
                 "runner_environment", "repository_id", "repository_owner", "repository_owner_id",
                 "repository_visibility", "workflow_ref", "workflow_sha", "run_id", "run_attempt")
EXTENSIONS = {  # verify flag -> certificate extension (sigstore-go certificate.Extensions)
    "certificate-github-workflow-trigger": "githubWorkflowTrigger",
    "certificate-github-workflow-sha": "githubWorkflowSha",
    "certificate-github-workflow-name": "githubWorkflowName",
    "certificate-github-workflow-repository": "githubWorkflowRepository",
    "certificate-github-workflow-ref": "githubWorkflowRef",
}
TAG_WARNING = ("WARNING: Image reference {} uses a tag, not a digest, to identify the image to sign.\n"
               "    This can lead you to sign a different image than the intended one. Please use a\n"
               "    digest (example.com/ubuntu@sha256:abc123...) rather than tag\n"
               "    (example.com/ubuntu:latest) for the input to cosign. The ability to refer to\n"
               "    images by tag will be removed in a future release.")


class CosignError(Exception):
    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def info(message: str) -> None:
    print(message, file=sys.stderr)


# ------------------------------------------------------------------ keys

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


def key_id(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def private_key_id(spec: str) -> str:
    """The id of a signing key (KMS: the URI stands for the key the KMS holds)."""
    if KMS_RE.match(spec):
        return key_id(spec)
    text = key_text(spec)
    if "ENCRYPTED SIGSTORE PRIVATE KEY" not in text:
        raise CosignError("reading key: unsupported pem type")
    data = unarmour(text)
    password = os.environ.get("COSIGN_PASSWORD", "")
    if hashlib.sha256((data["salt"] + password).encode()).hexdigest() != data["password_sha256"]:
        raise CosignError("getting signer: reading key: decrypt: encrypted: decryption failed")
    return key_id(data["secret"])


def public_key_id(spec: str) -> str:
    if KMS_RE.match(spec):
        return key_id(spec)
    text = key_text(spec)
    if "BEGIN PUBLIC KEY" not in text:
        raise CosignError("loading public key: pem to public key: PEM decoding failed")
    return unarmour(text)["key_id"]


# ------------------------------------------------------------------ keyless: the runner's token and Fulcio

def oidc_claims() -> dict:
    url, token = os.environ.get("ACTIONS_ID_TOKEN_REQUEST_URL"), os.environ.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
    if not url or not token:
        raise CosignError("signing digest: getting key from Fulcio: retrieving cert: error obtaining token: "
                          "expired_token")
    request = urllib.request.Request(url + ("&" if "?" in url else "?") + "audience=sigstore",
                                     headers={"Authorization": f"bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            jwt = json.load(response)["value"]
    except (OSError, ValueError, KeyError) as exc:
        raise CosignError(f"signing digest: getting key from Fulcio: retrieving cert: error obtaining token: {exc}") from None
    body = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def fulcio_certificate(claims: dict) -> dict:
    if claims.get("aud") != "sigstore":
        raise CosignError("signing digest: getting key from Fulcio: retrieving cert: invalid audience")
    for claim in FULCIO_CLAIMS:
        if not claims.get(claim):
            raise CosignError(f"signing digest: getting key from Fulcio: retrieving cert: POST "
                              f"/api/v2/signingCert: 400 Bad Request: token missing {claim} claim")
    return {"san": f"https://github.com/{claims['job_workflow_ref']}", "issuer": claims["iss"],
            "extensions": {"githubWorkflowTrigger": claims["event_name"], "githubWorkflowSha": claims["sha"],
                           "githubWorkflowName": claims["workflow"], "githubWorkflowRepository": claims["repository"],
                           "githubWorkflowRef": claims["ref"]}}


# ------------------------------------------------------------------ bundles

def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE's pre-authentication encoding."""
    return b"DSSEv1 %d %s %d %s" % (len(payload_type), payload_type.encode(), len(payload), payload)


def signature(material: str, payload: bytes) -> str:
    return b64(hashlib.sha256(material.encode() + b"\n" + pae(INTOTO, payload)).digest())


def make_bundle(statement: dict, key_spec: str) -> bytes:
    payload = json.dumps(statement, separators=(",", ":")).encode()
    if key_spec:
        kid = private_key_id(key_spec)
        material = {"publicKey": {"hint": kid}}
        sig = signature(kid, payload)
    else:
        raw = b64(json.dumps(fulcio_certificate(oidc_claims()), sort_keys=True).encode())
        material = {"certificate": {"rawBytes": raw}}
        sig = signature(raw, payload)
    material["tlogEntries"] = [{"logIndex": str(secrets.randbelow(10**9)), "integratedTime": str(int(time.time())),
                                "kindVersion": {"kind": "dsse", "version": "0.0.1"}}]
    return json.dumps({"mediaType": BUNDLE_MEDIA, "verificationMaterial": material,
                       "dsseEnvelope": {"payload": b64(payload), "payloadType": INTOTO,
                                        "signatures": [{"sig": sig}]}}).encode()


def parse_reference(ref: str, signing: bool) -> tuple[ocidist.Client, str, str]:
    """``(client, repository, digest)``; a tag is resolved (with cosign's warning when signing)."""
    try:
        host, repo, ident = ocidist.split_reference(ref)
    except ocidist.RegistryError:
        raise CosignError(f"parsing reference: could not parse reference: {ref}") from None
    client = ocidist.Client(host)
    if ident.startswith("sha256:"):
        if not re.match(r"^sha256:[0-9a-f]{64}$", ident):
            raise CosignError(f"parsing reference: could not parse reference: {ref}")
        return client, repo, ident
    if signing:
        print(TAG_WARNING.format(ref), file=sys.stderr)
    try:
        desc = client.head_manifest(repo, ident)
    except ocidist.RegistryError as exc:
        raise CosignError(f"accessing entity: {exc}") from None
    if desc is None:
        raise CosignError(f"image tag not found: GET {ref}: MANIFEST_UNKNOWN: manifest unknown", 11)
    return client, repo, desc["digest"]


def write_referrer(client: ocidist.Client, repo: str, digest: str, bundle: bytes, predicate_type: str) -> None:
    """WriteAttestationNewBundleFormat, then go-containerregistry's referrers bookkeeping."""
    try:
        subject = client.head_manifest(repo, digest)
        if subject is None:
            raise CosignError(f"signing digest: HEAD {client.scheme}://{client.host}/v2/{repo}/manifests/{digest}: "
                              "unexpected status code 404 Not Found (HEAD responses have no body, use GET for details)")
        config = client.put_blob(repo, b"{}")
        layer = client.put_blob(repo, bundle)
        manifest = {"schemaVersion": 2, "mediaType": ocidist.OCI_MANIFEST,
                    "config": {"mediaType": "application/vnd.oci.empty.v1+json", **config,
                               "artifactType": BUNDLE_MEDIA},
                    "layers": [{"mediaType": BUNDLE_MEDIA, **layer}],
                    "subject": subject,
                    "annotations": {"org.opencontainers.image.created": datetime.now(UTC).strftime(
                        "%Y-%m-%dT%H:%M:%SZ"), "dev.sigstore.bundle.content": "dsse-envelope",
                        "dev.sigstore.bundle.predicateType": predicate_type},
                    "artifactType": BUNDLE_MEDIA}
        body = json.dumps(manifest, separators=(",", ":")).encode()
        client.put_manifest(repo, ocidist.sha256(body), body, ocidist.OCI_MANIFEST)
        added = {"mediaType": ocidist.OCI_MANIFEST, "digest": ocidist.sha256(body), "size": len(body),
                 "artifactType": BUNDLE_MEDIA}
        if client.referrers_api(repo, digest).status == 200:
            return  # the registry keeps the referrers list itself
        tag = ocidist.fallback_tag(digest)
        current = client.get_manifest(repo, tag, (ocidist.OCI_INDEX,))
        if current is None:
            index = {"schemaVersion": 2, "mediaType": ocidist.OCI_INDEX, "manifests": [added]}
        else:
            index = json.loads(current.body)
            if index.get("schemaVersion") != 2:
                raise CosignError(f"fallback tag manifest is not a schema version 2: {index.get('schemaVersion')}")
            if index.get("mediaType") != ocidist.OCI_INDEX:
                raise CosignError(f"fallback tag manifest is not an OCI image index: {index.get('mediaType')}")
            if any(m.get("digest") == added["digest"] for m in index.get("manifests") or []):
                return
            index["manifests"] = [*(index.get("manifests") or []), added]
        index["manifests"].sort(key=lambda m: m["digest"])
        client.put_manifest(repo, tag, json.dumps(index, separators=(",", ":")).encode(), ocidist.OCI_INDEX)
    except ocidist.RegistryError as exc:
        raise CosignError(f"signing digest: {exc}") from None


def get_bundles(client: ocidist.Client, repo: str, digest: str) -> list[dict]:
    """GetBundles: every referrer whose one layer is a Sigstore bundle (others are skipped)."""
    try:
        answer = client.referrers_api(repo, digest)
        if answer.status == 200:
            index = json.loads(answer.body)
        else:
            found = client.get_manifest(repo, ocidist.fallback_tag(digest), (ocidist.OCI_INDEX,))
            index = json.loads(found.body) if found else {"manifests": []}
        bundles = []
        for desc in index.get("manifests") or []:
            got = client.get_manifest(repo, desc["digest"])
            if got is None:
                continue
            manifest = json.loads(got.body)
            layers = manifest.get("layers") or []
            if len(layers) != 1 or not str(layers[0].get("mediaType", "")).startswith(
                    "application/vnd.dev.sigstore.bundle"):
                continue
            try:
                bundle = json.loads(client.get_blob(repo, layers[0]["digest"]))
            except (ValueError, ocidist.RegistryError):
                continue
            if bundle.get("mediaType") != BUNDLE_MEDIA:
                continue  # "bundle version too old"
            bundles.append(bundle)
        return bundles
    except ocidist.RegistryError as exc:
        raise CosignError(str(exc)) from None


# ------------------------------------------------------------------ verification of one bundle

def statement_of(bundle: dict) -> tuple[dict, bytes]:
    envelope = bundle.get("dsseEnvelope") or {}
    if envelope.get("payloadType") != INTOTO:
        raise ValueError("bundle does not contain a DSSE envelope")
    payload = base64.b64decode(envelope["payload"])
    return json.loads(payload), payload


def check_bundle(bundle: dict, digest: str, opts: dict) -> dict:
    """The bundle's statement when it verifies against ``opts``; ValueError saying why not."""
    statement, payload = statement_of(bundle)
    sigs = (bundle.get("dsseEnvelope") or {}).get("signatures") or []
    material = bundle.get("verificationMaterial") or {}
    if "key" in opts:
        hint = (material.get("publicKey") or {}).get("hint", "")
        if not hint:
            raise ValueError("failed to verify signature: no public key in the bundle's verification material")
        kid = public_key_id(str(opts["key"]))
        if not sigs or sigs[0].get("sig") != signature(kid, payload):
            raise ValueError("failed to verify signature: could not verify envelope: invalid signature when "
                             "validating ASN.1 encoded signature")
    else:
        raw = (material.get("certificate") or {}).get("rawBytes", "")
        if not raw:
            raise ValueError("failed to verify certificate identity: the bundle holds no certificate")
        if not sigs or sigs[0].get("sig") != signature(raw, payload):
            raise ValueError("failed to verify signature: could not verify envelope: invalid signature")
        cert = json.loads(base64.b64decode(raw))
        issuer, issuer_re = opts.get("certificate-oidc-issuer"), opts.get("certificate-oidc-issuer-regexp")
        if (issuer and cert["issuer"] != issuer) or (issuer_re and not re.search(str(issuer_re), cert["issuer"])):
            raise ValueError("failed to verify certificate identity: no matching CertificateIdentity found, last "
                             f"error: expected issuer value \"{issuer or issuer_re}\", got \"{cert['issuer']}\"")
        san, san_re = opts.get("certificate-identity"), opts.get("certificate-identity-regexp")
        if (san and cert["san"] != san) or (san_re and not re.search(str(san_re), cert["san"])):
            raise ValueError("failed to verify certificate identity: no matching CertificateIdentity found, last "
                             f"error: expected SAN value \"{san or san_re}\", got \"{cert['san']}\"")
        for flag, extension in EXTENSIONS.items():
            want = opts.get(flag)
            if want and cert["extensions"].get(extension) != want:
                raise ValueError("failed to verify certificate identity: no matching CertificateIdentity found, "
                                 f"last error: expected {extension} to be \"{want}\", got "
                                 f"\"{cert['extensions'].get(extension, '')}\"")
    subjects = statement.get("subject") or []
    if not any(s.get("digest", {}).get("sha256") == digest.split(":", 1)[1] for s in subjects):
        raise ValueError("failed to verify artifact: provided artifact digests do not match digests in statement")
    wanted = opts.get("annotations") or {}
    if wanted:
        got = (subjects[0].get("annotations") or {}) if subjects else {}
        if any(str(got.get(k)) != v for k, v in wanted.items()):
            raise ValueError(f"missing or incorrect annotation: wanted {wanted}, got {got}")
    return statement


def verified_statements(ref: str, opts: dict) -> tuple[str, str, list[tuple[dict, dict]]]:
    """``(name, digest, [(bundle, statement)])`` of every bundle that verifies; CosignError when none does."""
    if "key" in opts and (opts.get("certificate-identity") or opts.get("certificate-identity-regexp")):
        raise CosignError("exactly one of: key reference (--key) or certificate identity (--certificate-identity or "
                          "--certificate-identity-regexp), must be provided. To determine which to use, inspect the "
                          "bundle's 'verificationMaterial' field: if 'publicKey' is present, use key reference; if "
                          "'certificate' or 'x509CertificateChain' is present, use certificate identity")
    if "key" not in opts:
        if not (opts.get("certificate-identity") or opts.get("certificate-identity-regexp")):
            raise CosignError("--certificate-identity or --certificate-identity-regexp is required for verification "
                              "in keyless mode")
        if not (opts.get("certificate-oidc-issuer") or opts.get("certificate-oidc-issuer-regexp")):
            raise CosignError("--certificate-oidc-issuer or --certificate-oidc-issuer-regexp is required for "
                              "verification in keyless mode")
    client, repo, digest = parse_reference(ref, signing=False)
    bundles = get_bundles(client, repo, digest) if opts.get("new-bundle-format", True) else []
    if not bundles:
        # the legacy path: signatures under the `sha256-<hex>.sig` tag, which this stand-in never writes
        legacy = f"{ocidist.fallback_tag(digest)}.sig"
        if legacy not in client.tags(repo):
            raise CosignError("no signatures found", 10)
        raise CosignError("the stand-in does not simulate legacy (.sig) signatures")
    good, errors = [], []
    for bundle in bundles:
        try:
            good.append((bundle, check_bundle(bundle, digest, opts)))
        except (ValueError, KeyError) as exc:
            errors.append(str(exc))
    if not good:
        raise CosignError("no matching attestations: " + "\n".join(errors))
    name = ref if "@" in ref else f"{ref.rsplit(':', 1)[0]}@{digest}"
    return name, digest, good


def print_header(name: str, opts: dict) -> None:
    info(f"\nVerification for {name} --")
    info("The following checks were performed on each of these signatures:")
    if opts.get("annotations"):
        info("  - The specified annotations were verified.")
    info("  - The cosign claims were validated")
    info("  - Existence of the claims in the transparency log was verified offline")
    if "key" in opts:
        info("  - The signatures were verified against the specified public key")
    else:
        info("  - The code-signing certificate was verified using trusted certificate authority certificates")


# ------------------------------------------------------------------ command line

VERIFY_VALUES = {"key", "certificate-identity", "certificate-identity-regexp", "certificate-oidc-issuer",
                 "certificate-oidc-issuer-regexp", "output", "o", "type", *EXTENSIONS}
BOOLS = {"yes", "y", "recursive", "r", "allow-insecure-registry", "allow-http-registry", "new-bundle-format",
         "check-claims"}


def flags(args: list[str], known_values: set[str], known_bools: set[str]) -> tuple[dict, list[str]]:
    values: dict = {}
    positional: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg.startswith("-") and arg != "-":
            name, eq, value = arg.lstrip("-").partition("=")
            if name in known_bools:
                values[name] = (value or "true") == "true"
            elif name in known_values or name in ("a", "annotations"):
                if not eq:
                    i += 1
                    if i >= len(args):
                        raise CosignError(f"flag needs an argument: --{name}")
                    value = args[i]
                if name in ("a", "annotations"):
                    k, sep, v = value.partition("=")
                    if not sep:
                        raise CosignError(f"unable to parse annotation: {value}")
                    values.setdefault("annotations", {})[k] = v
                else:
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
    info(f"Private key written to {prefix}.key\nPublic key written to {prefix}.pub")
    return 0


def cmd_public_key(args: list[str]) -> int:
    opts, _ = flags(args, {"key", "outfile"}, set())
    if "key" not in opts:
        raise CosignError("key required")
    pem = armour("PUBLIC KEY", {"key_id": private_key_id(str(opts["key"]))})
    if opts.get("outfile"):
        Path(str(opts["outfile"])).write_text(pem)
        info(f"Public key written to {opts['outfile']}")
    else:
        sys.stdout.write(pem)
    return 0


def cmd_sign(args: list[str]) -> int:
    opts, refs = flags(args, {"key"}, BOOLS)
    if not refs:
        raise CosignError("requires at least 1 arg(s), only received 0")
    if not opts.get("new-bundle-format", True):
        raise CosignError("the stand-in does not simulate --new-bundle-format=false")
    for ref in refs:
        if not (opts.get("yes") or opts.get("y")):
            raise CosignError("signing digest: no confirmation: cannot prompt without a terminal; pass --yes")
        client, repo, digest = parse_reference(ref, signing=True)
        statement = {"_type": STATEMENT_V1,
                     "subject": [{"digest": {"sha256": digest.split(":", 1)[1]},
                                  "annotations": opts.get("annotations", {})}],
                     "predicateType": SIGN_PREDICATE, "predicate": {}}
        bundle = make_bundle(statement, str(opts.get("key", "")))
        info(f"Pushing signature to: {client.host}/{repo}")
        write_referrer(client, repo, digest, bundle, SIGN_PREDICATE)
    return 0


def cmd_attest(args: list[str]) -> int:
    opts, refs = flags(args, {"key", "type", "predicate"}, BOOLS)
    if not refs:
        raise CosignError("requires at least 1 arg(s), only received 0")
    kind = str(opts.get("type", "custom"))
    for ref in refs:
        if not opts.get("predicate"):
            raise CosignError(f"signing {ref}: predicate cannot be empty")
        predicate_type = PREDICATE_TYPES.get(kind) or (kind if re.match(r"^[a-z][a-z0-9+.-]*://\S+$", kind) else "")
        if not predicate_type:
            raise CosignError(f"signing {ref}: invalid predicate type: {kind}")
        client, repo, digest = parse_reference(ref, signing=True)
        try:
            raw = Path(str(opts["predicate"])).read_text(encoding="utf-8")
        except OSError as exc:
            raise CosignError(f"signing {ref}: getting predicate reader: {exc}") from None
        if kind == "custom" or kind == predicate_type:
            predicate: object = {"Data": raw, "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
        else:
            try:
                predicate = json.loads(raw)
            except ValueError as exc:
                raise CosignError(f"signing {ref}: {exc}") from None
            keep = KNOWN_PREDICATE_KEYS.get(kind)
            if keep and isinstance(predicate, dict):
                predicate = {k: v for k, v in predicate.items() if k in keep}
        statement = {"_type": STATEMENT_V01, "predicateType": predicate_type,
                     "subject": [{"name": f"{client.host}/{repo}", "digest": {"sha256": digest.split(":", 1)[1]}}],
                     "predicate": predicate}
        try:
            bundle = make_bundle(statement, str(opts.get("key", "")))
            write_referrer(client, repo, digest, bundle, predicate_type)
        except CosignError as exc:
            raise CosignError(f"signing {ref}: {exc}", exc.code) from None
    return 0


def cmd_verify(args: list[str]) -> int:
    opts, refs = flags(args, VERIFY_VALUES, BOOLS)
    if not refs:
        raise CosignError("requires at least 1 arg(s), only received 0")
    for ref in refs:
        name, digest, good = verified_statements(ref, opts)
        print_header(name, opts)
        out = [{"critical": {"identity": {"docker-reference": name}, "image": {"docker-manifest-digest": digest},
                             "type": statement.get("predicateType", "")},
                "optional": (statement.get("subject") or [{}])[0].get("annotations") or {}}
               for _, statement in good]
        print(json.dumps(out, separators=(",", ":")))
    return 0


def cmd_verify_attestation(args: list[str]) -> int:
    opts, refs = flags(args, VERIFY_VALUES, BOOLS)
    if not refs:
        raise CosignError("requires at least 1 arg(s), only received 0")
    kind = str(opts.get("type", "custom"))
    want = PREDICATE_TYPES.get(kind, kind)
    for ref in refs:
        name, _, good = verified_statements(ref, opts)
        checked = [bundle for bundle, statement in good if statement.get("predicateType") == want]
        if not checked:
            found = ",".join(statement.get("predicateType", "") for _, statement in good)
            raise CosignError(f"none of the attestations matched the predicate type: {kind}, found: {found}")
        print_header(name, opts)
        for bundle in checked:
            print(json.dumps(bundle["dsseEnvelope"], separators=(",", ":")))
    return 0


COMMANDS = {"generate-key-pair": cmd_generate_key_pair, "public-key": cmd_public_key, "sign": cmd_sign,
            "attest": cmd_attest, "verify": cmd_verify, "verify-attestation": cmd_verify_attestation}


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
        stamp = datetime.now().strftime("%Y/%m/%d %H:%M:%S")
        print(f"{stamp} error during command execution: {exc}", file=sys.stderr)
        return exc.code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
