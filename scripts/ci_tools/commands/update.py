"""``ci-tools update``: move pins to the newest stable release.

For every remote ``uses:`` whose version (the exact-tag comment of a pin, or the ref itself) is a
semantic version, the repository's releases are read (all pages); drafts and prereleases are
skipped, and so are releases published less than ``--min-age`` days ago (``published_at`` is set by
the server, unlike commit dates, which authors can back-date). The newest within ``--within``
(``major``: same major version, the default; ``minor``; ``any``) wins, and the line becomes
``@<commit> # <tag>``. Prints ``old -> new`` with compare links (``--format json``: a versioned
document). Exit 0 when nothing needed moving, 1 when files were changed (``--diff``: would be) or a
ref could not be updated, 2 usage error, 3 when resolution failed (nothing written).
"""

from __future__ import annotations

import argparse

NAME = "update"
HELP = "move pinned actions to their newest stable release (same major version by default)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ci_tools.commands import _pin as _pincommon
    from ci_tools.commands._common import add_output_arguments

    parser.epilog = _pincommon.FIXING_EXIT.format(dry="with --diff")
    _pincommon.add_file_arguments(parser)
    add_output_arguments(parser)
    parser.add_argument("--within", choices=("major", "minor", "any"), default=None,
                        help="how far a pin may move (default: [tool.ci-tools.pin] update.within, else major, "
                             "i.e. v4.1.0 -> v4.x.y)")
    parser.add_argument("--min-age", type=float, default=None, metavar="DAYS",
                        help="skip releases published less than DAYS days ago (cooldown; default: "
                             "[tool.ci-tools.pin] update.min-age, else 0)")
    parser.add_argument("--only", action="append", default=[], metavar="OWNER/REPO",
                        help="update only this repository (repeatable)")
    parser.add_argument("--diff", action="store_true", help="print a unified diff and write nothing")
    _pincommon.add_resolution_arguments(parser)


def run(args: argparse.Namespace) -> int:
    import os
    import sys

    from ci_tools.commands import _pin as _pincommon
    from ci_tools.core.fsutil import WriteError
    from ci_tools.errors import FatalError, UsageError
    from ci_tools.gha import resolve
    from ci_tools.pin import update
    from ci_tools.pin.rewrite import write

    if args.min_age is not None and args.min_age < 0:
        raise UsageError("--min-age must not be negative")
    only = {o.lower() for o in args.only}
    for name in only:
        if name.count("/") != 1:
            raise UsageError(f'--only "{name}" is not owner/repo')
    root, config, docs = _pincommon.load(args)
    if args.min_age and args.via == "git":
        raise UsageError("--min-age needs release dates, which only --via api has")
    options = update.UpdateOptions(within=args.within, min_age=args.min_age, only=only, jobs=args.jobs,
                                   server=os.environ.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/"))
    resolver = _pincommon.resolver(args, refresh=True)  # it writes new pins: never from cached tags or releases
    try:
        planned = update.plan_updates(docs, config, resolver, options)
    except resolve.ResolveError as exc:
        raise FatalError(f"{exc}; no file was changed") from None
    finally:
        resolver.close()
    findings = [f for d in docs for f in d.findings] + planned.findings
    changes = planned.plan.changes
    for note in planned.cooled:
        _pincommon.note(note)
    try:
        changed = write(docs, planned.plan, diff=args.diff, out=sys.stdout if args.format != "json" else sys.stderr)
    except WriteError as exc:
        raise FatalError(str(exc)) from None
    if args.format == "json":  # the one emit: redacted, and the exit code of the findings
        code = _pincommon.finish(findings, args, docs, config, extra={"updates": changes})
        return max(code, 1 if changed else 0)
    for change in changes:
        (sys.stderr if args.diff else sys.stdout).write(update.change_line(change))
    if not args.diff:
        _pincommon.note(f"updated {len(changes)} reference{'s' * (len(changes) != 1)} in "
                        f"{len(changed)} file{'s' * (len(changed) != 1)}")
    code = _pincommon.finish(findings, args, docs, config, to_stderr=True) if findings else 0
    return max(code, 1 if changed else 0)  # a fixing command exits 1 when it changed files (STYLE.md)
