"""``path:line:col: message [check-id]`` followed by the source line and a ``^~~~`` underline."""

from __future__ import annotations

from typing import TextIO

from ci_tools.model import Finding, Severity


def render(findings: list[Finding], out: TextIO, source_line) -> None:
    for f in findings:
        loc = f.location
        out.write(f"{loc.path}:{loc.line}:{loc.col}: {f.message} [{f.check}]\n")
        line = source_line(loc.path, loc.line)
        if line is not None and line.strip():
            text = "".join(c if c.isprintable() else "?" for c in line.expandtabs(1))
            width = (loc.end_col - loc.col) if loc.end_line == loc.line and loc.end_col > loc.col \
                else max(1, len(text) - loc.col + 1)
            out.write(f"{text}\n{' ' * (loc.col - 1)}^{'~' * max(0, width - 1)}\n")
    if findings:
        errors = sum(1 for f in findings if f.severity == Severity.ERROR)
        warnings = sum(1 for f in findings if f.severity == Severity.WARNING)
        notes = len(findings) - errors - warnings
        files = len({f.location.path for f in findings})
        out.write(f"{len(findings)} finding{'s' if len(findings) != 1 else ''} in {files} "
                  f"file{'s' if files != 1 else ''}: {errors} error{'s' if errors != 1 else ''}, "
                  f"{warnings} warning{'s' if warnings != 1 else ''}, {notes} note{'s' if notes != 1 else ''}\n")
