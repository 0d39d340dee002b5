"""``ci-tools secrets BASE [HEAD]``: secrets on the lines a pull request adds, found by detect-secrets.

Only lines HEAD adds since its merge base with BASE are reported (``git diff BASE...HEAD``), with
file, line and the secret's type; the value itself is never printed in any format. Every added line
is scanned whatever the encoding of its file (see :mod:`ci_tools.hygiene.added_text`); true binaries, and
files detect-secrets' file-name filters exclude, are named as not scanned, and the count says how
many lines in how many files were. On a terminal a counter shows the lines scanned so far. Secrets already
in the baseline (``.secrets.baseline`` as of HEAD, or ``--baseline FILE``) and lines marked
``pragma: allowlist secret`` are accepted, as with detect-secrets' own hook. Since the pull
request can edit the baseline too, each entry it adds there is reported as a note, so that the
reviewer sees which secrets the pull request asks to accept.

What decides how the scan runs is read from the merge base, not from the pull request: the
configuration (``[tool.ci-tools.secrets]``: ``baseline``, the file name, default
``.secrets.baseline``; ``exclude``, glob patterns of paths not scanned; and
``[tool.ci-tools.checks.secret]``) and the baseline's plugins and filters. A pull request that
changes them is told so in a note, and its change applies once it is merged. ``--config FILE``
names a configuration to use as it is.
"""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "secrets"
HELP = "scan the lines a pull request adds (BASE...HEAD) for secrets with detect-secrets"
CHECK_ID = "secret"  # ci_tools.hygiene.secrets_report.CHECK_ID


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ci_tools.commands._common import add_common_arguments

    parser.add_argument("base", metavar="BASE", help="the pull request's base (branch or commit)")
    parser.add_argument("head", nargs="?", default="HEAD", metavar="HEAD", help="its head (default: HEAD)")
    parser.add_argument("--baseline", type=Path, metavar="FILE",
                        help="detect-secrets baseline on disk (default: .secrets.baseline as of HEAD, if any)")
    parser.add_argument("--no-baseline", action="store_true", help="report every secret, baseline or not")
    add_common_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from ci_tools.commands._common import emit, finalize, known_ids, load_settings
    from ci_tools.core.config import ConfigError, load_config_at
    from ci_tools.core.findings import Finding
    from ci_tools.core.git import GitError, merge_base, verify_revision
    from ci_tools.core.output.summary import append_summary
    from ci_tools.errors import FatalError, UsageError
    from ci_tools.hygiene import secrets as secrets_scan
    from ci_tools.hygiene import secrets_report

    root, config = load_settings(args)
    if args.baseline is not None and args.no_baseline:
        raise UsageError("--baseline and --no-baseline exclude each other")
    notes: list[Finding] = []
    try:
        verify_revision(args.base, root)
        head = verify_revision(args.head, root)
        if args.config is None:
            base_sha = merge_base(root, args.base, head)
            try:
                config, at_head = (load_config_at(root, base_sha, known_ids=known_ids()),
                                   load_config_at(root, head, known_ids=known_ids()))
            except ConfigError as exc:
                raise FatalError(str(exc)) from None
            notes += filter(None, [secrets_report.config_note(root, config, at_head, base_sha)])
        options = config.raw.get("secrets") or {}
        result = secrets_scan.scan_range(
            root, args.base, head, baseline_path=args.baseline,
            baseline_name=options.get("baseline", secrets_scan.DEFAULT_BASELINE),
            use_baseline=not args.no_baseline, exclude=list(options.get("exclude") or []))
    except (GitError, secrets_scan.BaselineError) as exc:
        raise FatalError(str(exc)) from None
    notes += filter(None, [secrets_report.settings_note(result, args.baseline is not None)])
    # no sources: ignore comments need a file's text, and detect-secrets passes over their lines anyway;
    # the notes are about the configuration itself, which must not silence them
    findings = finalize(secrets_report.findings(result), config, alarms=notes)
    scanned, baseline = result.scanned, result.baseline
    done = secrets_report.scanned_text(scanned, baseline)
    if args.summary:
        # no source lines: the line holds the secret
        append_summary(args.summary, "Secrets", findings, ok_text=f"no secret found; {done}",
                       extra=done if findings else "")
    return emit(findings, args, (), extra={"scanned": {"files": scanned.files, "lines": scanned.lines,
                                                       "baseline": baseline},
                                           "not_scanned": {"binary": scanned.binary, "filtered": scanned.filtered}},
                extra_text=done, github_notice=False)
