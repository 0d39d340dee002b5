"""`missing-timeout`: every job sets ``timeout-minutes``.

A job without ``timeout-minutes`` runs for up to 360 minutes when a step hangs (a prompt waiting
for input, a deadlocked test, a network call that never returns), holding a runner and, on
self-hosted runners, the credentials on it. Jobs that call a reusable workflow (job-level
``uses:``) cannot set it; the called workflow's jobs do.
"""

from __future__ import annotations

from collections.abc import Iterator

from ci_tools.core.findings import Finding, Severity
from ci_tools.gha.source import Document, iter_jobs, mapping_pair

ID = "missing-timeout"
SUMMARY = "every job sets timeout-minutes"
SEVERITY = Severity.WARNING
APPLIES_TO = {"workflow", "template"}


def check(doc: Document, ctx) -> Iterator[Finding]:
    if doc.root is None:
        return
    for job_id, key, job in iter_jobs(doc):
        if mapping_pair(job, "uses") is None and mapping_pair(job, "timeout-minutes") is None:
            yield doc.finding(ID, f'job "{job_id}" has no "timeout-minutes", so a hung step holds the runner for '
                                  'up to 6 hours; set "timeout-minutes:" to a little more than its usual run time',
                              key, SEVERITY)
