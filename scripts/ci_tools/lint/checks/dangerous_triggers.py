"""`dangerous-triggers`: pull_request_target and workflow_run workflows do not run the pull request's code.

A ``pull_request_target`` workflow, and a ``workflow_run`` workflow that follows a pull request's
run, run with the base repository's secrets and a token that can write, even for a pull request
from a fork. Checking out the pull request's head there and then building, testing or merely
running a script from it hands all of that to the author of the pull request ("pwn request").

Reported, in such workflows:

- ``actions/checkout`` whose ``ref:`` (or ``repository:``) reads the head: ``github.head_ref``,
  ``github.event.pull_request.head.*``, ``github.event.workflow_run.head_*``, ``refs/pull/...``,
  directly or through an ``env:`` variable;
- ``run:`` commands that fetch or check out the head: ``gh pr checkout``, ``git fetch ... pull/...``,
  and ``git checkout|switch|fetch|reset|pull|worktree`` with such an expression or variable.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ci_tools.core.findings import Finding, Severity
from ci_tools.gha.expressions import ExpressionError, find_expressions
from ci_tools.gha.scalars import locate
from ci_tools.gha.source import (
    Document,
    ScalarNode,
    Step,
    iter_jobs,
    iter_steps,
    mapping_get,
    mapping_items,
    on_events,
    scalar_text,
)
from ci_tools.gha.untrusted import HEAD_REF_PATHS, untrusted_match, value_refs
from ci_tools.lint.checks.persist_credentials import is_checkout

ID = "dangerous-triggers"
SUMMARY = "pull_request_target and workflow_run workflows do not run the pull request's code"
SEVERITY = Severity.ERROR
APPLIES_TO = {"workflow", "template"}

_TRIGGERS = ("pull_request_target", "workflow_run")
_GH_CHECKOUT = re.compile(r"\bgh\s+pr\s+checkout\b")
_FETCH_PULL = re.compile(r"\bgit\b[^\n;&|]*\bfetch\b[^\n;&|]*\b(?:refs/)?pull/[^\s;&|]*")
_GIT_MOVE = re.compile(r"\bgit\b[^\n;&|]*?\b(?P<verb>checkout|switch|fetch|reset|pull|worktree)\b[^\n;&|]*")
_SHELL_VAR = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")


def check(doc: Document, ctx) -> Iterator[Finding]:
    if doc.root is None:
        return
    events = on_events(doc)
    trigger = next((t for t in _TRIGGERS if t in events), None)
    if trigger is None:
        return
    workflow_env = _env(mapping_get(doc.root, "env"))
    jobs = {job_id: job for job_id, _, job in iter_jobs(doc)}
    for step in iter_steps(doc):
        env = dict(workflow_env)
        env.update(_env(mapping_get(jobs.get(step.job_id), "env")))
        env.update(_env(mapping_get(step.node, "env")))
        if is_checkout(scalar_text(mapping_get(step.node, "uses"))):
            yield from _checkout(doc, step, env, trigger)
        run = mapping_get(step.node, "run")
        if isinstance(run, ScalarNode):
            yield from _run(doc, run, env, trigger)


def _head_path(text: str, env: dict[str, ScalarNode], depth: int = 0) -> str | None:
    """The pull request head path an expression in ``text`` reads, directly or via ``env.NAME``."""
    if "${{" not in text or depth > 3:
        return None
    try:
        expressions = find_expressions(text)
    except ExpressionError:
        return None
    for expr in expressions:
        for ref in value_refs(expr.body):
            if untrusted_match(ref.path, HEAD_REF_PATHS, objects=False):
                return ref.path
            parts = ref.path.split(".")
            if parts[0].lower() == "env" and len(parts) == 2 and parts[1] in env:
                inner = _head_path(env[parts[1]].value, env, depth + 1)
                if inner:
                    return inner
    return None


def _checkout(doc: Document, step: Step, env, trigger: str) -> Iterator[Finding]:
    with_ = mapping_get(step.node, "with")
    for key in ("ref", "repository"):
        node = mapping_get(with_, key)
        if not isinstance(node, ScalarNode):
            continue
        head = _head_path(node.value, env)
        if head is None and key == "ref" and "refs/pull/" in node.value:
            head = "refs/pull/..."
        if head is not None:
            via = "" if head in node.value or head.startswith("refs/") else f', from "{head}"'
            yield doc.finding(ID, f'this "{trigger}" workflow checks out the pull request\'s head ("{key}: '
                                  f'{node.value}"{via}) with the base repository\'s secrets and write token; '
                                  'build untrusted code in a "pull_request" workflow, or check out the base and '
                                  "read the pull request only as data", node, SEVERITY)
            return


def _run(doc: Document, run: ScalarNode, env, trigger: str) -> Iterator[Finding]:
    text = run.value
    reported: set[int] = set()
    for pattern, command in ((_GH_CHECKOUT, "gh pr checkout"), (_FETCH_PULL, "git fetch")):
        for m in pattern.finditer(text):
            reported.add(m.start())
            yield _run_finding(doc, run, m, trigger, command, "")
    for m in _GIT_MOVE.finditer(text):
        if m.start() in reported:
            continue
        head = _head_path(m.group(0), env)
        if head is None:
            for name in _SHELL_VAR.findall(m.group(0)):
                if name in env and _head_path(env[name].value, env):
                    head = _head_path(env[name].value, env)
                    break
        if head is not None:
            yield _run_finding(doc, run, m, trigger, f"git {m['verb']}", f' (from "{head}")')


def _run_finding(doc: Document, run: ScalarNode, m: re.Match, trigger: str, command: str, via: str) -> Finding:
    return doc.finding(ID, f'this "{trigger}" workflow runs "{command}" on the pull request\'s head{via} with the '
                           "base repository's secrets and write token; build untrusted code in a \"pull_request\" "
                           "workflow, or read the pull request only as data",
                       locate(doc, run, m.start(), m.end()), SEVERITY)


def _env(node) -> dict[str, ScalarNode]:
    return {k.value: v for k, v in mapping_items(node) if isinstance(v, ScalarNode)}
