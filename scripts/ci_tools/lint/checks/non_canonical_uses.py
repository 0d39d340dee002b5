"""`non-canonical-uses`: remote references are written the one way GitHub documents.

GitHub runs ``tj-actions/changed-files/@v45``, ``actions//checkout@v4``, ``actions\\checkout@v4``,
``actions/checkout/.@<sha>``, ``owner/repo/x/../path@ref`` and ``" actions/checkout@v4"`` as
``owner/repo[/path]@ref`` (:mod:`ci_tools.gha.uses` shows how its parser reads them). Every check of this
tool reads the normalised reference, but other tools, code owners' review and a plain search for
``actions/checkout@`` see the spelling: such spellings are how a reference slips past pattern
matching. Reported at the value, with the canonical spelling; ``ci-tools pin`` writes it. Letter case
of owner and repository is not reported (GitHub's names are case-insensitive).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from ci_tools.core.findings import Finding, Severity
from ci_tools.gha.source import Document, ScalarNode
from ci_tools.gha.uses import REMOTE, parse_uses
from ci_tools.lint.checks.malformed_uses import each_site

ID = "non-canonical-uses"
SUMMARY = "remote uses: references are spelled owner/repo[/path]@ref, without extra slashes, dots or spaces"
SEVERITY = Severity.WARNING
APPLIES_TO = {"workflow", "template", "action"}


class Spelled(Protocol):
    """What :func:`site_finding` reads of a ``uses:`` value: a :class:`~ci_tools.gha.source.UsesSite`,
    or ``ci-tools pin``'s own view of one."""

    @property
    def node(self) -> ScalarNode: ...

    @property
    def value(self) -> str: ...


def site_finding(doc: Document, site: Spelled) -> Finding | None:
    """The finding for one ``uses:`` site, or None when it is spelled canonically (or is not remote)."""
    ref = parse_uses(site.value)
    if ref.kind != REMOTE or not ref.spelling_issues:
        return None
    return doc.finding(ID, f'"{site.value}" is a non-canonical spelling ({", ".join(ref.spelling_issues)}) of '
                           f'"{ref.canonical}", which is what GitHub runs; other tools and reviewers may not recognise '
                           "it, so write it that way (`ci-tools pin` rewrites it)",
                       site.node, SEVERITY)


def check(doc: Document, ctx) -> Iterator[Finding]:
    return each_site(doc, site_finding)
