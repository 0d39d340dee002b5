"""Every finding id any command emits is registered and has a whole section in docs/checks.md, which
``ci-tools check --explain ID`` prints: what it means, why it matters, how to fix it, an example.

The ids are read from the source, not listed here: every ``Finding(ID, ...)`` and ``doc.finding(ID,
...)`` call of ``scripts/ci_tools``, its first argument a string, a module constant, or a parameter
of a function whose callers in the module pass one of those. A call this cannot resolve fails the
test, so a new way of emitting findings has to be made readable here first.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from ci_tools.lint.checks import known_ids
from ci_tools.lint.reference import sections
from support.paths import REPO

PACKAGE = REPO / "scripts" / "ci_tools"
EMITTERS = {"Finding", "finding"}
# re-emissions of a finding already made (a new severity, a child process's findings): not new ids
PASS_THROUGH = re.compile(r"\w+\.check\Z")


def _constants(tree: ast.Module) -> dict[str, str]:
    out = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    out[target.id] = node.value.value
    return out


def _functions(tree: ast.Module) -> list[ast.FunctionDef]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]


def _enclosing(tree: ast.Module, call: ast.Call) -> ast.FunctionDef | None:
    best = None
    for fn in _functions(tree):
        if fn.lineno <= call.lineno <= (fn.end_lineno or fn.lineno) and (best is None or fn.lineno > best.lineno):
            best = fn
    return best


def _name(call: ast.Call) -> str | None:
    f = call.func
    return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None


def _resolve(tree: ast.Module, constants: dict[str, str], call: ast.Call, arg: ast.expr, path: Path,
             depth: int = 0) -> set[str]:
    where = f"{path.relative_to(REPO)}:{call.lineno}"
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return {arg.value}
    if isinstance(arg, ast.Name) and arg.id in constants:
        return {constants[arg.id]}
    if PASS_THROUGH.match(ast.unparse(arg)):
        return set()
    fn = _enclosing(tree, call)
    if isinstance(arg, ast.Name) and fn is not None and depth < 3:
        params = [a.arg for a in fn.args.args]
        if fn.name in EMITTERS:  # Document.finding forwarding its own parameter: its callers are scanned
            return set()
        if arg.id in params:
            index = params.index(arg.id) - (1 if params and params[0] == "self" else 0)
            found: set[str] = set()
            callers = [c for c in ast.walk(tree) if isinstance(c, ast.Call) and _name(c) == fn.name]
            assert callers, f"{where}: the id comes from {fn.name}(), which nothing in the module calls"
            for caller in callers:
                assert len(caller.args) > index, f"{where}: a call of {fn.name}() passes the id by keyword"
                found |= _resolve(tree, constants, caller, caller.args[index], path, depth + 1)
            return found
    raise AssertionError(f"{where}: cannot tell which finding id {ast.unparse(arg)!r} is; pass a string or a "
                         "module constant")


def emitted_ids() -> dict[str, list[str]]:
    """Finding id -> where it is emitted."""
    out: dict[str, list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        constants = _constants(tree)
        for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
            if _name(call) in EMITTERS and call.args:
                for found in _resolve(tree, constants, call, call.args[0], path):
                    out.setdefault(found, []).append(f"{path.relative_to(REPO)}:{call.lineno}")
    return out


EMITTED = emitted_ids()
PARTS = {
    "what": re.compile(r"^### What it (?:detects|means)\s*$", re.M),
    "why": re.compile(r"^### Why it matters\s*$", re.M),
    "how": re.compile(r"^### How to fix\s*$", re.M),
}


def _part(text: str, heading: re.Pattern) -> str:
    m = heading.search(text)
    if not m:
        return ""
    rest = text[m.end():]
    stop = re.search(r"^### ", rest, re.M)
    return rest[:stop.start() if stop else len(rest)].strip()


def test_the_scan_finds_the_ids_of_every_kind_of_emitter():
    # a literal, a module constant of a check, a command's CHECK_ID, a parameter of a nested function
    assert {"syntax", "missing-timeout", "branch-name", "transitive-unpinned", "impostor-commit"} <= set(EMITTED)


def test_every_emitted_id_is_registered():
    unknown = {i: where for i, where in EMITTED.items() if i not in known_ids()}
    assert not unknown, f"ids emitted but not in ci_tools.lint.checks (ENGINE_IDS, COMMAND_IDS or a check): {unknown}"


@pytest.mark.parametrize("finding_id", sorted(known_ids() | set(EMITTED)))
def test_every_id_has_a_whole_section(finding_id: str):
    text = sections().get(finding_id)
    assert text, f"docs/checks.md has no section ## `{finding_id}`"
    for part, heading in PARTS.items():
        body = _part(text, heading)
        assert len(body.split()) >= 12, f"the section of {finding_id} says too little under '{part}'"
    example = _part(text, re.compile(r"^### Example\s*$", re.M))
    before, after = (_part(text, re.compile(rf"^### {p}\s*$", re.M)) for p in ("Before", "After"))
    assert (before and after) or example, f"the section of {finding_id} has no example"
    assert "```" in (example or before), f"the example of {finding_id} shows no code"


def test_explain_prints_the_section_of_a_command_finding(cli):
    done = cli("check", "--explain", "impostor-commit")
    assert done.returncode == 0
    assert done.stdout == sections()["impostor-commit"]
    assert "### Why it matters" in done.stdout and "### Example" in done.stdout
