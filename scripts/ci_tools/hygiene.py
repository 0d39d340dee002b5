"""What the pull request hygiene commands (``commits``, ``branch``, ``secrets``) share.

- :func:`git`: run git in a repository, one-line errors instead of tracebacks;
- :class:`TextSource`: lines of a text that is not a file (a commit message, a branch name), so
  the shared text reporter can print the line and its ``^~~~`` underline;
- :func:`emit`: the ``--format`` machinery of ``check`` plus an optional extra block (the bump);
- :func:`append_summary`: a Markdown section for ``$GITHUB_STEP_SUMMARY`` listing each problem.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ci_tools.model import Finding, Severity


class GitError(Exception):
    pass


def git(args: list[str], cwd: Path, *, input: bytes | None = None, check: bool = True) -> bytes:
    """Run ``git ARGS`` in ``cwd`` and return stdout; a failure raises :class:`GitError` with git's message."""
    env = dict(os.environ, LC_ALL="C", GIT_PAGER="cat")
    try:
        done = subprocess.run(["git", *args], cwd=cwd, input=input, capture_output=True, env=env, timeout=300)
    except FileNotFoundError:
        raise GitError("git is not installed or not on PATH") from None
    except subprocess.TimeoutExpired:
        raise GitError(f"git {args[0]} took longer than 300 seconds") from None
    if check and done.returncode != 0:
        err = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(err[0].removeprefix("fatal: ") if err else f"git {args[0]} exited {done.returncode}")
    return done.stdout


def read_blobs(root: Path, head: str, paths: list[str]) -> dict[str, bytes]:
    """File contents at ``head`` through one ``git cat-file --batch``; missing or non-blob paths are left out."""
    if not paths:
        return {}
    request = "".join(f"{head}:{p}\n" for p in paths).encode("utf-8")
    data = git(["cat-file", "--batch"], root, input=request)
    out: dict[str, bytes] = {}
    pos = 0
    for path in paths:
        end = data.index(b"\n", pos)
        header = data[pos:end].decode("utf-8", "replace").split()
        pos = end + 1
        if len(header) == 3 and header[1] in ("blob", "commit", "tree", "tag"):
            size = int(header[2])
            if header[1] == "blob":
                out[path] = data[pos:pos + size]
            pos += size + 1
    return out


def merge_base(root: Path, base: str, head: str) -> str:
    """The merge base of ``base`` and ``head``; a one-line error that says what to do when there is none."""
    try:
        found = git(["merge-base", base, head], root).decode().strip()
    except GitError:
        found = ""
    if not found:
        raise GitError(f'"{base}" and "{head}" have no merge base; the clone is shallow or the branches share no '
                       "history: fetch the whole history (actions/checkout with fetch-depth: 0)")
    return found


def verify_revision(rev: str, root: Path) -> str:
    """The commit id of ``rev``; a one-line error that says what to do when it is not there."""
    if rev.startswith("-"):
        raise GitError(f'"{rev}" is not a revision')
    try:
        return git(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}"], root).decode().strip()
    except GitError:
        raise GitError(f'unknown revision "{rev}"; fetch it first (actions/checkout with fetch-depth: 0 '
                       "fetches the whole history)") from None


@dataclass
class TextSource:
    """Duck-types the part of :class:`ci_tools.source.Document` that the reporters read."""

    display: str
    text: str
    pseudo: bool = True  # not a file of the repository (a commit, a title, a branch name)

    def line_text(self, number: int) -> str | None:
        # the same line breaks as ci_tools.conventional.clean, so line numbers agree
        lines = self.text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        return lines[number - 1] if 1 <= number <= len(lines) else None


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    from ci_tools.commands.check import add_output_arguments

    add_output_arguments(parser)
    parser.add_argument("--summary", type=Path, metavar="FILE",
                        help="append a Markdown section listing each problem to FILE "
                             "(the action passes $GITHUB_STEP_SUMMARY)")
    parser.add_argument("--config", type=Path, help="configuration file (default: .github/ci-tools.toml "
                                                   "or [tool.ci-tools] in pyproject.toml)")
    parser.add_argument("--root", type=Path, help="repository root (default: the nearest directory with .git)")


def emit(findings: list[Finding], args: argparse.Namespace, sources: Iterable[Any] = (),
         extra: dict[str, Any] | None = None, extra_text: str = "", github_notice: bool = True) -> int:
    """Render ``findings`` like ``check`` does, plus ``extra`` (JSON key/values) or ``extra_text``.

    Text output gets ``extra_text`` after the findings; JSON output gets the ``extra`` keys next
    to ``findings``; the ``github`` format turns ``extra_text`` into a notice (unless
    ``github_notice`` is false); SARIF has no place for it, so it goes to standard error there.
    """
    from ci_tools import report
    from ci_tools.commands.check import default_format
    from ci_tools.engine import source_lines
    from ci_tools.redact import redact

    fmt = args.format or default_format()
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
    else:
        report.get(fmt)(findings, buffer, lookup)
    text = buffer.getvalue()
    if fmt == "json" and extra:
        data = json.loads(text)
        data.update(extra)
        text = json.dumps(data, indent=2) + "\n"
    elif fmt == "text" and extra_text:
        text += extra_text + "\n"
    elif fmt == "github" and extra_text and github_notice:
        text += f"::notice title=ci-tools::{extra_text.replace('%', '%25').replace(chr(10), '%0A')}\n"
    elif fmt == "sarif" and extra_text:
        sys.stderr.write(redact(extra_text) + "\n")
    text = redact(text)
    if args.output:
        from ci_tools.fsutil import atomic_write_text

        atomic_write_text(args.output, text)
    else:
        sys.stdout.write(text)
    threshold = Severity.parse(args.fail_level)
    return 1 if any(f.severity >= threshold for f in findings) else 0


def _github_plain(f: Finding, line: str | None) -> str:
    level = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "notice"}[f.severity]
    loc = f.location
    message = f.message
    if line:
        width = max(1, (loc.end_col - loc.col) if loc.end_line == loc.line else len(line) - loc.col + 1)
        message += f"\n{line}\n{' ' * (loc.col - 1)}^{'~' * (width - 1)}"
    title = f"{f.check} ({loc.path}{f', line {loc.line}' if loc.line > 1 else ''})"
    escape = {"%": "%25", "\r": "%0D", "\n": "%0A"}
    data = "".join(escape.get(c, c) for c in message)
    prop = "".join(escape.get(c, c) for c in title).replace(":", "%3A").replace(",", "%2C")
    return f"::{level} title={prop}::{data}\n"


_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_{}[]<>()#+-.!|~"})


def md_escape(text: str) -> str:
    return text.translate(_MD_SPECIAL)


def append_summary(path: Path, title: str, findings: list[Finding], *,
                   source: Callable[[str, int], str | None] | None = None, ok_text: str, extra: str = "") -> None:
    """Append a Markdown section to ``path`` (``$GITHUB_STEP_SUMMARY``): one bullet per problem."""
    from ci_tools.redact import redact

    icon = {Severity.ERROR: "❌", Severity.WARNING: "⚠️", Severity.NOTE: "ℹ️"}
    lines = [f"### {title}", ""]
    if not findings:
        lines.append(f"✅ {md_escape(ok_text)}")
    for f in findings:
        loc = f.location
        lines.append(f"- {icon[f.severity]} **{f.severity}** `{loc.path}` line {loc.line}, column {loc.col}: "
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


def configure(findings: list[Finding], config) -> list[Finding]:
    from ci_tools.engine import configure as engine_configure

    return engine_configure(findings, config)
