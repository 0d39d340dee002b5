"""`workflow-call`: reusable workflow calls match the callee's inputs, secrets and types (to be implemented)."""

from __future__ import annotations

from typing import Iterator

from ci_tools.model import Finding, Severity

ID = "workflow-call"
SUMMARY = "reusable workflow calls match the callee's inputs, secrets and types"
SEVERITY = Severity.ERROR
APPLIES_TO = {"workflow", "template", "action"}


def check(doc, ctx) -> Iterator[Finding]:
    return iter(())
