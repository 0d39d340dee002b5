"""``path:line:col: severity: message [check-id]`` followed by the source line and a ``^~~~`` underline.

The severity sits where compilers put it (``error``, ``warning``, ``note``), so editors' and CI
problem matchers read it. A message or path may carry text a pull request chose (a branch name, a
title, a file name): characters that are not printable (terminal escapes, carriage returns, line
breaks, bidirectional overrides) are written as ``\\x1b``, ``\\n``, ``\\u202e``, so that nothing
printed can move the cursor, rewrite the line or fake another finding. The source line keeps its
columns: each such character becomes one ``?``.
"""

from __future__ import annotations

from typing import TextIO

from ci_tools.core.findings import Finding, Severity

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def escape(text: str) -> str:
    """``text`` with every character that is not printable written as an escape sequence."""
    if text.isprintable():
        return text
    out = []
    for c in text:
        if c.isprintable():
            out.append(c)
        elif c in _NAMED:
            out.append(_NAMED[c])
        else:
            code = ord(c)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
    return "".join(out)


def render(findings: list[Finding], out: TextIO, source_line) -> None:
    for f in findings:
        loc = f.location
        out.write(f"{escape(loc.path)}:{loc.line}:{loc.col}: {f.severity}: {escape(f.message)} [{f.check}]\n")
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
