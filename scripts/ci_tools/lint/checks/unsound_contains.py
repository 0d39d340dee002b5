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
from ci_tools.gha.expression_sites import call_arguments, iter_sites, tokens_of
from ci_tools.gha.scalars import locate
from ci_tools.gha.source import Document

ID = "unsound-contains"
SUMMARY = "contains() is given a list, not a string, when it tests a context value against several values"
SEVERITY = Severity.ERROR
APPLIES_TO = {"workflow", "template", "action"}


_MAYBE = re.compile(r"contains\s*\(\s*'")


def check(doc: Document, ctx) -> Iterator[Finding]:
    if doc.root is None or "contains" not in doc.lower_text or not _MAYBE.search(doc.lower_text):
        return
    for site in iter_sites(doc, "contains"):
        tokens = tokens_of(site)
        if tokens is None:
            continue
        for i, tok in enumerate(tokens):
            if not (tok.kind == "ident" and tok.text.lower() == "contains" and i + 1 < len(tokens)
                    and tokens[i + 1].text == "("):
                continue
            args, close = call_arguments(tokens, i + 1)
            if len(args) != 2 or len(args[0]) != 1 or args[0][0].kind != "string":
                continue
            subject = args[1]
            if not subject or subject[0].kind != "ident" or subject[0].text.lower() in ("true", "false", "null"):
                continue
            if len(subject) > 1 and subject[1].text == "(":
                continue  # a function's result: not a value someone names
            haystack = args[0][0].text
            needle = site.node.value[subject[0].start:subject[-1].end]
            loc = locate(doc, site.node, tok.start, tokens[close].end)
            yield doc.finding(ID, f'contains(\'{haystack}\', {needle}) tests whether "{needle}" is a substring of '
                                  "the text, so any part of it passes; test a list: contains(fromJSON('[...]'), "
                                  f"{needle}), or compare with == each value", loc, SEVERITY)
