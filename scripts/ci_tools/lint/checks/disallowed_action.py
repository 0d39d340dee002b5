"""`disallowed-action`: actions come from an allowed owner.

With ``allowed-owners`` set in the configuration, every remote ``uses:`` (actions and reusable
workflows) must come from one of those owners; owners compare case-insensitively. An entry with a
slash (``"some-owner/one-action"``) allows that one repository. The organisation itself (the owner
of ``repository`` and the ``organisation-owners``) is always allowed. Without ``allowed-owners``
the check allows everything. Local (``./``, ``$/``) and ``docker://`` references are not actions
of an owner and are not checked.
"""

from __future__ import annotations

from collections.abc import Iterator

from ci_tools.core.findings import Finding, Severity
from ci_tools.gha.source import Document, iter_uses
from ci_tools.gha.uses import REMOTE, parse_uses

ID = "disallowed-action"
SUMMARY = "actions come from an allowed owner"
SEVERITY = Severity.ERROR
APPLIES_TO = {"workflow", "template", "action"}


def check(doc: Document, ctx) -> Iterator[Finding]:
    config = ctx.config
    if doc.root is None or config.allowed_owners is None:
        return
    owners = {o.lower() for o in config.allowed_owners if "/" not in o}
    owners |= {o.lower() for o in config.organisation_owners}
    if config.owner:
        owners.add(config.owner.lower())
    repositories = {o.lower() for o in config.allowed_owners if "/" in o}
    for site in iter_uses(doc):
        ref = parse_uses(site.value)
        if ref.kind != REMOTE:
            continue
        if ref.owner.lower() in owners or ref.repository.lower() in repositories:
            continue
        yield doc.finding(ID, f'"{ref.action}" comes from "{ref.owner}", which is not an allowed owner; use an action '
                              f'of an allowed owner, or add "{ref.owner}" to "allowed-owners" once it is reviewed',
                          site.node, SEVERITY)
