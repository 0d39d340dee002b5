"""`unpinned-uses`: remote actions, reusable workflows and images are pinned to a commit SHA or digest with a version comment (to be implemented)."""

from __future__ import annotations

from typing import Iterator

from ci_tools.model import Finding, Severity

ID = "unpinned-uses"
SUMMARY = "remote actions, reusable workflows and images are pinned to a commit SHA or digest with a version comment"
SEVERITY = Severity.ERROR
APPLIES_TO = {"workflow", "template", "action"}


def check(doc, ctx) -> Iterator[Finding]:
    return iter(())
