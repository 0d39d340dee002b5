"""`insecure-commands`: the workflow commands ``set-env`` and ``add-path`` stay off.

GitHub disabled the ``::set-env::`` and ``::add-path::`` workflow commands in 2020: any program
that prints to the log could set environment variables (``LD_PRELOAD``, ``NODE_OPTIONS``) or put
its directory first on ``PATH`` for every later step. ``ACTIONS_ALLOW_UNSECURE_COMMANDS`` turns them
back on. Reported wherever it is set to anything but false: ``env:`` of the workflow, a job or a
step, a composite action's step, a row of a matrix (which ``env: ${{ matrix.env }}`` hands to the
environment), or a write of it to ``$GITHUB_ENV`` in a script.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ci_tools.core.findings import Finding, Severity
from ci_tools.gha.scalars import locate
from ci_tools.gha.source import Document, MappingNode, ScalarNode, SequenceNode, iter_steps, mapping_get

ID = "insecure-commands"
SUMMARY = "the disabled set-env and add-path workflow commands stay off (ACTIONS_ALLOW_UNSECURE_COMMANDS)"
SEVERITY = Severity.ERROR
APPLIES_TO = {"workflow", "template", "action"}

NAME = "ACTIONS_ALLOW_UNSECURE_COMMANDS"
_FALSE = {"false", "0", "no", "", "${{ false }}"}
_IN_SCRIPT = re.compile(r"\bACTIONS_ALLOW_UNSECURE_COMMANDS\s*=\s*['\"]?(?P<value>[^'\"\s;|&]*)")
_MESSAGE = (f'"{NAME}" turns on the set-env and add-path workflow commands, with which any program that prints '
            'to the log can change the environment or PATH of later steps; remove it and write to "$GITHUB_ENV" '
            'or "$GITHUB_PATH" instead')


def check(doc: Document, ctx) -> Iterator[Finding]:
    if doc.root is None or NAME not in doc.text.upper():
        return
    for step in iter_steps(doc):
        run = mapping_get(step.node, "run")
        if isinstance(run, ScalarNode) and "GITHUB_ENV" in run.value:
            for m in _IN_SCRIPT.finditer(run.value):
                if m["value"].lower() not in _FALSE:
                    yield doc.finding(ID, _MESSAGE, locate(doc, run, m.start(), m.end()), SEVERITY)
    # the key anywhere: env: of the workflow, a job or a step, and the rows of a matrix that an
    # "env: ${{ matrix.env }}" hands to the environment
    stack = [doc.root]
    seen: set[int] = set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, MappingNode):
            for key, value in node.value:
                if isinstance(key, ScalarNode) and key.value.upper() == NAME:
                    text = value.value.strip().lower() if isinstance(value, ScalarNode) else "?"
                    if text not in _FALSE:
                        yield doc.finding(ID, _MESSAGE, key, SEVERITY)
                stack.append(value)
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)
