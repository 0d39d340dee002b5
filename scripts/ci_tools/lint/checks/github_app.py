"""`github-app`: GitHub App installation tokens are scoped and revoked.

An app installation token can reach every repository the app is installed on, with every
permission the app holds. ``actions/create-github-app-token`` scopes it to the current repository
unless told otherwise, and revokes it when the job ends. Reported, at the input concerned:

- ``owner:`` without ``repositories:``: the token reaches every repository of that owner the app
  is installed on;
- ``skip-token-revoke: true``: the token stays valid for its full hour after the job, in whatever
  log, artifact or process it leaked to;
- ``tibdex/github-app-token`` without ``repositories:``: its tokens reach every repository of the
  installation (the action is archived; ``actions/create-github-app-token`` replaces it).
"""

from __future__ import annotations

from collections.abc import Iterator

from ci_tools.core.findings import Finding, Severity
from ci_tools.gha.source import Document, iter_steps, mapping_get, mapping_pair, scalar_text
from ci_tools.gha.uses import REMOTE, parse_uses

ID = "github-app"
SUMMARY = "GitHub App tokens are scoped to the repositories that need them and revoked after the job"
SEVERITY = Severity.ERROR
APPLIES_TO = {"workflow", "template", "action"}

CREATE_TOKEN = {"actions/create-github-app-token"}
ALL_REPOSITORIES_BY_DEFAULT = {"tibdex/github-app-token"}
_TRUE = {"true", "yes", "on", "1"}


def check(doc: Document, ctx) -> Iterator[Finding]:
    if doc.root is None or "app-token" not in doc.lower_text:
        return
    for step in iter_steps(doc):
        uses_node = mapping_get(step.node, "uses")
        uses = scalar_text(uses_node)
        if not uses:
            continue
        ref = parse_uses(uses)
        if ref.kind != REMOTE:
            continue
        action = ref.action.lower()
        with_ = mapping_get(step.node, "with")
        repositories = scalar_text(mapping_get(with_, "repositories"))
        if action in CREATE_TOKEN:
            owner = mapping_pair(with_, "owner")
            if owner is not None and not (repositories or "").strip():
                yield doc.finding(ID, f'"{ref.action}" with "owner:" and no "repositories:" makes a token for every '
                                      "repository of that owner the app is installed on; list the repositories the "
                                      'job needs under "repositories:"', owner[0], SEVERITY)
            skip = mapping_pair(with_, "skip-token-revoke")
            if skip is not None and (scalar_text(skip[1]) or "").strip().lower() in _TRUE:
                yield doc.finding(ID, '"skip-token-revoke: true" leaves the app token valid for an hour after the '
                                      "job, wherever it leaked to; remove it so the token is revoked when the job "
                                      "ends", skip[1], SEVERITY)
        elif action in ALL_REPOSITORIES_BY_DEFAULT and not (repositories or "").strip():
            yield doc.finding(ID, f'"{ref.action}" without "repositories:" makes a token for every repository of the '
                                  'installation; use "actions/create-github-app-token", which scopes it to this '
                                  'repository, or list the repositories under "repositories:"', uses_node, SEVERITY)
