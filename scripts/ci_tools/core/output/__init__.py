"""Reporters: one per output format behind one mapping, and :func:`emit`, which writes them.

- :class:`TextSource`: lines of a text that is not a file (a commit message, a branch name), so
  the text reporter can print the line and its ``^~~~`` underline;
- :class:`OutputSettings`: where and how a command writes (``--format``, ``--fail-level``,
  ``--output``), built by the commands from their arguments;
- :func:`emit` renders findings, :func:`write` writes any report (redacted: the one place output
  leaves ci-tools) and :func:`exit_code` is the one rule from findings to an exit status.

This package knows no check: what a finding id means (its summary and documentation, for SARIF's
rules) comes from the caller as a :data:`Describe` (the commands pass the lint registry's).
"""

from __future__ import annotations

import io
import json as jsonlib  # json would be the json reporter, a module of this package, once it is imported
import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TextIO

from ci_tools.core.findings import Finding, Severity
from ci_tools.core.output.github import escape_data, escape_property


class SourceLines(Protocol):
    def __call__(self, path: str, line: int) -> str | None: ...


Reporter = Callable[[list[Finding], TextIO, SourceLines], None]

# a finding id's one-line summary and its documentation (None when it has none)
Describe = Callable[[str], tuple[str, "str | None"]]

FORMATS = ("text", "json", "sarif", "github")


def get(name: str) -> Reporter:
    if name == "text":
        from ci_tools.core.output.text import render
    elif name == "json":
        from ci_tools.core.output.json import render
    elif name == "sarif":
        from ci_tools.core.output.sarif import render
    elif name == "github":
        from ci_tools.core.output.github import render
    else:
        raise KeyError(name)
    return render


def no_source(path: str, line: int) -> str | None:
    return None


def default_format() -> str:
    return "github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text"


def source_lines(sources: Iterable[Any]) -> SourceLines:
    """Look up a line of a source by its display path: a :class:`~ci_tools.gha.source.Document` or a
    :class:`TextSource` (both have ``display``, ``text`` and ``line_text``)."""
    by_path = {s.display: s for s in sources}

    def lookup(path: str, line: int) -> str | None:
        source = by_path.get(path)
        return source.line_text(line) if source is not None and source.text else None

    return lookup


@dataclass
class TextSource:
    """Duck-types the part of :class:`ci_tools.gha.source.Document` that the reporters read."""

    display: str
    text: str
    pseudo: bool = True  # not a file of the repository (a commit, a title, a branch name)

    def line_text(self, number: int) -> str | None:
        # the same line breaks as ci_tools.hygiene.conventional.clean, so line numbers agree
        lines = self.text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        return lines[number - 1] if 1 <= number <= len(lines) else None


@dataclass(frozen=True)
class OutputSettings:
    """How a command writes its findings: ``format`` (None: :func:`default_format`), the lowest
    severity that fails (``fail_level``) and the file to write (``output``; None: standard output)."""

    format: str | None = None
    fail_level: str = "warning"
    output: Path | None = None


def exit_code(findings: Iterable[Finding], fail_level: str) -> int:
    """1 when a finding reaches ``fail_level``, else 0: the one rule for every command."""
    threshold = Severity.parse(fail_level)
    return 1 if any(f.severity >= threshold for f in findings) else 0


def write(text: str, output: Path | None) -> None:
    """Write a report, redacted, to ``output`` (atomically) or standard output."""
    from ci_tools.core.redact import redact

    text = redact(text)
    if output:
        from ci_tools.core.fsutil import atomic_write_text

        atomic_write_text(output, text)
    else:
        sys.stdout.write(text)


def emit(findings: list[Finding], settings: OutputSettings, sources: Iterable[Any] = (),
         extra: dict[str, Any] | None = None, extra_text: str = "", github_notice: bool = True, *,
         describe: Describe | None = None) -> int:
    """Render ``findings`` in ``settings.format`` to ``settings.output`` or standard output, redacted,
    and return the exit code for ``settings.fail_level``; plus ``extra`` (JSON key/values) or ``extra_text``.

    Text output gets ``extra_text`` after the findings; JSON output gets the ``extra`` keys next
    to ``findings``; the ``github`` format turns ``extra_text`` into a notice (unless
    ``github_notice`` is false); SARIF has no place for it, so it goes to standard error there.
    ``describe`` gives SARIF's rules their text.
    """
    from ci_tools.core import output as report
    from ci_tools.core.redact import redact

    fmt = settings.format or default_format()
    buffer = io.StringIO()
    sources = list(sources)
    lookup = source_lines(sources) if sources else report.no_source
    pseudo = {s.display for s in sources if getattr(s, "pseudo", False)}
    if fmt == "github" and pseudo:
        # a commit or a branch is no file of the repository: annotate the run, not a file, and
        # carry the underlined line in the message
        files = [f for f in findings if f.location.path not in pseudo]
        report.get(fmt)(files, buffer, lookup)
        for f in findings:
            if f.location.path in pseudo:
                buffer.write(_github_plain(f, lookup(f.location.path, f.location.line)))
    elif fmt == "sarif":
        from ci_tools.core.output.sarif import render

        render(findings, buffer, lookup, describe=describe)
    else:
        report.get(fmt)(findings, buffer, lookup)
    text = buffer.getvalue()
    if fmt == "json" and extra:
        data = jsonlib.loads(text)
        data.update(extra)
        text = jsonlib.dumps(data, indent=2) + "\n"
    elif fmt == "text" and extra_text:
        text += extra_text + "\n"
    elif fmt == "github" and extra_text and github_notice:
        text += f"::notice title=ci-tools::{escape_data(extra_text)}\n"
    elif fmt == "sarif" and extra_text:
        sys.stderr.write(redact(extra_text) + "\n")
    write(text, settings.output)
    return exit_code(findings, settings.fail_level)


def _github_plain(f: Finding, line: str | None) -> str:
    level = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "notice"}[f.severity]
    loc = f.location
    message = f.message
    if line:
        width = max(1, (loc.end_col - loc.col) if loc.end_line == loc.line else len(line) - loc.col + 1)
        message += f"\n{line}\n{' ' * (loc.col - 1)}^{'~' * (width - 1)}"
    title = f"{f.check} ({loc.path}{f', line {loc.line}' if loc.line > 1 else ''})"
    return f"::{level} title={escape_property(title)}::{escape_data(message)}\n"
