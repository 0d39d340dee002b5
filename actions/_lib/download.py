"""Downloads the actions run: HTTPS only, bounded, checked against a SHA-256 before any use.

The one way our scripts fetch what they install or trust (the kubectl-argo-rollouts plugin, the
Terraform release, Trivy):

- :func:`allowed`: ``https://`` to a named host; plain ``http://`` only to a loopback address
  (``127.0.0.0/8``, ``::1``, ``localhost``) and only where the caller says so (a mirror on the
  runner itself, or a test); never to any other address, private ones included. No user
  information in the URL (it would be printed). Redirects are held to the same rule.
- :func:`fetch`: the body, at most ``max_bytes`` (a larger answer is refused as soon as it
  passes the limit), and, with ``expected``, its SHA-256 checked against every expected
  value before it is returned: nothing is unpacked, written or run before that check.
- :func:`place`: a file written under a temporary name beside its target, then renamed over it,
  so a reader never sees half a file.

Every failure is an :class:`actionkit.ActionFailure` with the caller's reason; a 404 is an
:class:`HTTPFailure` with its status, for callers that try another name.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import re
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from actionkit import ActionFailure

TIMEOUT_S = 120.0
_CHUNK = 1 << 20


class HTTPFailure(ActionFailure):
    """The server answered with an HTTP error ``status``."""

    def __init__(self, reason: str, message: str, status: int) -> None:
        super().__init__(reason, message)
        self.status = status


def _loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def allowed(url: str, *, loopback_http: bool = False, base: bool = False) -> bool:
    """Whether our scripts may fetch ``url`` (see the module's docstring). ``base``: a URL that
    paths are appended to, so no query and no fragment either."""
    if not url or re.search(r"[\s\x00-\x1f\x7f]", url):
        return False
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 (raises on a port that is no number)
    except ValueError:
        return False
    if not parts.hostname or "@" in parts.netloc or (base and (parts.query or parts.fragment)):
        return False
    if parts.scheme == "https":
        return True
    return parts.scheme == "http" and loopback_http and _loopback(parts.hostname)


class _Redirects(urllib.request.HTTPRedirectHandler):
    """Follow a redirect only to a URL :func:`allowed` as well (GitHub sends release downloads to
    another host; an answer must never send us to plain HTTP, or to a private address)."""

    def __init__(self, reason: str, loopback_http: bool) -> None:
        self.reason, self.loopback_http = reason, loopback_http

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: ANN001 (urllib's signature)
        if not allowed(newurl, loopback_http=self.loopback_http):
            raise ActionFailure(self.reason, f"downloading {req.full_url} failed: redirected to {newurl},"
                                " which is not an https:// URL")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def fetch(url: str, *, reason: str, max_bytes: int, name: str = "", expected: Sequence[tuple[str, str]] = (),
          mismatch: str = "", loopback_http: bool = False, timeout: float = TIMEOUT_S) -> bytes:
    """The body at ``url``.

    ``expected`` is ``(source, sha256)`` pairs, such as ``("plugin-sha256", "ab12...")``: the body
    must have every one of them, or :func:`fetch` fails with ``mismatch`` (default ``reason``):
    ``NAME has SHA-256 X, but SOURCE says Y``. ``name`` names the file in messages (default: the
    URL). Any other failure (a URL not :func:`allowed`, HTTP errors, more than ``max_bytes``) is
    ``reason``."""
    if not allowed(url, loopback_http=loopback_http):
        raise ActionFailure(reason, f"refusing to download {url}: only https:// URLs"
                            + (" (plain http only for loopback)" if loopback_http else ""))
    opener = urllib.request.build_opener(_Redirects(reason, loopback_http))
    request = urllib.request.Request(url, headers={"User-Agent": "org-ci-actions"})
    data = bytearray()
    try:
        with opener.open(request, timeout=timeout) as response:
            while chunk := response.read(min(_CHUNK, max_bytes + 1 - len(data))):
                data += chunk
                if len(data) > max_bytes:
                    raise ActionFailure(reason, f"{url} is larger than {max_bytes} bytes")
    except urllib.error.HTTPError as error:
        raise HTTPFailure(reason, f"downloading {url} failed: HTTP {error.code}", error.code) from None
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise ActionFailure(reason, f"downloading {url} failed: {getattr(error, 'reason', error)}") from None
    body = bytes(data)
    if expected:
        verify(body, expected, name=name or url, reason=mismatch or reason)
    return body


def verify(data: bytes, expected: Sequence[tuple[str, str]], *, name: str, reason: str) -> str:
    """The SHA-256 of ``data``, which must equal each expected ``(source, sha256)``."""
    actual = hashlib.sha256(data).hexdigest()
    for source, value in expected:
        if actual != value.lower():
            raise ActionFailure(reason, f"{name} has SHA-256 {actual}, but {source} says {value.lower()}")
    return actual


def place(data: bytes, target: Path, *, mode: int = 0o644, reason: str) -> Path:
    """Write ``data`` to ``target`` atomically, with ``mode``; its directory is created."""
    temp = ""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(temp, mode)
        os.replace(temp, target)
    except OSError as error:
        if temp:
            Path(temp).unlink(missing_ok=True)
        raise ActionFailure(reason, f"cannot write {target}: {error.strerror or error}") from None
    return target
