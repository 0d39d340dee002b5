"""`secrets-inherit`: reusable workflow calls pass secrets explicitly, not with secrets: inherit (to be implemented)."""

from __future__ import annotations

from typing import Iterator

from ci_tools.model import Finding, Severity

ID = "secrets-inherit"
SUMMARY = "reusable workflow calls pass secrets explicitly, not with secrets: inherit"
SEVERITY = Severity.ERROR
APPLIES_TO = {"workflow", "template", "action"}


def check(doc, ctx) -> Iterator[Finding]:
    return iter(())
