"""Tokens never appear in output: every message that leaves ci-tools passes through :func:`redact`."""

from __future__ import annotations

import os
import re

TOKEN_VARIABLES = ("GITHUB_TOKEN", "GH_TOKEN", "REGISTRY_PASSWORD", "CI_TOOLS_TOKEN")
_TOKEN_SHAPES = re.compile(r"gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}")
_extra: set[str] = set()


def register(secret: str | None) -> None:
    """Remember a secret that did not come from the usual variables (a password read from a file)."""
    if secret and len(secret) >= 4:
        _extra.add(secret)


def redact(text: str) -> str:
    secrets = {os.environ.get(name, "") for name in TOKEN_VARIABLES} | _extra
    for secret in sorted((s for s in secrets if len(s) >= 4), key=len, reverse=True):
        text = text.replace(secret, "***")
    return _TOKEN_SHAPES.sub("***", text)
