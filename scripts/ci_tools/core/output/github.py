"""GitHub Actions workflow commands: ``::error file=...,line=...,col=...,title=<id>::message``."""

from __future__ import annotations

from typing import TextIO

from ci_tools.core.findings import Finding, Severity

_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "notice"}


def escape_data(text: str) -> str:
    """A workflow command's message: ``%``, CR and LF escaped (the one copy in ci_tools)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value (``file=``, ``title=``): also ``:`` and ``,``."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render(findings: list[Finding], out: TextIO, source_line) -> None:
    for f in findings:
        loc = f.location
        props = [f"file={escape_property(loc.path)}", f"line={loc.line}", f"col={loc.col}"]
        if loc.end_line:
            props.append(f"endLine={loc.end_line}")
        if loc.end_line == loc.line and loc.end_col:
            props.append(f"endColumn={loc.end_col}")
        props.append(f"title={escape_property(f.check)}")
        out.write(f"::{_LEVEL[f.severity]} {','.join(props)}::{escape_data(f.message)}\n")
