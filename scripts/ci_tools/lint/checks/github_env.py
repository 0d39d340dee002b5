"""`github-env`: attacker text is never written to ``$GITHUB_ENV`` or ``$GITHUB_PATH``.

Every later step of the job reads ``$GITHUB_ENV`` as ``NAME=value`` lines and ``$GITHUB_PATH`` as
directories to put first on ``PATH``. Text an attacker chooses there is code execution: a newline
in a pull request title adds ``LD_PRELOAD=...`` or ``NODE_OPTIONS=--require=...``, a directory of
the checked-out pull request shadows ``git`` or ``node``. Passing the text through ``env:`` does
not help: the variable's value is written to the file all the same.

Reported, at the file named in the redirection (``>> "$GITHUB_ENV"``, ``tee -a``, PowerShell's
``Add-Content``/``Out-File`` to ``$env:GITHUB_ENV``):

- an error when the line (or the ``{ ...; } >>`` group it closes) writes an expression or a shell
  variable whose value an attacker can choose (the sources of ``template-injection``: event text,
  inputs of a composite action, string inputs of a reusable workflow, ``env:`` set from them), or
  a variable assigned in the script from one of them;
- a warning, in workflows started by ``pull_request_target`` or ``workflow_run`` (which run with
  secrets next to the pull request's files and artifacts), when what is written is not plain text
  and runner paths: command output, file contents, variables of unknown origin.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ci_tools.core.findings import Finding, Severity
from ci_tools.gha.expressions import ExpressionError, find_expressions
from ci_tools.gha.scalars import locate
from ci_tools.gha.source import Document, ScalarNode, Step, iter_steps, mapping_get, on_events
from ci_tools.gha.untrusted import value_refs
from ci_tools.lint.checks.template_injection import Scope, writable

ID = "github-env"
SUMMARY = "attacker text is never written to $GITHUB_ENV or $GITHUB_PATH"
SEVERITY = Severity.ERROR
APPLIES_TO = {"workflow", "template", "action"}

PRIVILEGED = {"pull_request_target", "workflow_run"}
# a write to one of the files: bash/sh redirections and tee, PowerShell's cmdlets and redirections
_TARGET = r"""["']?(?:\$(?:\{)?(?:env:)?|%)(?P<file>GITHUB_ENV|GITHUB_PATH)(?:\}|%)?["']?"""
_WRITE = re.compile(rf"(?:>>?\s*|\btee\s+(?:-a\s+|--append\s+)*|-(?:File)?Path\s+|Out-File\s+(?:-FilePath\s+)?){_TARGET}",
                    re.I)
_VAR = re.compile(r"\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)[^}]*\}|(?:env:)?(?P<plain>[A-Za-z_][A-Za-z0-9_]*))|"
                  r"%(?P<cmd>[A-Za-z_][A-Za-z0-9_]*)%")
_ASSIGN = re.compile(r"^\s*(?:export\s+|local\s+|readonly\s+|declare\s+(?:-\w+\s+)*)?"
                     r"(?P<name>[A-Za-z_][A-Za-z0-9_]*)=(?P<value>.*)$")
# variables the runner sets, and values made here: never an attacker's text
_RUNNER = re.compile(r"(?:RUNNER_\w+|GITHUB_(?:WORKSPACE|ACTION_PATH|SHA|RUN_ID|RUN_NUMBER|RUN_ATTEMPT|REPOSITORY|"
                     r"REPOSITORY_OWNER|SERVER_URL|API_URL|JOB|ACTION|WORKFLOW|OUTPUT|STEP_SUMMARY|ENV|PATH)|"
                     r"HOME|PWD|PATH|RANDOM|UID)\Z")


def check(doc: Document, ctx) -> Iterator[Finding]:
    if doc.root is None or "GITHUB_" not in doc.text:
        return
    scope = None
    privileged = doc.kind != "action" and bool(PRIVILEGED & set(on_events(doc)))
    for step in iter_steps(doc):
        run = mapping_get(step.node, "run")
        if not isinstance(run, ScalarNode) or ("GITHUB_ENV" not in run.value and "GITHUB_PATH" not in run.value):
            continue
        scope = scope or Scope(doc)
        yield from _writes(doc, scope, step, run, privileged)


def _writes(doc: Document, scope: Scope, step: Step, run: ScalarNode, privileged: bool) -> Iterator[Finding]:
    text = run.value
    lines = text.split("\n")
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)
    assigned: dict[str, str] = {}  # shell variable -> the assignment's value, as the script runs
    for number, line in enumerate(lines):
        m = _ASSIGN.match(line)
        if m and "GITHUB_ENV" not in line and "GITHUB_PATH" not in line:
            assigned[m["name"]] = m["value"]
        for write in _WRITE.finditer(line):
            if write.group(0).startswith((">", "tee")) or write.group(0).lower().startswith("tee"):
                written = _written(lines, number, write.start())
            else:  # a PowerShell cmdlet: its -Value may follow the file
                written = line[:write.start()] + line[write.end():]
            where = locate(doc, run, offsets[number] + write.start("file"), offsets[number] + write.end("file"))
            file = write["file"].upper()
            source = _attacker_source(scope, step, written, assigned)
            if source is not None:
                sep = "," if ", which" in source[1] else ""
                yield doc.finding(ID, f'"{source[0]}" {source[1]}{sep} and is written to "${file}", where a newline in it '
                                      "sets any variable (or PATH) for every later step; keep it out of "
                                      f'"${file}" (pass it as a step output, or validate it first)', where, SEVERITY)
            elif privileged and not _plain(written, assigned):
                yield doc.finding(ID, f'this workflow runs with secrets next to the pull request\'s files, and "${file}" '
                                      "is written with text that is not plain (command output, a file, a variable); "
                                      f'make sure no part of it comes from the pull request, or keep it out of "${file}"',
                                  where, Severity.WARNING)


