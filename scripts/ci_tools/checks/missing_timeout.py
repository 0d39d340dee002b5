"""`missing-timeout`: every job sets timeout-minutes (to be implemented)."""

from __future__ import annotations

from typing import Iterator

from ci_tools.model import Finding, Severity

ID = "missing-timeout"
SUMMARY = "every job sets timeout-minutes"
SEVERITY = Severity.WARNING
APPLIES_TO = {"workflow", "template", "action"}


def check(doc, ctx) -> Iterator[Finding]:
    return iter(())
