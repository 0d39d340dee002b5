"""``ci-tools policy BASE [HEAD]``: what a pull request changes in the policy of the gates that check it.

Each change HEAD makes since its merge base with BASE is a note (``policy-change``) at the place
it is written: keys of the ci-tools configuration set, changed or removed (``.github/ci-tools.toml``
or ``[tool.ci-tools]`` in ``pyproject.toml``), the detect-secrets baseline's plugins, filters and
newly accepted secrets, and each ``# ci-tools: ignore[...]`` or ``pragma: allowlist secret`` comment
on an added line. The gates read their policy from the pull request (``check``) or from its base
(``secrets``); either way a reviewer should see the change before approving: the actions print the
notes as annotations and list them in the job summary.

Notes inform, they are no problem of the pull request: the exit code is 0 unless ``--fail-level
note``. The configuration of the pull request is not applied to these notes.
"""

from __future__ import annotations

import argparse

NAME = "policy"
HELP = "list what a pull request (BASE...HEAD) changes in the gates' policy: configuration, baseline, ignores"
CHECK_ID = "policy-change"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ci_tools.commands._common import add_common_arguments

    parser.add_argument("base", metavar="BASE", help="the pull request's base (branch or commit)")
    parser.add_argument("head", nargs="?", default="HEAD", metavar="HEAD", help="its head (default: HEAD)")
    add_common_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ci_tools.commands._common import emit, known_ids
    from ci_tools.core.findings import Finding, Location, Severity
    from ci_tools.core.git import GitError, verify_revision
    from ci_tools.core.output.summary import append_summary
    from ci_tools.errors import FatalError
    from ci_tools.gha.discovery import find_root
    from ci_tools.hygiene import policy

    # the repository root only: no configuration is applied to these notes (an unreadable one is itself
    # a change to report, not a reason to stop)
    root = (args.root or find_root(Path.cwd())).resolve()
    try:
        verify_revision(args.base, root)
        head = verify_revision(args.head, root)
        changes = policy.changes(root, args.base, head, known_ids=known_ids())
    except GitError as exc:
        raise FatalError(str(exc)) from None
    findings = [Finding(CHECK_ID, Severity.NOTE, c.message, Location(c.path, c.line, c.col, c.line, c.end_col))
                for c in changes]
    done = (f"{len(findings)} change{'s' * (len(findings) != 1)} to the gates' policy" if findings else
            "no change to the gates' policy (ci-tools configuration, secrets baseline, ignore and allowlist comments)")
    if args.summary:
        append_summary(args.summary, "Policy changes", findings, ok_text=done,
                               extra="A reviewer should confirm each change before approving." if findings else "")
    return emit(findings, args, (), extra={"changes": len(findings)}, extra_text=done, github_notice=False)
