"""`archived-uses`: no action or reusable workflow comes from an archived repository.

An archived repository is read-only: its action gets no fixes, no security updates, no move to a
supported Node runtime, and the vulnerabilities of the dependencies it bundles stay in it for good.
The list is ``ci_tools/gha/data/archived-actions.json`` (its source and date are in the file and in
docs/checks.md); ``checks.archived-uses.extra`` in the configuration adds repositories. Every
remote ``uses:`` is matched by ``owner/repo`` without regard to case (subpath actions and reusable
workflows included), and reported at the ``uses:`` value with a replacement where one is known.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from importlib import resources

from ci_tools.core.findings import Finding, Severity
from ci_tools.gha.source import Document, iter_uses
from ci_tools.gha.uses import REMOTE, parse_uses

ID = "archived-uses"
SUMMARY = "no action or reusable workflow comes from an archived (unmaintained) repository"
SEVERITY = Severity.WARNING
APPLIES_TO = {"workflow", "template", "action"}

DATA = "data/archived-actions.json"


@cache
def archived() -> dict[str, str | None]:
    """``owner/repo`` (lower case) -> the suggested replacement, or None."""
    data = json.loads(resources.files("ci_tools.gha").joinpath(DATA).read_text("utf-8"))
    return {e["repository"].lower(): e.get("replacement") for e in data["entries"]}


def check(doc: Document, ctx) -> Iterator[Finding]:
    if doc.root is None:
        return
    table = archived()
    extra = {name.lower() for name in ctx.config.check(ID).options.get("extra", ())} if ctx is not None else set()
    for site in iter_uses(doc):
        head = site.value.split("@", 1)[0].lower().split("/")
        if len(head) < 2 or f"{head[0].strip()}/{head[1]}" not in table and f"{head[0].strip()}/{head[1]}" not in extra:
            continue  # the cheap test first: most uses are of no archived repository
        ref = parse_uses(site.value)
        if ref.kind != REMOTE:
            continue
        name = ref.repository.lower()
        if name not in table and name not in extra:
            continue
        replacement = table.get(name)
        advice = f'; use {replacement} instead' if replacement else "; remove it or move to a maintained alternative"
        yield doc.finding(ID, f'"{ref.repository}" is archived: its action gets no fixes or security updates{advice}',
                          site.node, SEVERITY)
