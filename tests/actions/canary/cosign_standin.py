"""Stand-in for ``cosign verify`` as the canary action runs it (cosign cannot verify anything here:
no Fulcio, no Rekor, no registry holding real signatures).

It follows sigstore/cosign v3.1.2 (commit of the tag in the fetched repository) where the action can
tell the difference:

- flags and their rules: cmd/cosign/cli/options/certificate.go (keyless needs
  ``--certificate-identity`` or ``--certificate-identity-regexp``, and ``--certificate-oidc-issuer``;
  the messages are cosign's);
- matching: pkg/cosign/verify.go ``CheckCertificatePolicy``: the issuer compared exactly, the
  identity exactly or by a Go regular expression *searched* in each subject (``MatchString`` is not
  anchored), then the GitHub workflow extensions exactly (``validateCertExtensions``);
- results: cmd/cosign/cli/verify/verify.go: signatures stored as OCI bundles (cosign v3's layout)
  that do not match fail with ``no matching attestations: ...``, exit 1; an image with no
  signature at all falls back to the legacy lookup and fails with ``no signatures found``, exit 10
  (cmd/cosign/errors/exit_codes.go); success prints the verified payloads as a JSON list of simple
  container images (``critical.image.docker-manifest-digest``) on stdout, as ``transformOutput``
  does for bundles. Errors are printed as cobra prints them (``Error: ...``) followed by
  ``error during command execution: ...`` (cmd/cosign/main.go).

The signatures are a JSON state file (``COSIGN_STANDIN_STATE``): ``{"signatures": {"sha256:<hex>":
[{"key": "<public key PEM>"} or {"subject": ..., "issuer": ..., "repository": ..., "ref": ...}]},
"calls": [argv...]}``. A key signature matches ``--key FILE`` holding the same PEM.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

VALUE_FLAGS = {"--key", "--certificate-identity", "--certificate-identity-regexp", "--certificate-oidc-issuer",
               "--certificate-github-workflow-repository", "--certificate-github-workflow-ref"}


def fail(message: str, code: int = 1) -> int:
    sys.stderr.write(f"Error: {message}\n")
    sys.stderr.write(f"2026/11/30 22:00:00 error during command execution: {message}\n")
    return code


def parse(argv: list[str]) -> tuple[dict[str, str], list[str]]:
    flags, positional, i = {}, [], 0
    while i < len(argv):
        arg = argv[i]
        name, eq, value = arg.partition("=")
        if name in VALUE_FLAGS:
            if not eq:
                i += 1
                value = argv[i] if i < len(argv) else ""
            flags[name] = value
        elif arg.startswith("-"):
            raise ValueError(f"unknown flag: {name}")
        else:
            positional.append(arg)
        i += 1
    return flags, positional


def matches(signature: dict, flags: dict[str, str]) -> bool:
    if "--key" in flags:
        key = Path(flags["--key"]).read_text(encoding="utf-8").strip()
        return signature.get("key", "").strip() == key
    if "key" in signature:
        return False
    if signature.get("issuer") != flags["--certificate-oidc-issuer"]:
        return False
    subject = signature.get("subject", "")
    if "--certificate-identity-regexp" in flags:
        if not re.search(flags["--certificate-identity-regexp"], subject):
            return False
    elif subject != flags["--certificate-identity"]:
        return False
    for flag, field in (("--certificate-github-workflow-repository", "repository"),
                        ("--certificate-github-workflow-ref", "ref")):
        if flag in flags and signature.get(field) != flags[flag]:
            return False
    return True


def verify(state: dict, argv: list[str]) -> int:
    try:
        flags, positional = parse(argv)
    except ValueError as error:
        return fail(str(error))
    if len(positional) != 1:
        return fail("accepts at least 1 arg(s), received 0" if not positional else "one image at a time here")
    if "--key" not in flags:
        if not (flags.get("--certificate-identity") or flags.get("--certificate-identity-regexp")):
            return fail("--certificate-identity or --certificate-identity-regexp is required for verification in "
                        "keyless mode")
        if not flags.get("--certificate-oidc-issuer"):
            return fail("--certificate-oidc-issuer or --certificate-oidc-issuer-regexp is required for verification"
                        " in keyless mode")
    image = positional[0]
    name, _, digest = image.partition("@")
    signatures = state.get("signatures", {}).get(digest) if digest else None
    if not signatures:
        return fail("no signatures found", 10)
    good = [s for s in signatures if matches(s, flags)]
    if not good:
        first = signatures[0]
        if "key" in first or "--key" in flags:
            return fail("no matching attestations: invalid signature when validating ASN.1 encoded signature")
        return fail("no matching attestations: none of the expected identities matched what was in the certificate, "
                    f"got subjects [{first.get('subject', '')}] with issuer {first.get('issuer', '')}")
    sys.stderr.write(f"\nVerification for {name}@{digest} --\nThe following checks were performed on each of these "
                     "signatures:\n  - The cosign claims were validated\n")
    payload = [{"critical": {"identity": {"docker-reference": name}, "image": {"docker-manifest-digest": digest},
                             "type": "https://slsa.dev/provenance/v1"}, "optional": {}} for _ in good]
    sys.stdout.write(json.dumps(payload) + "\n")
    return 0


def main(argv: list[str]) -> int:
    path = Path(os.environ["COSIGN_STANDIN_STATE"])
    state = json.loads(path.read_text(encoding="utf-8"))
    state.setdefault("calls", []).append(argv)
    path.write_text(json.dumps(state), encoding="utf-8")
    if argv[:1] != ["verify"]:
        return fail(f'unknown command "{argv[0] if argv else ""}" for "cosign"')
    return verify(state, argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
