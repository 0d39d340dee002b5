"""Versioned JSON: ``{"version": 1, "findings": [...]}``, built explicitly."""

from __future__ import annotations

import json
from typing import TextIO

from ci_tools.model import Finding

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
    json.dump({"version": VERSION, "findings": [as_dict(f) for f in findings]}, out, indent=2)
    out.write("\n")
