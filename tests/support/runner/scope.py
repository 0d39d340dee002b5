"""Expressions as a step sees them: the contexts, the status functions, ``hashFiles``, templates.

The grammar and the evaluator are ``ci_tools.gha`` (checked against the test data of GitHub's
expression library); this module adds what the runner supplies on top: ``success()``,
``failure()``, ``always()`` and ``cancelled()`` from the job's status, ``hashFiles()`` over the
workspace, the ``${{ }}`` template of a YAML scalar (a field holding only ``${{ object }}`` renders
as JSON), and the implicit ``success() && (...)`` of an ``if:`` that names no status function.
"""

from __future__ import annotations

import glob
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ci_tools.gha.evaluate import evaluate, to_str, truthy
from ci_tools.gha.expressions import (
    FUNCTIONS,
    STATUS_FUNCTIONS,
    Call,
    ExpressionError,
    find_expressions,
    parse,
    walk,
)

# The runner's functions on top of GitHub's built-ins: the job status and hashFiles.
_RUNNER_FUNCTIONS = {**FUNCTIONS, **STATUS_FUNCTIONS}


@dataclass
class Scope:
    """What an expression can see: the named contexts plus step status for success()/failure()."""

    contexts: dict[str, Any]
    failed: bool = False
    workspace: Path = Path(".")

    def evaluate(self, text: str) -> Any:
        """The value of one expression, parsed and evaluated by ``ci_tools.gha`` (GitHub's grammar)."""
        node = parse(text, names=self.contexts, functions=_RUNNER_FUNCTIONS)
        status = {"success": not self.failed, "failure": self.failed, "always": True, "cancelled": False}
        functions: dict[str, Callable[[list[Any]], Any]] = {name: _constant(v) for name, v in status.items()}
        functions["hashfiles"] = lambda args: hash_files(self.workspace, [to_str(a) for a in args])
        return evaluate(node, self.contexts, functions)


def _constant(value: Any) -> Callable[[list[Any]], Any]:
    return lambda _args: value


def hash_files(workspace: Path, patterns: list[str]) -> str:
    """hashFiles(): sha256 over the sha256 digests of the matching files (sorted), '' if none.

    Patterns are globs relative to the workspace (``**`` included, dotfiles too); a pattern that
    matches a directory takes the files beneath it; ``!pattern`` excludes."""
    lines = [p.strip() for pat in patterns for p in pat.splitlines() if p.strip()]

    def expand(globs: list[str]) -> set[Path]:
        found: set[Path] = set()
        for pattern in globs:
            for match in glob.glob(pattern.removeprefix("./"), root_dir=workspace, recursive=True,
                                   include_hidden=True):
                hit = workspace / match
                found.update(f for f in ([hit] if hit.is_file() else hit.rglob("*")) if f.is_file())
        return {f for f in found if f.resolve().is_relative_to(workspace.resolve())}

    files = sorted(expand([p for p in lines if not p.startswith("!")]) - expand([p[1:] for p in lines if p.startswith("!")]))
    if not files:
        return ""
    total = hashlib.sha256()
    for f in files:
        total.update(hashlib.sha256(f.read_bytes()).digest())
    return total.hexdigest()


def _split_template(text: str) -> list[tuple[bool, str]]:
    """Split ``a ${{ x }} b`` into literal and expression parts; ``}}`` inside '...' does not close."""
    try:
        found = find_expressions(text)
    except ExpressionError as exc:
        raise ExpressionError("The expression is not closed. An unescaped ${{ sequence was found, but the closing "
                              f"}}}} sequence was not found: {text}", exc.offset) from None
    parts, pos = [], 0
    for e in found:
        if e.start > pos:
            parts.append((False, text[pos:e.start]))
        parts.append((True, e.body.strip()))
        pos = e.end
    if pos < len(text) or not parts:
        parts.append((False, text[pos:]))
    return parts


def render(scope: Scope, value: Any) -> str:
    """Evaluate a YAML scalar holding ``${{ }}`` parts into the string GitHub would produce."""
    if not isinstance(value, str):
        return to_str(value)  # YAML null, booleans and numbers as GitHub writes them: '', 'true', '5'
    parts = _split_template(value)
    if len(parts) == 1 and parts[0][0]:
        return to_str(scope.evaluate(parts[0][1]), objects_as_json=True)
    return "".join(to_str(scope.evaluate(t)) if is_expr else t for is_expr, t in parts)


def condition(scope: Scope, text: Any) -> bool:
    """An ``if:``: always an expression; without a status function it means ``success() && (...)``."""
    raw = to_str(text).strip()
    parts = _split_template(raw) if "${{" in raw else [(True, raw or "success()")]
    if len(parts) != 1 or not parts[0][0]:
        return truthy(render(scope, raw))  # a string with text around ${{ }}: non-empty -> true
    expr = parts[0][1] or "success()"
    tree = parse(expr, names=scope.contexts, functions=_RUNNER_FUNCTIONS)
    uses_status = any(isinstance(n, Call) and n.name.lower() in STATUS_FUNCTIONS for n in walk(tree))
    return truthy(scope.evaluate(expr if uses_status else f"success() && ({expr})"))
