"""SARIF 2.1.0 as GitHub code scanning accepts it: one rule per check id, 1-based regions.

A rule's text is what the caller's ``describe`` says of its id (the commands pass the lint
registry's summaries and docs/checks.md); without one, the id stands for itself.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, TextIO

from ci_tools import __version__
from ci_tools.core.findings import Finding, Severity

if TYPE_CHECKING:
    from ci_tools.core.output import Describe

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "note"}
_SECURITY = {"unpinned-uses": "8.0", "template-injection": "9.0", "excessive-permissions": "6.0",
             "dangerous-triggers": "9.0", "persist-credentials": "5.0", "secrets-inherit": "5.0",
             "known-compromised": "10.0", "disallowed-action": "5.0"}


def _undescribed(check_id: str) -> tuple[str, str | None]:
    return check_id, None


def rules_for(check_ids: list[str], describe: Describe | None = None) -> list[dict]:
    describe = describe or _undescribed
    rules = []
    for check_id in check_ids:
        summary, documentation = describe(check_id)
        help_text = documentation or summary
        rule: dict[str, Any] = {
            "id": check_id,
            "name": "".join(part.capitalize() for part in check_id.split("-")),
            "shortDescription": {"text": summary},
            "fullDescription": {"text": summary},
            "help": {"text": help_text, "markdown": help_text},
            "properties": {"tags": ["security"] if check_id in _SECURITY else ["correctness"]},
        }
        if check_id in _SECURITY:
            rule["properties"]["security-severity"] = _SECURITY[check_id]
        rules.append(rule)
    return rules


def render(findings: list[Finding], out: TextIO, source_line, describe: Describe | None = None) -> None:
    check_ids = sorted({f.check for f in findings})
    index = {cid: i for i, cid in enumerate(check_ids)}
    results = []
    for f in findings:
        loc = f.location
        region = {"startLine": loc.line, "startColumn": loc.col}
        if loc.end_line >= loc.line:
            region["endLine"] = loc.end_line
            region["endColumn"] = max(loc.end_col, loc.col + 1 if loc.end_line == loc.line else 1)
        results.append({
            "ruleId": f.check,
            "ruleIndex": index[f.check],
            "level": _LEVEL[f.severity],
            "message": {"text": f.message},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": loc.path, "uriBaseId": "%SRCROOT%"},
                "region": region,
            }}],
            "partialFingerprints": {"primaryLocationLineHash": f"{f.check}:{loc.path}:{loc.line}:{loc.col}"},
        })
    log = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "ci-tools",
                "version": __version__,
                "informationUri": "https://github.com/org/ci",
                "rules": rules_for(check_ids, describe),
            }},
            "results": results,
        }],
    }
    json.dump(log, out, indent=2)
    out.write("\n")
