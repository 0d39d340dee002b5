"""`unredacted-secrets`: no field of a JSON secret is read with ``fromJSON(secrets.X).field``.

The runner masks a secret's whole value in the logs, not the parts of it. When a secret holds a
JSON document and a workflow reads one of its fields (``fromJSON(secrets.AWS).key_id``), the field's
value is a new string that the runner does not know to mask: printed by any step, it appears in
clear text. The same holds for ``fromJSON(secrets.X)`` used whole where it becomes text again (an
``env:`` value, an input, a script): the object is written out anew, not as the secret's own text.
Only registry ``credentials:`` take the object as it is. Reported at each such expression.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ci_tools.core.findings import Finding, Severity
from ci_tools.gha.expression_sites import call_sites, leftmost, parents
from ci_tools.gha.expressions import Context, Index, Node
from ci_tools.gha.scalars import locate
from ci_tools.gha.source import Document

ID = "unredacted-secrets"
SUMMARY = "no field of a JSON secret is read (fromJSON(secrets.X).field is not masked in logs)"
SEVERITY = Severity.ERROR
APPLIES_TO = {"workflow", "template", "action"}


_MAYBE = re.compile(r"fromjson\s*\(\s*secrets")


def check(doc: Document, ctx) -> Iterator[Finding]:
    if doc.root is None or not _MAYBE.search(doc.lower_text):
        return
    ups: dict[int, dict[int, Node]] = {}  # each tree's parents, made once
    for site, tree, call in call_sites(doc, "fromjson", 1):
        up = ups.get(id(tree)) or ups.setdefault(id(tree), parents(tree))
        root = leftmost(call.args[0])
        if not (isinstance(root, Context) and root.name.lower() == "secrets"):
            continue
        read = up.get(id(call))
        if not (isinstance(read, Index) and read.obj is call):
            whole = site.node.value.strip()
            if (site.key or "").lower() == "credentials" and whole.startswith("${{") and whole.endswith("}}"):
                continue  # a registry login takes the object's fields; nothing is printed
            shown = site.node.value[call.start:call.end]
            yield doc.finding(ID, f'"{shown}" turns a JSON secret into an object, and where it becomes text again '
                                  "(an environment variable, an input, a script) it is written out anew, "
                                  "which the runner does not recognise as the secret and does not mask; pass "
                                  "the secret itself, or store each field as a secret of its own",
                              locate(doc, site.node, call.start, call.end), SEVERITY)
            continue
        shown = site.node.value[call.start:read.end]
        yield doc.finding(ID, f'"{shown}" reads a field of a JSON secret; the runner masks only the whole '
                              "secret, so this value appears in clear text wherever it is printed; store the "
                              "field as a secret of its own", locate(doc, site.node, call.start, read.end), SEVERITY)
