"""Versioned JSON: ``{"version": 1, "findings": [...]}``, built explicitly."""

from __future__ import annotations

import json
from typing import TextIO

from ci_tools.core.findings import Finding

VERSION = 1


def as_dict(f: Finding) -> dict:
    loc = f.location
    return {
        "check": f.check,
        "severity": str(f.severity),
        "message": f.message,
        "path": loc.path,
        "line": loc.line,
        "col": loc.col,
        "end_line": loc.end_line,
        "end_col": loc.end_col,
    }


def render(findings: list[Finding], out: TextIO, source_line) -> None:
    # one finding a line: readable, and written by the C encoder (indent= would use the slow one)
    if not findings:
        out.write(f'{{"version": {VERSION}, "findings": []}}\n')
        return
    out.write(f'{{"version": {VERSION}, "findings": [\n')
    out.write(",\n".join("  " + json.dumps(as_dict(f), ensure_ascii=False) for f in findings))
    out.write("\n]}\n")
