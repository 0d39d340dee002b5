"""`unsound-contains`: ``contains()`` is not given a string where a list is meant.

``contains('refs/heads/main refs/heads/release', github.ref)`` looks like a test of membership in a
list, but with a string as its first argument it is a substring test: it is true for
``refs/heads/mai``, ``refs/heads/r`` and any other piece of the string, so anyone who can push a
branch (or name the head branch of a pull request) with such a name passes the gate. Reported when
the first argument is a string literal and the second is a context value (not a literal).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ci_tools.core.findings import Finding, Severity
from ci_tools.gha.expression_sites import call_sites, leftmost
from ci_tools.gha.expressions import Context, Literal
from ci_tools.gha.scalars import locate
from ci_tools.gha.source import Document

ID = "unsound-contains"
SUMMARY = "contains() is given a list, not a string, when it tests a context value against several values"
SEVERITY = Severity.ERROR
APPLIES_TO = {"workflow", "template", "action"}


_MAYBE = re.compile(r"contains\s*\(\s*'")


def check(doc: Document, ctx) -> Iterator[Finding]:
    if doc.root is None or not _MAYBE.search(doc.lower_text):
        return
    for site, _tree, call in call_sites(doc, "contains", 2):
        haystack, subject = call.args
        if not (isinstance(haystack, Literal) and isinstance(haystack.value, str)):
            continue
        if not isinstance(leftmost(subject), Context):
            continue  # a literal, or a function's result: not a value someone names
        needle = site.node.value[subject.start:subject.end]
        loc = locate(doc, site.node, call.start, call.end)
        yield doc.finding(ID, f'contains(\'{haystack.value}\', {needle}) tests whether "{needle}" is a substring of '
                              "the text, so any part of it passes; test a list: contains(fromJSON('[...]'), "
                              f"{needle}), or compare with == each value", loc, SEVERITY)
