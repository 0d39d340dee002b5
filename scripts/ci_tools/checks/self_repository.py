"""`self-repository`: this repository's own actions are reached as $/actions/<name> (to be implemented)."""

from __future__ import annotations

from typing import Iterator

from ci_tools.model import Finding, Severity

ID = "self-repository"
SUMMARY = "this repository's own actions are reached as $/actions/<name>"
SEVERITY = Severity.ERROR
APPLIES_TO = {"workflow", "template", "action"}


def check(doc, ctx) -> Iterator[Finding]:
    return iter(())