def _written(lines: list[str], number: int, column: int) -> str:
    """The text a write sends: the line before its redirection, or the ``{ ... }`` group it closes."""
    head = lines[number][:column]
    if head.strip().startswith("}") or head.rstrip().endswith(("}", ")")) and "{" not in head and "(" not in head:
        depth, body = 0, [head]
        for k in range(number - 1, -1, -1):
            body.append(lines[k])
            depth += lines[k].count("}") - lines[k].count("{") + lines[k].count(")") - lines[k].count("(")
            if depth < 0 or lines[k].strip() in ("{", "("):
                break
        return "\n".join(reversed(body))
    return head


def _attacker_source(scope: Scope, step: Step, written: str, assigned: dict[str, str],
                     depth: int = 0) -> tuple[str, str] | None:
    if depth > 4:
        return None
    if "${{" in written:
        try:
            expressions = find_expressions(written)
        except ExpressionError:
            expressions = []
        for expr in expressions:
            for ref in value_refs(expr.body):
                why = scope.source(ref.path, step)
                if why is not None:
                    return ref.path, why
    for m in _VAR.finditer(written):
        name = m["braced"] or m["plain"] or m["cmd"]
        if name in assigned:
            inner = _attacker_source(scope, step, assigned[name], {k: v for k, v in assigned.items() if k != name},
                                     depth + 1)
            if inner is not None:
                return f"${name}", f'is set in the script from "{inner[0]}"{writable(inner[0])}'
            continue
        why = scope.source(f"env.{name}", step)
        if why is not None:
            return f"${name}", why
    return None


def _plain(written: str, assigned: dict[str, str], depth: int = 0) -> bool:
    """Only literal text, runner variables, expressions of the run's own facts (``github.sha``,
    ``github.event.pull_request.number``: not outputs of steps or jobs, which may hold anything) and
    variables assigned from those."""
    if depth > 4 or "$(" in written or "`" in written or re.search(r"\bcat\b|<", written):
        return False
    if "${{" in written:
        try:
            expressions = find_expressions(written)
        except ExpressionError:
            return False
        for expr in expressions:
            if any(ref.path.split(".", 1)[0].lower() in ("steps", "needs", "matrix", "env", "fromjson")
                   for ref in value_refs(expr.body)):
                return False
        pieces, last = [], 0
        for expr in expressions:  # the expressions are known values: look at the text around them
            pieces.append(written[last:expr.start])
            last = expr.end
        written = "".join(pieces) + written[last:]
    for m in _VAR.finditer(written):
        name = m["braced"] or m["plain"] or m["cmd"]
        if _RUNNER.match(name):
            continue
        if name in assigned and _plain(assigned[name], {k: v for k, v in assigned.items() if k != name}, depth + 1):
            continue
        return False
    return True
