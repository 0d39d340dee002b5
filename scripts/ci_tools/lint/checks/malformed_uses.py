"""`malformed-uses`: every ``uses:`` value is one GitHub can run.

A value that is not ``./path``, ``$/path``, ``docker://image`` or ``owner/repo[/path]@ref`` in a form
GitHub's workflow parser accepts (:mod:`ci_tools.gha.uses` says which) is reported at its position: no
ref (``actions/checkout``, ``actions/checkout@``), no owner or repository (``@v4``, ``actions@v4``),
more than one ``@``, a ref that no git repository can have (``@v4 extra``), a path that leaves the
repository with ``..``, a bare ``docker://``, an empty value. Such a value passes no other check
(none of them can tell what it names), so it is an error of its own; ``verify`` and ``pin`` report it
too and never rewrite it. A ``uses:`` built by an expression is left to ``unpinned-uses``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from ci_tools.core.findings import Finding, Severity
from ci_tools.gha.source import Document, UsesSite, iter_uses
from ci_tools.gha.uses import INVALID, parse_uses

ID = "malformed-uses"
SUMMARY = "every uses: value is a local path, a docker:// image or owner/repo[/path]@ref that GitHub can run"
SEVERITY = Severity.ERROR
APPLIES_TO = {"workflow", "template", "action"}


def site_finding(doc: Document, site: UsesSite) -> Finding | None:
    """The finding for one ``uses:`` site, or None when its value is well-formed."""
    ref = parse_uses(site.value)
    if ref.kind != INVALID:
        return None
    return doc.finding(ID, f'"{site.value}" is not a uses: value GitHub can run: {ref.problem}', site.node, SEVERITY)


def each_site(doc: Document, judge: Callable[[Document, UsesSite], Finding | None]) -> Iterator[Finding]:
    """What ``judge`` finds at each ``uses:`` site of ``doc`` (this check's and non-canonical-uses' loop)."""
    if doc.root is None:
        return
    for site in iter_uses(doc):
        found = judge(doc, site)
        if found is not None:
            yield found


def check(doc: Document, ctx) -> Iterator[Finding]:
    return each_site(doc, site_finding)
