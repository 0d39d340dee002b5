"""`excessive-permissions`: permissions are declared and least-privilege (to be implemented)."""

from __future__ import annotations

from typing import Iterator

from ci_tools.model import Finding, Severity

ID = "excessive-permissions"
SUMMARY = "permissions are declared and least-privilege"
SEVERITY = Severity.ERROR
APPLIES_TO = {"workflow", "template", "action"}


def check(doc, ctx) -> Iterator[Finding]:
    return iter(())
