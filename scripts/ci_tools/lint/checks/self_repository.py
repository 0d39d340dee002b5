"""`self-repository`: this repository's own actions are reached as ``$/actions/<name>``.

Inside this repository (``repository = "org/ci"`` in the configuration), a workflow or composite
action that reaches one of the repository's own actions must name it ``$/actions/<name>``: the
action at the very commit that runs the workflow, with no checkout needed. Two other spellings are
reported:

- ``org/ci/actions/<name>@ref`` runs the action at another commit (often an old or moving one), so
  a change to a workflow and to the action it calls cannot be tested together;
- ``./actions/<name>`` is resolved in the workspace, which holds whatever the job checked out: in a
  reusable workflow called from a service repository that is the *caller's* repository.

Reusable workflows of this repository may be called as ``$/.github/workflows/<file>`` or as
``./.github/workflows/<file>``: for a job-level ``uses:`` GitHub resolves ``./`` to the caller's own
commit, not to the workspace, so both are exact. ``org/ci/.github/workflows/<file>@ref`` is
reported with ``$/.github/workflows/<file>`` as the replacement, the form this repository uses.

Starter workflows (``workflow-templates/``) are copied into other repositories, where ``$/`` and
``./`` mean *that* repository: they must call ``org/ci/...@<sha>``, so the check skips them.
"""

from __future__ import annotations

from collections.abc import Iterator

from ci_tools.core.findings import Finding, Severity
from ci_tools.gha.source import Document, is_within, iter_uses
from ci_tools.gha.uses import LOCAL, REMOTE, UsesRef, parse_uses

ID = "self-repository"
SUMMARY = "this repository's own actions are reached as $/actions/<name>"
SEVERITY = Severity.ERROR
APPLIES_TO = {"workflow", "action"}


def applies(doc: Document, ctx) -> bool:
    """The document belongs to the configured repository and is not a starter workflow."""
    return bool(ctx.config.repository) and doc.kind in APPLIES_TO and is_within(doc.path, ctx.root)


def reaches_self(doc: Document, ctx, ref: UsesRef) -> bool:
    """``ref`` names this repository by ``owner/repo`` from a document of this repository."""
    return ref.kind == REMOTE and ref.repository.lower() == (ctx.config.repository or "").lower() \
        and applies(doc, ctx)


def check(doc: Document, ctx) -> Iterator[Finding]:
    if doc.root is None or not applies(doc, ctx):
        return
    for site in iter_uses(doc):
        ref = parse_uses(site.value)
        if ref.kind == REMOTE and reaches_self(doc, ctx, ref):
            target = f"$/{ref.path}" if ref.path else "$/"
            what = "reusable workflow" if ref.is_reusable_workflow else "action"
            yield doc.finding(ID, f'"{site.value}" runs this repository\'s own {what} at "{ref.ref}", not at the '
                                  f'commit that runs this file; use "{target}"', site.node, SEVERITY)
        elif ref.kind == LOCAL and site.where == "step":
            yield doc.finding(ID, f'"{site.value}" is looked up in the job\'s checkout, which in a caller\'s '
                                  f'run is the caller\'s repository; use "$/{ref.path}"', site.node, SEVERITY)
