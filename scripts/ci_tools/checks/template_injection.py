"""`template-injection`: attacker-controllable expressions expanded inside run: scripts or github-script (to be implemented)."""

from __future__ import annotations

from typing import Iterator

from ci_tools.model import Finding, Severity

ID = "template-injection"
SUMMARY = "attacker-controllable expressions expanded inside run: scripts or github-script"
SEVERITY = Severity.ERROR
APPLIES_TO = {"workflow", "template", "action"}


def check(doc, ctx) -> Iterator[Finding]:
    return iter(())
