"""`known-compromised`: no action version or commit known to be compromised is used (to be implemented)."""

from __future__ import annotations

from typing import Iterator

from ci_tools.model import Finding, Severity

ID = "known-compromised"
SUMMARY = "no action version or commit known to be compromised is used"
SEVERITY = Severity.ERROR
APPLIES_TO = {"workflow", "template", "action"}


def check(doc, ctx) -> Iterator[Finding]:
    return iter(())
