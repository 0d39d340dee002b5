"""`known-compromised`: no action version or commit known to be compromised is used.

What is known, and how a ``uses:`` matches it, is :mod:`ci_tools.gha.advisories` (``verify --online``
and ``report`` read it too); this module is the check.
"""

from __future__ import annotations

from collections.abc import Iterator

from ci_tools.core.findings import Finding
from ci_tools.gha import advisories
from ci_tools.gha.source import Document

ID = advisories.ID
SUMMARY = "no action version or commit known to be compromised is used"
SEVERITY = advisories.SEVERITY
APPLIES_TO = {"workflow", "template", "action"}


def check(doc: Document, ctx) -> Iterator[Finding]:
    return advisories.findings(doc)
