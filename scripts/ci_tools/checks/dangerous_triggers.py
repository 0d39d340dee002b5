"""`dangerous-triggers`: pull_request_target and workflow_run workflows do not run the pull request's code (to be implemented)."""

from __future__ import annotations

from typing import Iterator

from ci_tools.model import Finding, Severity

ID = "dangerous-triggers"
SUMMARY = "pull_request_target and workflow_run workflows do not run the pull request's code"
SEVERITY = Severity.ERROR
APPLIES_TO = {"workflow", "template", "action"}


def check(doc, ctx) -> Iterator[Finding]:
    return iter(())
