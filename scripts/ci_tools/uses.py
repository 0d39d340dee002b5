"""Parsing of ``uses:`` references and of the version comment that follows a pin."""

from __future__ import annotations

import re
from dataclasses import dataclass

LOCAL = "local"  # ./path
SELF = "self"  # $/path: this repository at the caller's commit
DOCKER = "docker"  # docker://image
EXPRESSION = "expression"  # contains ${{ }}
REMOTE = "remote"  # owner/repo[/path]@ref
INVALID = "invalid"

SHA_RE = re.compile(r"(?:[0-9a-f]{40}|[0-9a-f]{64})\Z")
_REMOTE_RE = re.compile(
    r"(?P<owner>[A-Za-z0-9][A-Za-z0-9-]*)/(?P<repo>[A-Za-z0-9._-]+)(?:/(?P<path>[^@]+))?@(?P<ref>[^\s@]+)\Z")
SEMVER_RE = re.compile(r"v?(?P<major>\d+)(?:\.(?P<minor>\d+))?(?:\.(?P<patch>\d+))?(?P<pre>[-+][0-9A-Za-z.+-]*)?\Z")
_COMMENT_VERSION_RE = re.compile(
    r"^(?:(?:tag|version|pin|ratchet)\s*[=:@]\s*|pin@|ratchet:[^@\s]+@)?(?P<version>[^\s#,;]+)")


@dataclass(frozen=True)
class UsesRef:
    raw: str
    kind: str
    owner: str = ""
    repo: str = ""
    path: str = ""
    ref: str = ""

    @property
    def repository(self) -> str:
        """``owner/repo`` (case preserved)."""
        return f"{self.owner}/{self.repo}" if self.owner else ""

    @property
    def action(self) -> str:
        """``owner/repo[/path]`` without the ref."""
        return self.repository + (f"/{self.path}" if self.path else "")

    @property
    def is_sha(self) -> bool:
        return bool(SHA_RE.match(self.ref))

    @property
    def is_reusable_workflow(self) -> bool:
        return bool(re.match(r"\.github/workflows/[^/]+\.ya?ml\Z", self.path))

    def with_ref(self, ref: str) -> str:
        return f"{self.action}@{ref}"


def parse_uses(value: str) -> UsesRef:
    value = value.strip()
    if "${{" in value:
        return UsesRef(value, EXPRESSION)
    if value.startswith("./"):
        return UsesRef(value, LOCAL, path=value[2:])
    if value.startswith("$/"):
        return UsesRef(value, SELF, path=value[2:])
    if value.startswith("docker://"):
        return UsesRef(value, DOCKER, path=value[len("docker://"):])
    m = _REMOTE_RE.match(value)
    if not m:
        return UsesRef(value, INVALID)
    return UsesRef(value, REMOTE, m["owner"], m["repo"], (m["path"] or "").strip("/"), m["ref"])


def comment_version(comment: str | None) -> str | None:
    """The version a pin's comment names: ``v4.2.2``, ``tag=v4.2.2``, ``pin@v4.2.2``; else None."""
    if not comment:
        return None
    m = _COMMENT_VERSION_RE.match(comment.strip())
    if not m:
        return None
    version = m["version"]
    return version or None


def semver_key(tag: str) -> tuple[int, int, int, int, int] | None:
    """Sort key for ``vX[.Y[.Z]]`` tags: releases above prereleases, more specific above less."""
    m = SEMVER_RE.match(tag)
    if not m:
        return None
    parts = (m["major"], m["minor"], m["patch"])
    specificity = sum(p is not None for p in parts)
    return (int(m["major"]), int(m["minor"] or 0), int(m["patch"] or 0), 0 if m["pre"] else 1, specificity)


def is_exact_version(tag: str) -> bool:
    """``v4.2.2`` or ``4.2.2`` (full semver, prerelease allowed); not ``v4`` or ``main``."""
    m = SEMVER_RE.match(tag)
    return bool(m and m["patch"] is not None)


# ---------------------------------------------------------------------------- images
_DIGEST_RE = re.compile(r"@sha256:[0-9a-f]{64}\Z")


def image_is_pinned(image: str) -> bool:
    return bool(_DIGEST_RE.search(image.strip()))
