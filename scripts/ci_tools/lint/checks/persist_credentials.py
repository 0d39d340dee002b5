"""`persist-credentials`: ``actions/checkout`` sets ``persist-credentials: false``.

By default ``actions/checkout`` writes the job's token into ``.git/config`` of the workspace, where
every later step (and every action or build script it runs) can read it, and where an artifact
upload of the workspace publishes it. Jobs that push with git can pass the token to that one
command instead.
"""

from __future__ import annotations

from collections.abc import Iterator

from ci_tools.core.findings import Finding, Severity
from ci_tools.gha.source import Document, ScalarNode, iter_steps, mapping_get, mapping_pair
from ci_tools.gha.uses import REMOTE, parse_uses

ID = "persist-credentials"
SUMMARY = "actions/checkout sets persist-credentials: false"
SEVERITY = Severity.ERROR
APPLIES_TO = {"workflow", "template", "action"}

_FALSE = {"false", "${{ false }}", "${{false}}"}


def is_checkout(value: str | None) -> bool:
    if not value:
        return False
    ref = parse_uses(value)
    return ref.kind == REMOTE and ref.repository.lower() == "actions/checkout" and not ref.path


def check(doc: Document, ctx) -> Iterator[Finding]:
    if doc.root is None:
        return
    for step in iter_steps(doc):
        uses = mapping_get(step.node, "uses")
        if not isinstance(uses, ScalarNode) or not is_checkout(uses.value):
            continue
        pair = mapping_pair(mapping_get(step.node, "with"), "persist-credentials")
        if pair is None:
            yield doc.finding(ID, f'"{uses.value}" leaves the job\'s token in .git/config for every later step; '
                                  'add "persist-credentials: false" under "with:"', uses, SEVERITY)
            continue
        value = pair[1]
        if isinstance(value, ScalarNode) and value.value.strip().lower() in _FALSE:
            continue
        shown = value.value if isinstance(value, ScalarNode) else "..."
        yield doc.finding(ID, f'"persist-credentials: {shown}" leaves the job\'s token in .git/config for every '
                              'later step; set it to false and pass the token only to the command that pushes',
                          value, SEVERITY)
