"""`secrets-inherit`: reusable workflow calls pass secrets explicitly, not with ``secrets: inherit``.

``secrets: inherit`` hands every secret the calling workflow can read (repository, environment
and organisation secrets) to the called workflow and every action it runs, whether it needs them or
not. Naming the secrets keeps the blast radius of a compromised action to what it was given, and
shows reviewers what crosses the boundary.
"""

from __future__ import annotations

from collections.abc import Iterator

from ci_tools.core.findings import Finding, Severity
from ci_tools.gha.source import Document, ScalarNode, iter_jobs, mapping_get, scalar_text

ID = "secrets-inherit"
SUMMARY = "reusable workflow calls pass secrets explicitly, not with secrets: inherit"
SEVERITY = Severity.ERROR
APPLIES_TO = {"workflow", "template"}


def check(doc: Document, ctx) -> Iterator[Finding]:
    if doc.root is None:
        return
    for job_id, _, job in iter_jobs(doc):
        secrets = mapping_get(job, "secrets")
        if isinstance(secrets, ScalarNode) and secrets.value == "inherit":
            callee = scalar_text(mapping_get(job, "uses")) or "the called workflow"
            yield doc.finding(ID, f'job "{job_id}" passes every secret to "{callee}" with "secrets: inherit"; '
                                  "name the secrets it needs under \"secrets:\"", secrets, SEVERITY)
