"""The job summary: a Markdown section appended to ``$GITHUB_STEP_SUMMARY`` listing each problem."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ci_tools.core.findings import Finding, Severity
from ci_tools.core.markdown import code_span, md_escape


def append_summary(path: Path, title: str, findings: list[Finding], *,
                   source: Callable[[str, int], str | None] | None = None, ok_text: str, extra: str = "") -> None:
    """Append a Markdown section to ``path`` (``$GITHUB_STEP_SUMMARY``): one bullet per problem."""
    from ci_tools.core.redact import redact

    icon = {Severity.ERROR: "❌", Severity.WARNING: "⚠️", Severity.NOTE: "ℹ️"}
    lines = [f"### {title}", ""]
    if not findings:
        lines.append(f"✅ {md_escape(ok_text)}")
    for f in findings:
        loc = f.location
        # the path may be a pull request's choice: fenced so nothing in it closes the span
        lines.append(f"- {icon[f.severity]} **{f.severity}** {code_span(loc.path, table=False)} line {loc.line}, "
                     f"column {loc.col}: "
                     f"{md_escape(f.message)} \\[{f.check}\\]")
        text = source(loc.path, loc.line) if source else None
        if text:
            width = max(1, (loc.end_col - loc.col) if loc.end_line == loc.line else len(text) - loc.col + 1)
            body = f"{text}\n{' ' * (loc.col - 1)}^{'~' * (width - 1)}".replace("```", "`\u200b``")
            lines += ["", "  ```text", *(f"  {row}" for row in body.split("\n")), "  ```"]
    if extra:
        lines += ["", extra]
    lines.append("")
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(redact("\n".join(lines) + "\n"))
