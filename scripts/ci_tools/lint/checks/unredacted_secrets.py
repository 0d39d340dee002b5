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
from ci_tools.gha.expression_sites import call_arguments, iter_sites, tokens_of
from ci_tools.gha.scalars import locate
from ci_tools.gha.source import Document

ID = "unredacted-secrets"
SUMMARY = "no field of a JSON secret is read (fromJSON(secrets.X).field is not masked in logs)"
SEVERITY = Severity.ERROR
APPLIES_TO = {"workflow", "template", "action"}


_MAYBE = re.compile(r"fromjson\s*\(\s*secrets")


def check(doc: Document, ctx) -> Iterator[Finding]:
    if doc.root is None or "fromjson" not in doc.lower_text or not _MAYBE.search(doc.lower_text):
        return
    for site in iter_sites(doc, "fromjson"):
        tokens = tokens_of(site)
        if tokens is None:
            continue
        for i, tok in enumerate(tokens):
            if not (tok.kind == "ident" and tok.text.lower() == "fromjson" and i + 1 < len(tokens)
                    and tokens[i + 1].text == "("):
                continue
            args, close = call_arguments(tokens, i + 1)
            if len(args) != 1 or not args[0] or args[0][0].text.lower() != "secrets":
                continue
            after = tokens[close + 1] if close + 1 < len(tokens) else None
            if after is None or after.kind != "punct" or after.text not in ".[":
                whole = site.node.value.strip()
                if (site.key or "").lower() == "credentials" and whole.startswith("${{") and whole.endswith("}}"):
                    continue  # a registry login takes the object's fields; nothing is printed
                shown = site.node.value[tok.start:tokens[close].end]
                yield doc.finding(ID, f'"{shown}" turns a JSON secret into an object, and where it becomes text again '
                                      "(an environment variable, an input, a script) it is written out anew, "
                                      "which the runner does not recognise as the secret and does not mask; pass "
                                      "the secret itself, or store each field as a secret of its own",
                                  locate(doc, site.node, tok.start, tokens[close].end), SEVERITY)
                continue
            end = tokens[close + 2].end if close + 2 < len(tokens) else after.end
            if after.text == "[":
                end = next((t.end for t in tokens[close + 1:] if t.text == "]"), end)
            shown = site.node.value[tok.start:end]
            yield doc.finding(ID, f'"{shown}" reads a field of a JSON secret; the runner masks only the whole '
                                  "secret, so this value appears in clear text wherever it is printed; store the "
                                  "field as a secret of its own", locate(doc, site.node, tok.start, end), SEVERITY)
