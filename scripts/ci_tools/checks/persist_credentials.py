"""`persist-credentials`: actions/checkout sets persist-credentials: false (to be implemented)."""

from __future__ import annotations

from typing import Iterator

from ci_tools.model import Finding, Severity

ID = "persist-credentials"
SUMMARY = "actions/checkout sets persist-credentials: false"
SEVERITY = Severity.ERROR
APPLIES_TO = {"workflow", "template", "action"}


def check(doc, ctx) -> Iterator[Finding]:
    return iter(())
