"""`unfilled-placeholder`: a value a starter workflow left to fill in is still its placeholder.

Some values of a starter workflow cannot be derived from the repository: the Kubernetes Rollout a
canary deploys, its namespace. The starters of org/ci write them as ``<rollout-name>``, a value
that GitHub accepts as text and that would only fail when the job runs, after the image was built
and in front of the environment's reviewers. In a workflow (not in ``workflow-templates/``, where
placeholders belong) a scalar that is one such word in angle brackets is reported.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ci_tools.core.findings import Finding, Severity
from ci_tools.gha.source import Document, MappingNode, Node, ScalarNode, SequenceNode

ID = "unfilled-placeholder"
SUMMARY = "a starter workflow's <placeholder> value is left in a workflow"
SEVERITY = Severity.ERROR
APPLIES_TO = {"workflow"}

# `<rollout-name>`, `<namespace>`: lower-case words joined by hyphens, nothing else in the value
PLACEHOLDER = re.compile(r"<[a-z][a-z0-9]*(?:-[a-z0-9]+)*>")


def _values(node: Node | None) -> Iterator[ScalarNode]:
    """Every scalar value (not mapping keys) under ``node``; aliases are walked once."""
    seen: set[int] = set()
    stack = [node]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ScalarNode):
            yield current
        elif isinstance(current, MappingNode):
            stack.extend(value for _, value in reversed(current.value))
        elif isinstance(current, SequenceNode):
            stack.extend(reversed(current.value))


def check(doc: Document, ctx) -> Iterator[Finding]:
    for node in _values(doc.root):
        if node.style in (None, "", "'", '"') and PLACEHOLDER.fullmatch(node.value):
            yield doc.finding(ID, f'"{node.value}" is a placeholder of the starter workflow this file was made from;'
                                  " replace it with the value it names", node, SEVERITY)
