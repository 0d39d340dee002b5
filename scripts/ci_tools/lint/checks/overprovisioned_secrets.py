"""`overprovisioned-secrets`: the whole ``secrets`` context never reaches a job.

The runner gives a job only the secrets its expressions name. ``toJSON(secrets)``, a bare
``secrets`` and ``secrets[...]`` with a key computed at run time (``secrets[inputs.name]``,
``secrets[format('{0}_TOKEN', matrix.env)]``) make it hand over every secret the workflow can read,
to whatever step receives the value. Reported at the ``secrets`` of each such expression; a
static key (``secrets['NPM_TOKEN']``) names one secret and is not reported.
"""

from __future__ import annotations

from collections.abc import Iterator

from ci_tools.core.findings import Finding, Severity
from ci_tools.gha.expression_sites import chains, iter_sites, tree_of
from ci_tools.gha.scalars import locate
from ci_tools.gha.source import Document

ID = "overprovisioned-secrets"
SUMMARY = "the whole secrets context (toJSON(secrets), secrets[<computed>]) never reaches a job"
SEVERITY = Severity.ERROR
APPLIES_TO = {"workflow", "template", "action"}


def _maybe(low: str) -> bool:
    """Whether ``secrets`` appears anywhere but as ``secrets.NAME`` or a ``secrets:`` key."""
    i = low.find("secrets")
    while i >= 0:
        j = i + 7
        while j < len(low) and low[j] in " \t":
            j += 1
        if j >= len(low) or low[j] not in ".:" and not (low[j].isalnum() or low[j] in "_-"):
            if i == 0 or not (low[i - 1].isalnum() or low[i - 1] in "_.-"):
                return True
        i = low.find("secrets", i + 7)
    return False


def check(doc: Document, ctx) -> Iterator[Finding]:
    if doc.root is None or "secrets" not in doc.lower_text or not _maybe(doc.lower_text):
        return
    for site in iter_sites(doc, "secrets"):
        tree = tree_of(site)
        if tree is None:
            continue
        for chain in chains(tree):
            if chain.root.name.lower() != "secrets":
                continue
            if "." in chain.path and not chain.dynamic:
                continue  # secrets.NAME or secrets['NAME']: one secret
            start, end = chain.root.start, chain.node.end
            shown = site.node.value[start:end]
            how = "computes which secret to read at run time" if chain.dynamic else "passes every secret"
            yield doc.finding(ID, f'"{shown}" {how}, so the runner gives this job all the secrets the workflow '
                                  "can read; name each secret the step needs (secrets.NAME)",
                              locate(doc, site.node, start, end), SEVERITY)
