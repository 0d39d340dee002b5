"""`excessive-permissions`: permissions are declared and least-privilege.

Without ``permissions:`` a job's ``GITHUB_TOKEN`` gets the repository's default, which in many
organisations (and in every repository created before February 2023) can write almost everything.
Reported:

- a workflow with no top-level ``permissions:``; a reusable workflow (``on: workflow_call``) may
  instead declare ``permissions:`` on every job, since its callers' token is cut down to that;
- ``write-all`` anywhere;
- ``read-all`` anywhere, as a warning: it also reads packages, security events and deployments,
  and it hides what the workflow really needs;
- a write scope (``contents: write``, ``id-token: write``, ...) at the top level while a job takes
  it from there: every job, including the ones added later, then holds that write access. Write
  scopes belong to the job that needs them. A top-level grant that every job overrides is unused
  and not reported.
"""

from __future__ import annotations

from collections.abc import Iterator

from ci_tools.core.findings import Finding, Severity
from ci_tools.gha.source import Document, ScalarNode, iter_jobs, mapping_items, mapping_pair, on_events

ID = "excessive-permissions"
SUMMARY = "permissions are declared and least-privilege"
SEVERITY = Severity.ERROR
APPLIES_TO = {"workflow", "template"}


def check(doc: Document, ctx) -> Iterator[Finding]:
    if doc.root is None:
        return
    jobs = list(iter_jobs(doc))
    top = mapping_pair(doc.root, "permissions")
    reusable = "workflow_call" in on_events(doc)
    bare_jobs = [(job_id, key) for job_id, key, job in jobs if mapping_pair(job, "permissions") is None]
    if top is None:
        jobs_key = mapping_pair(doc.root, "jobs")
        if not reusable:
            yield doc.finding(ID, 'the workflow has no top-level "permissions:", so its jobs get the default token '
                                  'permissions of the repository; add "permissions: {}" or "contents: read" at the '
                                  "top and grant more to the jobs that need it",
                              jobs_key[0] if jobs_key else doc.root, SEVERITY)
        else:
            for job_id, key in bare_jobs:
                yield doc.finding(ID, f'job "{job_id}" has no "permissions:" and the reusable workflow has none at the '
                                      "top, so it gets all the permissions its caller has; add \"permissions:\" to "
                                      "the job or at the top", key, SEVERITY)
    else:
        yield from _value(doc, top[1], "the workflow")
        if bare_jobs:
            for scope, value in mapping_items(top[1]):
                if isinstance(value, ScalarNode) and value.value == "write":
                    yield doc.finding(ID, f'"{scope.value}: write" is granted to every job of the workflow; grant it '
                                          "in the job that needs it and keep the top level read-only", scope, SEVERITY)
    for job_id, _, job in jobs:
        pair = mapping_pair(job, "permissions")
        if pair is not None:
            yield from _value(doc, pair[1], f'job "{job_id}"')


def _value(doc: Document, node, owner: str) -> Iterator[Finding]:
    if not isinstance(node, ScalarNode):
        return
    if node.value == "write-all":
        yield doc.finding(ID, f'"write-all" lets every step of {owner} write to every scope of the repository; '
                              'list the scopes it needs, like "contents: write"', node, SEVERITY)
    elif node.value == "read-all":
        yield doc.finding(ID, f'"read-all" lets {owner} read every scope, packages and security events included; '
                              'list the scopes it needs, like "contents: read"', node, Severity.WARNING)
